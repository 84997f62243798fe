"""The PDF's own empty signature fields (AcroForm `/FT /Sig` without a value), as
spots the signing flow can offer: "sign here" where the document's author said so."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pikepdf

from visavis.signing.errors import SigningError
from visavis.signing.geometry import page_frame
from visavis.signing.model import SignatureSpot

MAX_FIELDS = 1000  # a form has a few; a crafted field tree could have millions


def list_signature_fields(pdf: bytes) -> list[SignatureSpot]:
    """Every empty signature field's widget that sits on a page, in page order."""
    try:
        doc = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PasswordError:
        raise SigningError("pdf_encrypted", "the PDF needs a password to open") from None
    except pikepdf.PdfError as exc:
        raise SigningError("pdf_malformed", f"the PDF cannot be read ({exc})") from None
    with doc:
        return read_signature_fields(doc)


def read_signature_fields(doc: pikepdf.Pdf) -> list[SignatureSpot]:
    pages = {page.obj.objgen: i for i, page in enumerate(doc.pages)}
    spots: list[SignatureSpot] = []
    for name, widget in empty_signature_widgets(doc):
        index = _page_of(widget, pages, doc)
        rect = widget.get("/Rect")
        if index is None or not isinstance(rect, pikepdf.Array) or len(rect) != 4:
            continue  # a field with no place on a page cannot be offered
        frame = page_frame(doc.pages[index])
        w, h = frame.display_size
        corners = [
            frame.user_to_display(float(rect[i]), float(rect[j])) for i in (0, 2) for j in (1, 3)
        ]
        left = min(x for x, _ in corners)
        right = max(x for x, _ in corners)
        bottom = min(y for _, y in corners)
        top = max(y for _, y in corners)
        if right - left <= 0 or top - bottom <= 0:
            continue  # an invisible field
        spots.append(
            SignatureSpot(
                page=index,
                x=_clamp(left / w),
                y=_clamp((h - top) / h),
                width=_clamp((right - left) / w),
                height=_clamp((top - bottom) / h),
                field_name=name,
            )
        )
    spots.sort(key=lambda s: (s.page, s.y, s.x))
    return spots


def empty_signature_widgets(doc: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    """(fully qualified field name, widget) of each unsigned /Sig field."""
    acroform = doc.Root.get("/AcroForm")
    if not isinstance(acroform, pikepdf.Dictionary):
        return
    fields = acroform.get("/Fields")
    if not isinstance(fields, pikepdf.Array):
        return
    # (node, parent's name, inherited /FT, inherited "has /V"); a visited set guards
    # against /Kids cycles
    stack: list[tuple[pikepdf.Object, str, str | None, bool]] = [
        (f, "", None, False) for f in fields
    ]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack and visited < MAX_FIELDS:
        node, parent, inherited_ft, inherited_value = stack.pop(0)
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        visited += 1
        part = node.get("/T")
        name = f"{parent}.{part}" if parent and part is not None else str(part or parent)
        ft_obj = node.get("/FT")
        ft = str(ft_obj) if isinstance(ft_obj, pikepdf.Name) else inherited_ft
        signed = inherited_value or "/V" in node
        kids = node.get("/Kids")
        if isinstance(kids, pikepdf.Array) and len(kids) > 0:
            stack.extend((k, name, ft, signed) for k in kids)
            continue
        if ft == "/Sig" and not signed and name:
            yield name, node


def _page_of(
    widget: pikepdf.Dictionary, pages: dict[tuple[int, int], int], doc: pikepdf.Pdf
) -> int | None:
    page = widget.get("/P")
    if isinstance(page, pikepdf.Dictionary) and page.is_indirect and page.objgen in pages:
        return pages[page.objgen]
    if not widget.is_indirect:
        return None
    # /P is optional: find the page whose /Annots holds the widget
    for i, p in enumerate(doc.pages):
        annots = p.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array) and any(
            a.is_indirect and a.objgen == widget.objgen for a in annots
        ):
            return i
    return None


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, round(v, 6)))
