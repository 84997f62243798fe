"""Content for the demo's library: a two-page product sheet made on the spot (pikepdf,
no fonts to ship: the PDF standard font Helvetica), so every room feature — sharing,
presenting, turning pages, drawing — can be tried in `visavis demo`."""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name

A4 = (595, 842)
PRODUCT_SHEET_NAME = "Produktblatt Girokonto.pdf"

_PAGES = [
    [
        (28, "Girokonto Plus"),
        (14, "Produktinformationsblatt"),
        (12, ""),
        (12, "- Kontofuehrung: 4,90 EUR im Monat"),
        (12, "- Debitkarte inklusive, Kreditkarte optional"),
        (12, "- Kostenlos Geld abheben an 5.000 Automaten"),
        (12, "- Dispositionskredit: 9,9 % p.a."),
    ],
    [
        (20, "So eroeffnen Sie Ihr Konto"),
        (12, ""),
        (12, "1. Antrag gemeinsam in der Videoberatung ausfuellen"),
        (12, "2. Identitaet per Video bestaetigen"),
        (12, "3. Karte und PIN kommen per Post"),
    ],
]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def product_sheet_pdf() -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    for lines in _PAGES:
        ops = ["0.12 0.35 0.62 rg 0 782 595 60 re f", "BT 0 0 0 rg"]
        y = 740
        for size, text in lines:
            ops.append(f"/F1 {size} Tf 1 0 0 1 60 {y} Tm ({_escape(text)}) Tj")
            y -= int(size * 1.8)
        ops.append("ET")
        page = Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, *A4]),
            Resources=Dictionary(Font=Dictionary(F1=font)),
            Contents=pdf.make_stream("\n".join(ops).encode("latin-1")),
        )
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
