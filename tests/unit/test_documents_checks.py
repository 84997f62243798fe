"""Upload checks: every refusal code with a real hostile file, and the files we take."""

from __future__ import annotations

import io
import time

import pikepdf
import pypdfium2
import pytest
from PIL import Image
from sample_files import (
    edited_pdf,
    encrypted_pdf,
    image,
    js_action,
    many_pages_pdf,
    pdf,
    png_header_only,
    video,
)

from visavis.documents.checks import CheckedUpload, PageSize, UploadLimits, check_upload
from visavis.errors import VisavisError

LIMITS = UploadLimits()


def refused(data: bytes, limits: UploadLimits = LIMITS, allow_video: bool = False) -> str:
    with pytest.raises(VisavisError) as info:
        check_upload(data, limits, allow_video)
    assert info.value.message
    return info.value.code


# ------------------------------------------------------------------ good files
def test_a_pdf_passes_unchanged_with_its_page_sizes() -> None:
    data = pdf(pages=3)
    checked = check_upload(data, LIMITS)
    assert checked == CheckedUpload("pdf", "application/pdf", [PageSize(595.28, 841.89)] * 3, data)


def test_a_rotated_page_reports_its_displayed_size() -> None:
    def rotate(doc: pikepdf.Pdf) -> None:
        doc.pages[0].obj.Rotate = 90

    checked = check_upload(edited_pdf(rotate), LIMITS)
    assert checked.pages == [PageSize(841.89, 595.28)]


def test_a_harmless_open_action_and_page_actions_pass() -> None:
    """Jumping to a page on open is everyday PDF; only scripts and launches are refused."""

    def go_to(doc: pikepdf.Pdf) -> None:
        goto = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[doc.pages[0].obj, pikepdf.Name.Fit])
        doc.Root.OpenAction = goto
        doc.pages[0].obj.AA = pikepdf.Dictionary(O=goto)

    assert check_upload(edited_pdf(go_to), LIMITS).kind == "pdf"


def test_a_png_is_re_encoded_keeping_transparency() -> None:
    data = image("PNG", (30, 10), mode="RGBA", pnginfo=_png_text("Author", "Jane Doe"))
    checked = check_upload(data, LIMITS)
    assert (checked.kind, checked.mime, checked.pages) == ("image", "image/png", [PageSize(30, 10)])
    assert checked.data != data and b"Jane Doe" not in checked.data
    with Image.open(io.BytesIO(checked.data)) as img:
        assert (img.format, img.mode, img.size) == ("PNG", "RGBA", (30, 10))


def test_a_jpeg_is_turned_upright_and_loses_its_metadata() -> None:
    """EXIF orientation 6: the camera held sideways; the stored pixels are upright and
    no EXIF (with its GPS position) is left."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # Make
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    data = image("JPEG", (40, 20), exif=exif.tobytes(), quality=95)
    assert b"SecretCam" in data

    checked = check_upload(data, LIMITS)
    assert (checked.mime, checked.pages) == ("image/jpeg", [PageSize(20, 40)])
    assert b"SecretCam" not in checked.data and b"Exif" not in checked.data
    with Image.open(io.BytesIO(checked.data)) as img:
        assert img.size == (20, 40) and not img.getexif()
        top, bottom = img.convert("RGB").getpixel((10, 5)), img.convert("RGB").getpixel((10, 35))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 > top[2], top  # the left (red) half is now on top
    assert bottom[2] > 200 > bottom[0], bottom


@pytest.mark.parametrize(
    ("container", "codec", "mime"),
    [("mp4", "libx264", "video/mp4"), ("webm", "libvpx", "video/webm")],
)
def test_videos_pass_where_allowed(container: str, codec: str, mime: str) -> None:
    data = video(container, codec)
    assert check_upload(data, LIMITS, allow_video=True) == CheckedUpload("video", mime, [], data)
    assert refused(data) == "video_type"


# ------------------------------------------------------------------ size and type
def test_empty_and_too_large() -> None:
    assert refused(b"") == "upload_empty"
    data = pdf()
    assert refused(data, UploadLimits(max_bytes=len(data) - 1)) == "upload_too_large"
    assert check_upload(data, UploadLimits(max_bytes=len(data))).kind == "pdf"


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"PK\x03\x04" + b"\x00" * 40,  # a zip (docx, xlsx)
        b"just some text",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",  # HEIF still image
        b"  %PDF-1.7\n",  # PDFium would look past the blanks; we do not
    ],
)
def test_other_types_are_refused(data: bytes) -> None:
    assert refused(data, allow_video=True) == "upload_type"


def test_svg_is_refused() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert refused(svg) == "upload_type"
    assert refused(b'<?xml version="1.0"?>\n' + svg) == "upload_type"


def test_html_pdf_polyglots_are_refused() -> None:
    """An HTML page in front of a PDF still opens in PDFium (it looks for `%PDF-` in the
    first KiB), and one after the header is inside a valid PDF: both are refused."""
    html = b"<!DOCTYPE html><HTML><body><SCRIPT>fetch('/steal')</SCRIPT></body></HTML>\n"
    html_first = html + pdf()
    pypdfium2.PdfDocument(html_first).close()  # the premise: PDFium opens it
    assert refused(html_first) == "upload_type"

    body = pdf()
    html_inside = body[:9] + b"%" + html + body[9:]  # a comment line after the header
    pypdfium2.PdfDocument(html_inside).close()
    assert refused(html_inside) == "upload_type"


def test_a_video_browsers_cannot_play_is_refused() -> None:
    assert refused(video("mov", "libx264"), allow_video=True) == "video_type"
    matroska = video("matroska", "libvpx")
    assert refused(matroska, allow_video=True) == "video_type"


# ------------------------------------------------------------------ PDF
def test_a_pdf_with_a_user_password_is_refused() -> None:
    assert refused(encrypted_pdf(user="open-sesame", owner="owner")) == "pdf_encrypted"


def test_a_pdf_with_only_an_owner_password_is_refused() -> None:
    """It opens without a password (PDFium reads it), but it is still encrypted."""
    data = encrypted_pdf(user="", owner="owner")
    doc = pypdfium2.PdfDocument(data)
    assert len(doc) == 1
    doc.close()
    assert refused(data) == "pdf_encrypted"


def test_garbage_after_a_pdf_header_is_malformed() -> None:
    assert refused(b"%PDF-1.7\n" + bytes(range(256)) * 8) == "pdf_malformed"
    assert refused(pdf()[:200]) == "pdf_malformed"  # truncated


def test_javascript_on_open_is_refused() -> None:
    def on_open(doc: pikepdf.Pdf) -> None:
        doc.Root.OpenAction = js_action()

    assert refused(edited_pdf(on_open)) == "pdf_active_content"


def test_javascript_in_a_page_action_is_refused() -> None:
    def on_page_open(doc: pikepdf.Pdf) -> None:
        doc.pages[0].obj.AA = pikepdf.Dictionary(O=js_action())

    assert refused(edited_pdf(on_page_open)) == "pdf_active_content"


def test_document_javascript_in_the_names_tree_is_refused() -> None:
    def named_script(doc: pikepdf.Pdf) -> None:
        script = doc.make_indirect(js_action())
        doc.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("init"), script])
        )

    assert refused(edited_pdf(named_script)) == "pdf_active_content"


def test_a_launch_action_is_refused() -> None:
    def launch(doc: pikepdf.Pdf) -> None:
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[0, 0, 100, 100],
            A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")),
        )
        doc.pages[0].obj.Annots = doc.make_indirect(pikepdf.Array([doc.make_indirect(link)]))

    assert refused(edited_pdf(launch)) == "pdf_active_content"


def test_too_many_pages_is_refused_before_the_pages_are_read() -> None:
    assert refused(pdf(pages=4), UploadLimits(max_pages=3)) == "pdf_too_many_pages"
    assert check_upload(pdf(pages=3), UploadLimits(max_pages=3)).kind == "pdf"

    data = many_pages_pdf(200_001)
    assert check_upload(many_pages_pdf(200), LIMITS).pages == [PageSize(595, 842)] * 200
    started = time.perf_counter()
    with pytest.raises(VisavisError) as info:
        check_upload(data, LIMITS)
    assert info.value.code == "pdf_too_many_pages" and "200001 pages" in info.value.message
    assert time.perf_counter() - started < 2.0  # a count, not a read of 200,001 pages


@pytest.mark.parametrize(
    "size",
    [(6000, 6000), (5001, 100), (0.5, 400), (100, 2100), (3000, 140)],
    ids=["huge", "one-side-too-long", "too-small", "too-tall", "too-wide"],
)
def test_page_sizes_out_of_bounds_are_refused(size: tuple[float, float]) -> None:
    assert refused(pdf(size=size)) == "pdf_page_size"


def test_a_bad_page_among_good_ones_is_named() -> None:
    def add_huge_page(doc: pikepdf.Pdf) -> None:
        doc.add_blank_page(page_size=(10_000, 800))

    with pytest.raises(VisavisError) as info:
        check_upload(edited_pdf(add_huge_page, pdf(pages=2)), LIMITS)
    assert info.value.code == "pdf_page_size" and "page 3 " in info.value.message


# ------------------------------------------------------------------ images
def test_a_png_bomb_is_refused_from_its_header() -> None:
    """100,000 x 100,000 pixels would be 30 GB decoded: Pillow's own bomb error."""
    assert refused(png_header_only(100_000, 100_000)) == "image_too_large"


def test_an_image_over_our_pixel_limit_is_refused() -> None:
    """64 Mpx is under Pillow's warning (89 Mpx) and over our 40 Mpx."""
    assert refused(png_header_only(8000, 8000)) == "image_too_large"
    small = UploadLimits(max_image_pixels=799)
    assert refused(image("PNG", (40, 20)), small) == "image_too_large"
    assert check_upload(image("PNG", (40, 20)), UploadLimits(max_image_pixels=800)).kind == "image"


def test_pillows_bomb_warning_is_an_error_even_when_our_limit_is_higher() -> None:
    """An operator raising the pixel limit above Pillow's still gets bombs refused."""
    limits = UploadLimits(max_image_pixels=10**12)
    assert Image.MAX_IMAGE_PIXELS is not None
    side = int((Image.MAX_IMAGE_PIXELS * 1.5) ** 0.5)  # between warning and error
    assert refused(png_header_only(side, side), limits) == "image_too_large"


def test_an_image_with_extreme_sides_is_refused() -> None:
    assert refused(image("PNG", (2100, 100))) == "image_too_large"


def test_a_truncated_jpeg_is_malformed() -> None:
    data = image("JPEG", (200, 200), quality=95)
    assert refused(data[: len(data) // 2]) == "image_malformed"


def test_a_png_with_a_broken_chunk_is_malformed() -> None:
    data = bytearray(image("PNG", (50, 50)))
    data[45] ^= 0xFF  # inside the IDAT data: its CRC no longer matches
    assert refused(bytes(data)) == "image_malformed"


def _png_text(key: str, value: str) -> object:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info
