"""Pages as JPEG images of a fixed set of widths, rendered once and kept on disk.

The browser shows a document as page images, never the PDF itself: no PDF viewer (and
its scripting) runs on either side, and both sides see the same pixels. A page is
rendered with PDFium (`pdfium.py`, under its lock) at one of `WIDTHS` — the requested
width snapped up, so a handful of sizes serves every screen and the cache stays
small — and encoded as JPEG q85 (PNG and WebP took 5 to 10 times longer to encode). The
result is written to `<cache_dir>/ab/<digest>/<page>-<width>.jpg`; a second request
reads the file, and concurrent requests for the same page wait for one render.
Images are resized the same way (never enlarged). Pages are numbered from 0.

A page image shows the document's content, so the cache is encrypted as the stored
files are (`FileStore.seal`, the cache path as associated data). A cached page that
no key opens any more (after `visavis keys rotate`) is rendered again; the retention
job and erasures delete a document's pages with its file.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path
from typing import Literal

from PIL import Image

from visavis.errors import VisavisError
from visavis.storage.files import FileStore, check_digest, write_atomically

WIDTHS = (480, 800, 1200, 1600)
JPEG_QUALITY = 85
# A page image never has more pixels than this (4 bytes each while rendering): a tall
# page (a receipt roll, aspect up to the upload limit of 20:1) is rendered narrower
# than asked instead of 1600 x 32000 px.
MAX_PIXELS = 10_000_000

RenderKind = Literal["pdf", "image"]


def snap_width(width: int) -> int:
    """The smallest of `WIDTHS` at least `width` wide (the largest for more)."""
    for w in WIDTHS:
        if width <= w:
            return w
    return WIDTHS[-1]


class PageRenderer:
    """Page images of stored documents, cached under `cache_dir`
    (`<data_dir>/cache/pages`). One per process: it is what makes concurrent requests
    for one page share a render."""

    def __init__(self, store: FileStore, cache_dir: Path | str, max_pixels: int = MAX_PIXELS):
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.max_pixels = max_pixels
        self._running: dict[tuple[str, int, int], asyncio.Task[bytes]] = {}

    def cache_path(self, digest: str, page: int, width: int) -> Path:
        check_digest(digest)
        return self.cache_dir / digest[:2] / digest / f"{page}-{width}.jpg"

    async def page_jpeg(self, digest: str, kind: RenderKind, page: int, width: int) -> bytes:
        """Page `page` (0-based; an image has page 0 only) as JPEG, `snap_width(width)`
        px wide. `not_found` for a page the document does not have, `file_missing` if
        the stored file is gone."""
        if kind not in ("pdf", "image"):
            raise VisavisError("bad_request", f"a {kind} has no pages; expected a PDF or image")
        if page < 0 or (kind == "image" and page != 0):
            raise VisavisError("not_found", f"no page {page} in this {kind}")
        key = (digest, page, snap_width(width))
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(self._cached_or_rendered(kind, *key))
            self._running[key] = task
            task.add_done_callback(lambda t: self._finished(key, t))
        # shield: one waiter giving up (a closed connection) does not cancel the render
        # the others wait for
        return await asyncio.shield(task)

    def _finished(self, key: tuple[str, int, int], task: asyncio.Task[bytes]) -> None:
        self._running.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone (no "never retrieved")

    async def forget(self, digest: str) -> None:
        """Drop the cached pages of a document (after its file is deleted)."""
        await forget_pages(self.cache_dir, digest)

    async def _cached_or_rendered(
        self, kind: RenderKind, digest: str, page: int, width: int
    ) -> bytes:
        path = self.cache_path(digest, page, width)
        label = page_label(path)
        cached = await asyncio.to_thread(_read_or_none, path)
        if cached is not None:
            try:
                return self.store.unseal(cached, label)
            except VisavisError:
                pass  # under a key no longer in the ring: rendered again
        data = await self.store.get(digest)
        jpeg = await asyncio.to_thread(self._render, kind, data, page, width, path)
        return jpeg

    def _render(self, kind: RenderKind, data: bytes, page: int, width: int, path: Path) -> bytes:
        if kind == "pdf":
            from visavis.documents import pdfium  # on first use: its bindings cost starts

            try:
                image = pdfium.render_page(data, page, width, self.max_pixels)
            except IndexError as exc:
                raise VisavisError("not_found", str(exc)) from None
        else:
            image = resized_image(data, width, self.max_pixels)
        jpeg = encode_jpeg(image)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.store.seal(jpeg, page_label(path)))
        return jpeg


def page_label(path: Path) -> str:
    """What a cached page is bound to when encrypted: its digest, page and width."""
    return f"page:{path.parent.name}/{path.name}"


async def forget_pages(cache_dir: Path, digest: str) -> None:
    """Drop a document's cached pages; for the retention job and erasures, which have
    no renderer of their own (pages are rendered again if the file is still there)."""
    check_digest(digest)
    await asyncio.to_thread(shutil.rmtree, Path(cache_dir) / digest[:2] / digest, True)


def resized_image(data: bytes, width: int, max_pixels: int) -> Image.Image:
    """A stored (already checked) image scaled to `width` px wide, never enlarged and
    at most `max_pixels`, as RGB on white (JPEG has no alpha)."""
    with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as img:
        w, h = img.size
        target_w = min(width, w, int((max_pixels * w / h) ** 0.5))
        target = (target_w, max(1, round(h * target_w / w)))
        # draft: a JPEG decodes at 1/2, 1/4 or 1/8 scale when that is still large enough
        img.draft("RGB", target)
        if img.mode in ("RGBA", "LA", "PA", "P"):
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
        else:
            flat = img.convert("RGB")
    if flat.size == target:
        return flat
    return flat.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def encode_jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
