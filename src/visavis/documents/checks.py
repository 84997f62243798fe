"""Is an upload a file we show to the other side? PDF, PNG, JPEG (and MP4/WebM where
videos are allowed), judged by content, never by name or the client's content type.

`check_upload` either returns a `CheckedUpload` — the bytes to store (images
re-encoded: no metadata, EXIF orientation applied) and the page sizes — or raises
`VisavisError` with one of the upload codes of docs/protocol.md. It is synchronous
and CPU-bound (PDFium, pikepdf, Pillow): call it in `asyncio.to_thread`.

Order matters for cost: size, then the first bytes, then (PDF) PDFium's page count
before anything reads every object, so a 200,000-page file is refused in
milliseconds; (images) the header's dimensions before any pixel is decoded.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from PIL import Image, ImageOps

from visavis.errors import VisavisError

if TYPE_CHECKING:
    import pikepdf

log = logging.getLogger(__name__)

Kind = Literal["pdf", "image", "video"]

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"  # EBML; WebM and Matroska share it, the DocType differs
SNIFF_BYTES = 4096
# Markup a browser (or an SVG/XML viewer) would run if the file were ever served inline
# or sniffed: refused anywhere in the first 4 KiB. PDFium skips garbage before `%PDF-`,
# and an HTML block after the header is still a valid PDF, so the offset-0 magic alone
# is not enough.
MARKUP = (b"<html", b"<svg", b"<script", b"<!doctype", b"<?xml")
# ISO base media brands (the `ftyp` box's major brand) browsers play as MP4
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"M4VP", b"dash", b"mmp4", b"MSNV", b"f4v ",
}  # fmt: skip
# ISO base media brands that are still images (HEIF, AVIF), not videos
IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
# Pillow plugins we decode with: nothing else gets to parse an upload
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be. Defaults fit office documents and phone photos."""

    max_bytes: int = 25 * 1024 * 1024
    max_pages: int = 200
    max_image_pixels: int = 40_000_000
    max_page_side_pt: float = 5000.0  # ~1.76 m; A0 is 3370 pt
    min_page_side_pt: float = 1.0
    max_aspect: float = 20.0  # longer side : shorter side, for pages and images


@dataclass(frozen=True)
class PageSize:
    """A page's displayed size: PDF points (rotation applied), or image pixels."""

    w: float
    h: float


@dataclass(frozen=True)
class CheckedUpload:
    kind: Kind
    mime: str
    pages: list[PageSize]  # one per page; one for an image; none for a video
    data: bytes  # what to store: the upload, or for images the re-encoded copy


def check_upload(data: bytes, limits: UploadLimits, allow_video: bool = False) -> CheckedUpload:
    """The upload as it is to be stored, or `VisavisError` with an upload code."""
    try:
        return _check(data, limits, allow_video)
    except VisavisError as exc:
        log.info("upload of %d bytes refused: %s: %s", len(data), exc.code, exc.message)
        raise


def _check(data: bytes, limits: UploadLimits, allow_video: bool) -> CheckedUpload:
    if not data:
        raise VisavisError("upload_empty", "the upload has no bytes; expected a file")
    if len(data) > limits.max_bytes:
        raise VisavisError(
            "upload_too_large",
            f"the upload has {len(data)} bytes; at most {limits.max_bytes} are accepted",
        )
    mime = sniff_type(data, allow_video)
    if mime == "application/pdf":
        return CheckedUpload("pdf", mime, check_pdf(data, limits), data)
    if mime.startswith("image/"):
        size, clean = check_image(data, mime, limits)
        return CheckedUpload("image", mime, [size], clean)
    return CheckedUpload("video", mime, [], data)


def sniff_type(data: bytes, allow_video: bool) -> str:
    """The MIME type by the first bytes; `upload_type` / `video_type` otherwise."""
    head = data[:SNIFF_BYTES].lower()
    for marker in MARKUP:
        if marker in head:
            raise VisavisError(
                "upload_type",
                f"the file has {marker.decode()!r} markup in its first {SNIFF_BYTES} bytes; "
                "expected a PDF, PNG or JPEG without HTML, SVG or XML",
            )
    if data.startswith(PDF_MAGIC):
        return "application/pdf"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    video = _sniff_video(data)
    if video is not None:
        if not allow_video:
            raise VisavisError(
                "video_type", "videos can be shared from the library only; expected a PDF or image"
            )
        return video
    raise VisavisError(
        "upload_type",
        "the file is not a PDF, PNG or JPEG by its content"
        + (" (nor an MP4 or WebM video)" if allow_video else ""),
    )


def _sniff_video(data: bytes) -> str | None:
    """video/mp4 or video/webm; `video_type` for a video browsers do not play; None
    for anything that is not a video at all."""
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in IMAGE_BRANDS:
            return None
        if brand in MP4_BRANDS:
            return "video/mp4"
        raise VisavisError(
            "video_type",
            f"a video of brand {brand.decode('latin-1')!r} (e.g. QuickTime); expected MP4 or WebM",
        )
    if data.startswith(WEBM_MAGIC):
        if b"webm" in data[:64]:  # the EBML header's DocType
            return "video/webm"
        raise VisavisError("video_type", "a Matroska video; expected MP4 or WebM")
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        raise VisavisError("video_type", "an AVI video; expected MP4 or WebM")
    return None


# ------------------------------------------------------------------ PDF
def check_pdf(data: bytes, limits: UploadLimits) -> list[PageSize]:
    """Page sizes of a PDF we are willing to render and pass on."""
    # on first use, as pikepdf below: PDFium's bindings cost every server start
    from visavis.documents import pdfium

    try:
        facts = pdfium.read_facts(data, limits.max_pages)
    except pdfium.PdfUnreadable as exc:
        if exc.needs_password:
            raise VisavisError(
                "pdf_encrypted", "the PDF needs a password to open; expected one without"
            ) from None
        raise VisavisError("pdf_malformed", f"the PDF cannot be read ({exc})") from None
    if facts.encrypted:
        raise VisavisError(
            "pdf_encrypted",
            "the PDF is encrypted (a password restricts it); expected one without a password",
        )
    if facts.page_count > limits.max_pages:
        raise VisavisError(
            "pdf_too_many_pages",
            f"the PDF has {facts.page_count} pages; at most {limits.max_pages} are accepted",
        )
    if facts.page_count == 0:
        raise VisavisError("pdf_malformed", "the PDF has no pages")
    pages = []
    for number, (w, h) in enumerate(facts.sizes, start=1):
        _check_page_size(number, w, h, limits)
        pages.append(PageSize(round(w, 2), round(h, 2)))
    check_pdf_passive(data)
    return pages


def _check_page_size(number: int, w: float, h: float, limits: UploadLimits) -> None:
    side_max, side_min = max(w, h), min(w, h)
    if side_min < limits.min_page_side_pt or side_max > limits.max_page_side_pt:
        raise VisavisError(
            "pdf_page_size",
            f"page {number} is {w:.0f} × {h:.0f} pt; expected sides from "
            f"{limits.min_page_side_pt:g} to {limits.max_page_side_pt:g} pt",
        )
    if side_max / side_min > limits.max_aspect:
        raise VisavisError(
            "pdf_page_size",
            f"page {number} is {w:.0f} × {h:.0f} pt; its sides may differ at most "
            f"{limits.max_aspect:g}:1",
        )


# Action types that run code or programs. PDFium (as built for pypdfium2) has no
# JavaScript engine and no launcher, so they do nothing here; but the file goes on to
# the customer's own viewer, and neither the open action nor page actions are visible
# through PDFium's API, so pikepdf walks every object instead.
ACTIVE_ACTIONS = {"/JavaScript", "/Launch"}


def check_pdf_passive(data: bytes) -> None:
    """`pdf_active_content` if any object holds JavaScript or a launch action."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise VisavisError("pdf_encrypted", "the PDF needs a password to open") from None
    except pikepdf.PdfError as exc:
        raise VisavisError("pdf_malformed", f"the PDF cannot be read ({exc})") from None
    with pdf:
        if pdf.is_encrypted:
            raise VisavisError("pdf_encrypted", "the PDF is encrypted; expected no password")
        for obj in pdf.objects:
            for found in _active(obj):
                raise VisavisError(
                    "pdf_active_content",
                    f"the PDF contains {found}; expected a document without scripts or actions "
                    "that start programs",
                )


def _active(obj: pikepdf.Object) -> Iterator[str]:
    """What in this object (and its direct sub-objects) is active content. Indirect
    references are not followed: `pdf.objects` visits every indirect object anyway."""
    import pikepdf

    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, pikepdf.Stream):
            o = o.stream_dict
        if isinstance(o, pikepdf.Dictionary):
            if "/JS" in o:
                yield "JavaScript (/JS)"
            if "/JavaScript" in o:  # the document-level /Names tree of scripts
                yield "document JavaScript (/Names /JavaScript)"
            action = o.get("/S")
            if isinstance(action, pikepdf.Name) and str(action) in ACTIVE_ACTIONS:
                yield f"a {str(action)[1:]} action"
            children = [o[k] for k in o.keys()]
        elif isinstance(o, pikepdf.Array):
            children = list(o)
        else:
            continue
        # (numbers and booleans come back as Python values, which hold nothing)
        stack.extend(c for c in children if isinstance(c, pikepdf.Object) and not c.is_indirect)


# ------------------------------------------------------------------ images
def check_image(data: bytes, mime: str, limits: UploadLimits) -> tuple[PageSize, bytes]:
    """The image's size (after EXIF orientation) and a re-encoded copy: same format,
    no metadata (EXIF with GPS, comments, ICC), orientation applied to the pixels."""
    fmt = IMAGE_FORMATS[mime]
    # Pillow warns (DecompressionBombWarning) above Image.MAX_IMAGE_PIXELS and raises
    # above twice that, from the header. The warning becomes an error here, for this
    # block only; catch_warnings is not thread-safe, so the own pixel limit below is the
    # check that counts (it is lower than Pillow's unless an operator raises it).
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                w, h = img.size
                _check_image_size(w, h, limits)
                img.load()
                # in place: a 40 Mpx image is 160 MB decoded, one copy fewer matters
                ImageOps.exif_transpose(img, in_place=True)
                out = _encode_clean(img, fmt)
                size = PageSize(img.width, img.height)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise VisavisError(
                "image_too_large", f"the image is too large to decode safely ({exc})"
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:
            # truncated data, bad chunks/CRCs, unsupported modes: Pillow's ways to fail
            raise VisavisError("image_malformed", f"the image cannot be decoded ({exc})") from None
    return size, out


def _check_image_size(w: int, h: int, limits: UploadLimits) -> None:
    if w < 1 or h < 1 or w * h > limits.max_image_pixels:
        raise VisavisError(
            "image_too_large",
            f"the image is {w} × {h} px; at most {limits.max_image_pixels} pixels are accepted",
        )
    if max(w, h) / min(w, h) > limits.max_aspect:
        raise VisavisError(
            "image_too_large",
            f"the image is {w} × {h} px; its sides may differ at most {limits.max_aspect:g}:1",
        )


def _encode_clean(img: Image.Image, fmt: str) -> bytes:
    """Pixels only, as RGB (RGBA for a PNG with transparency): the converted copy's
    `info` (EXIF, ICC profile, text chunks, comments) is emptied before saving, and
    nothing else is passed to the encoder."""
    keep_alpha = img.mode in ("RGBA", "LA", "PA") or (
        img.mode == "P" and "transparency" in img.info
    )
    pixels = img.convert("RGBA" if keep_alpha and fmt == "PNG" else "RGB")
    pixels.info = {}
    buf = io.BytesIO()
    if fmt == "JPEG":
        pixels.save(buf, "JPEG", quality=90)
    else:
        pixels.save(buf, "PNG")
    return buf.getvalue()
