"""PageRenderer: exact widths, JPEG, the disk cache, one render per page at a time,
PDFium only ever under its lock, images resized."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4, LETTER, landscape
from sample_files import image, pdf

from visavis.documents import pdfium
from visavis.documents.render import MAX_PIXELS, WIDTHS, PageRenderer, RenderKind, snap_width
from visavis.errors import VisavisError
from visavis.storage.files import FileStore


def size_of(jpeg: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(jpeg)) as img:
        assert img.format == "JPEG" and img.mode == "RGB"
        return img.size


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
def renderer(store: FileStore, tmp_path: Path) -> PageRenderer:
    return PageRenderer(store, tmp_path / "cache" / "pages")


class CountingRenderer(PageRenderer):
    """Counts real renders (the subclass renders exactly as PageRenderer does)."""

    renders = 0

    def _render(self, kind: RenderKind, data: bytes, page: int, width: int, path: Path) -> bytes:
        self.renders += 1
        return super()._render(kind, data, page, width, path)


def test_requested_widths_snap_up_to_the_fixed_set() -> None:
    assert [snap_width(w) for w in (1, 480, 481, 800, 1000, 1200, 1600, 5000)] == [
        480, 480, 800, 800, 1200, 1200, 1600, 1600,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "size", [A4, LETTER, landscape(A4), (595, 595)], ids=["A4", "letter", "A4-landscape", "square"]
)
async def test_pages_are_exactly_the_width_asked_for(
    store: FileStore, renderer: PageRenderer, size: tuple[float, float]
) -> None:
    digest = await store.put(pdf(pages=2, size=size))
    for width in WIDTHS:
        w, h = size_of(await renderer.page_jpeg(digest, "pdf", 1, width))
        assert w == width
        assert abs(h - width * size[1] / size[0]) <= 1


async def test_a_second_request_comes_from_the_cache(
    store: FileStore, renderer: PageRenderer, tmp_path: Path
) -> None:
    digest = await store.put(pdf(pages=2))
    first = await renderer.page_jpeg(digest, "pdf", 0, 1000)
    cached = tmp_path / "cache" / "pages" / digest[:2] / digest / "0-1200.jpg"
    assert cached.read_bytes() == first
    # without the stored file, only the cache can answer
    await store.delete(digest)
    assert await renderer.page_jpeg(digest, "pdf", 0, 1100) == first
    with pytest.raises(VisavisError) as info:
        await renderer.page_jpeg(digest, "pdf", 1, 1200)
    assert info.value.code == "file_missing"
    await renderer.forget(digest)
    assert not cached.exists()


async def test_concurrent_requests_for_one_page_render_once(
    store: FileStore, tmp_path: Path
) -> None:
    renderer = CountingRenderer(store, tmp_path / "cache")
    digest = await store.put(pdf(pages=3))
    results = await asyncio.gather(*(renderer.page_jpeg(digest, "pdf", 2, 800) for _ in range(10)))
    assert renderer.renders == 1 and len(set(results)) == 1
    other = await asyncio.gather(*(renderer.page_jpeg(digest, "pdf", p, 480) for p in (0, 1, 0, 1)))
    assert renderer.renders == 3 and other[0] == other[2] != other[1] == other[3]


async def test_a_waiter_giving_up_does_not_cancel_the_render_for_the_others(
    store: FileStore, tmp_path: Path
) -> None:
    renderer = CountingRenderer(store, tmp_path / "cache")
    digest = await store.put(pdf())
    impatient = asyncio.create_task(renderer.page_jpeg(digest, "pdf", 0, 1600))
    patient = asyncio.create_task(renderer.page_jpeg(digest, "pdf", 0, 1600))
    await asyncio.sleep(0)  # both are waiting on the one render
    impatient.cancel()
    assert size_of(await patient)[0] == 1600 and renderer.renders == 1


async def test_a_render_waits_for_the_pdfium_lock(store: FileStore, renderer: PageRenderer) -> None:
    digest = await store.put(pdf())
    with pdfium.PDFIUM_LOCK:
        task = asyncio.create_task(renderer.page_jpeg(digest, "pdf", 0, 800))
        done, _ = await asyncio.wait({task}, timeout=0.5)
        assert not done  # held here, so no render could start
    assert size_of(await task)[0] == 800


def test_threads_rendering_different_documents_get_the_same_pixels_as_one_thread() -> None:
    """PDFium is not thread-safe even across documents; with the lock, many threads
    rendering many documents at once get exactly what one thread gets."""
    docs = [pdf(pages=2, text=f"Dokument {i}") for i in range(4)]
    expected = [pdfium.render_page(d, 1, 480, MAX_PIXELS).tobytes() for d in docs]
    mismatches: list[int] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                if pdfium.render_page(docs[i], 1, 480, MAX_PIXELS).tobytes() != expected[i]:
                    mismatches.append(i)
                pdfium.read_facts(docs[i], 200)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i % 4,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and mismatches == []


async def test_a_very_tall_page_is_bounded_in_pixels(
    store: FileStore, renderer: PageRenderer
) -> None:
    digest = await store.put(pdf(size=(200, 3900)))  # 19.5:1, within the upload limits
    w, h = size_of(await renderer.page_jpeg(digest, "pdf", 0, 1600))
    assert w * h <= MAX_PIXELS and 700 < w < 800 and abs(h - w * 19.5) <= 1


async def test_pages_out_of_range_are_not_found(store: FileStore, renderer: PageRenderer) -> None:
    digest = await store.put(pdf(pages=2))
    for page in (2, -1):
        with pytest.raises(VisavisError) as info:
            await renderer.page_jpeg(digest, "pdf", page, 800)
        assert info.value.code == "not_found"
    png = await store.put(image("PNG"))
    with pytest.raises(VisavisError) as info:
        await renderer.page_jpeg(png, "image", 1, 800)
    assert info.value.code == "not_found"


async def test_images_are_resized_to_the_width_and_never_enlarged(
    store: FileStore, renderer: PageRenderer
) -> None:
    big = await store.put(image("JPEG", (3000, 2000)))
    assert size_of(await renderer.page_jpeg(big, "image", 0, 800)) == (800, 533)
    assert size_of(await renderer.page_jpeg(big, "image", 0, 1600)) == (1600, 1067)
    small = await store.put(image("PNG", (300, 200)))
    assert size_of(await renderer.page_jpeg(small, "image", 0, 800)) == (300, 200)


async def test_transparent_images_are_flattened_on_white(
    store: FileStore, renderer: PageRenderer
) -> None:
    clear = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    buf = io.BytesIO()
    clear.save(buf, "PNG")
    digest = await store.put(buf.getvalue())
    with Image.open(io.BytesIO(await renderer.page_jpeg(digest, "image", 0, 480))) as img:
        pixel = img.getpixel((50, 50))
    assert isinstance(pixel, tuple) and min(pixel) > 250  # white, not black
