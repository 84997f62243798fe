"""Signature images into page content: each `SignatureMark`'s PNG, checked and
re-encoded, drawn upright (as the reader sees the page) and as large as fits into its
spot, keeping its aspect ratio. An AcroForm signature field the mark fills is removed,
so no empty "sign here" box is left on top of the signature.

The image becomes an XObject with its alpha channel as /SMask (transparent background)
and the page gets one extra content stream; the page's own content is wrapped in
q … Q first, so whatever graphics state it leaves behind cannot move the signature.
"""

from __future__ import annotations

import io
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import pikepdf
from PIL import Image

from visavis.signing.errors import SigningError
from visavis.signing.fields import empty_signature_widgets
from visavis.signing.geometry import page_frame
from visavis.signing.model import SignatureMark, SignatureSpot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 2 * 1024 * 1024
# A signature pad on a 4K screen at 2x is ~3 Mpx; a bomb claims billions in its header.
MAX_IMAGE_PIXELS = 4_000_000
MAX_IMAGE_SIDE = 8000
# zlib's fast levels (1-3): a 1200 x 400 px signature's pixels in 6 ms instead of 15 at
# the default 6, for ~10 KB more in the file
FLATE_LEVEL = 3


@dataclass(frozen=True)
class CheckedImage:
    width: int
    height: int
    rgb: bytes  # width·height·3 bytes
    alpha: bytes | None  # width·height bytes, None when fully opaque


def check_signature_image(png: bytes) -> CheckedImage:
    """The PNG's pixels, or `signature_image_invalid` / `signature_image_too_large`."""
    if not png.startswith(PNG_MAGIC):
        raise SigningError("signature_image_invalid", "the signature image is not a PNG")
    if len(png) > MAX_PNG_BYTES:
        raise SigningError(
            "signature_image_too_large",
            f"the signature image has {len(png)} bytes; at most {MAX_PNG_BYTES} are accepted",
        )
    # Pillow's own bomb check warns (and raises only above twice its much higher
    # limit); the size check below, from the header and before any pixel is decoded,
    # is the one that counts. The filter makes a warning an error in this block too.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(png), formats=["PNG"]) as img:
                w, h = img.size
                if not (0 < w <= MAX_IMAGE_SIDE and 0 < h <= MAX_IMAGE_SIDE) or (
                    w * h > MAX_IMAGE_PIXELS
                ):
                    raise SigningError(
                        "signature_image_too_large",
                        f"the signature image is {w} × {h} px; at most {MAX_IMAGE_PIXELS} "
                        f"pixels and {MAX_IMAGE_SIDE} px a side are accepted",
                    )
                img.load()
                rgba = img.convert("RGBA")
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise SigningError(
                "signature_image_too_large", f"the signature image is too large ({exc})"
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise SigningError(
                "signature_image_invalid", f"the signature image cannot be decoded ({exc})"
            ) from None
    alpha_band = rgba.getchannel("A")
    lo, _hi = alpha_band.getextrema()
    alpha = None if lo == 255 else alpha_band.tobytes()
    return CheckedImage(w, h, rgba.convert("RGB").tobytes(), alpha)


def check_spot(spot: SignatureSpot, page_count: int) -> None:
    """`spot_outside_page` unless the spot is a non-empty box inside an existing page."""
    if not 0 <= spot.page < page_count:
        raise SigningError(
            "spot_outside_page",
            f"the signature is on page {spot.page + 1}; the document has {page_count} pages",
        )
    values = (spot.x, spot.y, spot.width, spot.height)
    eps = 1e-6
    if (
        not all(0.0 <= v <= 1.0 for v in values)
        or spot.width <= 0
        or spot.height <= 0
        or spot.x + spot.width > 1.0 + eps
        or spot.y + spot.height > 1.0 + eps
    ):
        raise SigningError(
            "spot_outside_page",
            f"the signature box x={spot.x}, y={spot.y}, width={spot.width}, "
            f"height={spot.height} is not inside the page; expected fractions of the page "
            "with the box inside 0..1",
        )


def do_stamp(doc: pikepdf.Pdf, marks: Sequence[SignatureMark]) -> None:
    """Draw every mark into its page of `doc` (in place). Checks all marks first, so a
    bad one leaves the document untouched."""
    page_count = len(doc.pages)
    images = []
    for mark in marks:
        check_spot(mark.spot, page_count)
        images.append(check_signature_image(mark.image_png))
    fields = {name: widget for name, widget in empty_signature_widgets(doc)}
    for mark in marks:
        name = mark.spot.field_name
        if name is not None and name not in fields:
            raise SigningError(
                "signature_field_unknown",
                f"the document has no empty signature field {name!r}; expected one of "
                f"{sorted(fields) or 'none'}",
            )
    wrapped: set[int] = set()
    for mark, image in zip(marks, images, strict=True):
        page = doc.pages[mark.spot.page]
        if mark.spot.page not in wrapped:
            page.contents_add(pikepdf.Stream(doc, b"q\n"), prepend=True)
            page.contents_add(pikepdf.Stream(doc, b"\nQ\n"))
            wrapped.add(mark.spot.page)
        _draw(doc, page, mark.spot, image)
        if mark.spot.field_name is not None and mark.spot.field_name in fields:
            _remove_field(doc, fields.pop(mark.spot.field_name))


def _draw(doc: pikepdf.Pdf, page: pikepdf.Page, spot: SignatureSpot, image: CheckedImage) -> None:
    frame = page_frame(page)
    dw, dh = frame.display_size
    box_w, box_h = spot.width * dw, spot.height * dh
    scale = min(box_w / image.width, box_h / image.height)
    w, h = image.width * scale, image.height * scale
    # centred in the box; display coordinates have their origin bottom-left
    x = spot.x * dw + (box_w - w) / 2
    y = dh - spot.y * dh - box_h + (box_h - h) / 2
    xobject = pikepdf.Stream(doc, zlib.compress(image.rgb, FLATE_LEVEL))
    xobject.Type = pikepdf.Name.XObject
    xobject.Subtype = pikepdf.Name.Image
    xobject.Width, xobject.Height = image.width, image.height
    xobject.ColorSpace = pikepdf.Name.DeviceRGB
    xobject.BitsPerComponent = 8
    xobject.Filter = pikepdf.Name.FlateDecode
    if image.alpha is not None:
        smask = pikepdf.Stream(doc, zlib.compress(image.alpha, FLATE_LEVEL))
        smask.Type = pikepdf.Name.XObject
        smask.Subtype = pikepdf.Name.Image
        smask.Width, smask.Height = image.width, image.height
        smask.ColorSpace = pikepdf.Name.DeviceGray
        smask.BitsPerComponent = 8
        smask.Filter = pikepdf.Name.FlateDecode
        xobject.SMask = smask
    name = page.add_resource(xobject, pikepdf.Name.XObject, prefix="VvSig")
    m = " ".join(f"{v:.6f}" for v in frame.display_to_user())
    ops = f"q {m} cm {w:.4f} 0 0 {h:.4f} {x:.4f} {y:.4f} cm {name} Do Q\n"
    page.contents_add(pikepdf.Stream(doc, ops.encode("ascii")))


def _remove_field(doc: pikepdf.Pdf, widget: pikepdf.Dictionary) -> None:
    """Take an empty signature field (and its widget) out of the page and the form."""
    for page in doc.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            keep = [a for a in annots if not (a.is_indirect and a.objgen == widget.objgen)]
            if len(keep) != len(annots):
                page.obj.Annots = pikepdf.Array(keep)
    node: pikepdf.Dictionary = widget
    while True:
        parent = node.get("/Parent")
        if isinstance(parent, pikepdf.Dictionary):
            container = parent.get("/Kids")
        else:
            container = doc.Root.AcroForm.get("/Fields")
        if isinstance(container, pikepdf.Array):
            keep = [k for k in container if not (k.is_indirect and k.objgen == node.objgen)]
            if isinstance(parent, pikepdf.Dictionary):
                parent.Kids = pikepdf.Array(keep)
            else:
                doc.Root.AcroForm.Fields = pikepdf.Array(keep)
            if isinstance(parent, pikepdf.Dictionary) and not keep:
                node = parent  # a field left without kids goes too
                continue
        break
