"""Every call into PDFium (pypdfium2), behind one process-wide lock.

PDFium is not thread-safe, not even for two different documents: it keeps global
state (font caches, the library's own allocator and error slot), and two threads in it
at once can crash the process. Uploads are checked and pages rendered in
`asyncio.to_thread` workers, so this module is the only one that imports pypdfium2, and
each function here takes `PDFIUM_LOCK` for all of its PDFium work, including closing:
pypdfium2 would otherwise close documents from a garbage-collection finalizer, in
whatever thread happens to run it, outside the lock. What does not touch PDFium
(JPEG encoding of a rendered page, the pikepdf scan) runs outside the lock, so the
other core can do it while the next page renders.

Call these from a worker thread (`asyncio.to_thread`), never on the event loop: they
wait for the lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

PDFIUM_LOCK = threading.Lock()

# FPDF_GetLastError codes pypdfium2 reports when a document does not open
ERR_FORMAT = 3  # not a PDF, or damaged beyond repair
ERR_PASSWORD = 4  # needs a (user) password


class PdfUnreadable(Exception):
    """PDFium could not open the document; `err_code` is PDFium's reason."""

    def __init__(self, err_code: int | None, message: str) -> None:
        super().__init__(message)
        self.err_code = err_code

    @property
    def needs_password(self) -> bool:
        return self.err_code == ERR_PASSWORD


@dataclass(frozen=True)
class PdfFacts:
    """What PDFium says about a document without rendering it."""

    page_count: int
    encrypted: bool  # any security handler, also owner-password-only (opens without one)
    sizes: list[tuple[float, float]]  # (width, height) in pt as displayed (rotation applied)


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfUnreadable(exc.err_code, str(exc)) from None


def read_facts(data: bytes, max_pages: int) -> PdfFacts:
    """Page count, encryption and page sizes. Sizes are read only when the count is at
    most `max_pages`: counting is cheap even for 200,000 pages, a size per page is not."""
    with PDFIUM_LOCK:
        pdf = _open(data)
        try:
            count = len(pdf)
            encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1
            sizes: list[tuple[float, float]] = []
            if count <= max_pages:
                for i in range(count):
                    page = pdf[i]
                    try:
                        w, h = page.get_size()
                        sizes.append((float(w), float(h)))
                    finally:
                        page.close()
            return PdfFacts(count, encrypted, sizes)
        finally:
            pdf.close()


def render_page(data: bytes, index: int, width_px: int, max_pixels: int) -> Image.Image:
    """Page `index` (0-based) as an RGB image `width_px` wide — narrower only if that
    would exceed `max_pixels` (a very tall page). IndexError for a page not in the PDF."""
    with PDFIUM_LOCK:
        pdf = _open(data)
        try:
            if not 0 <= index < len(pdf):
                raise IndexError(f"page {index} of a PDF with {len(pdf)} pages")
            page = pdf[index]
            try:
                w_pt, h_pt = page.get_size()
                width = min(width_px, int((max_pixels * w_pt / h_pt) ** 0.5))
                # PDFium rounds the bitmap size up: 595 pt * (800 / 595) comes out 801 px
                # wide without the epsilon.
                bitmap = page.render(scale=(width - 1e-6) / w_pt, rev_byteorder=True)
                try:
                    # RGBX sharing the bitmap's buffer; convert() copies it into an image
                    # of its own, so nothing refers to PDFium memory after the close.
                    image: Image.Image = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            pdf.close()
    return image
