"""What the parts of bench/collab.py share: a part's result shape, the statistics, and
the test documents (photo-like JPEGs, a PDF of mixed pages made with reportlab)."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from _common import percentile
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

LOREM = (
    "Ihre Beratung im Überblick: Tarif, Laufzeit, Beiträge und Leistungen. Bitte prüfen "
    "Sie die Angaben sorgfältig; Änderungen besprechen wir gern im nächsten Termin. "
)


@dataclass
class Part:
    """One part's rows for the table (what, n, p50, p99, extra), its result entry, its
    pass/fail checks and notes."""

    rows: list[list[Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # printed under the table


def stats(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {"p50": percentile(s, 50), "p99": percentile(s, 99), "max": s[-1] if s else 0.0}


@lru_cache(maxsize=8)  # made once: the upload part makes a new PDF for every run
def photo(seed: int, size: tuple[int, int] = (1200, 800)) -> bytes:
    """A photo-like JPEG (gradients, shapes, noise: hard for JPEG, like real photos)."""
    rnd = random.Random(seed)
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rnd.randrange(size[0]), rnd.randrange(size[1])
        r = rnd.randrange(20, 200)
        color = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
    noise = Image.effect_noise(size, 40).convert("RGB")
    img = Image.blend(img, noise, 0.25)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def mixed_pdf(pages: int, first_kind: int = 0, label: str = "") -> bytes:
    """Pages cycling through: text; text with a photo; a full-page photo; drawings —
    starting with `first_kind` (0..3). `label` goes into every page's heading: PDFs
    with different labels are different files (pages are cached by content)."""
    w, h = A4
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    photos = [ImageReader(io.BytesIO(photo(seed))) for seed in range(4)]
    for i in range(pages):
        kind = (first_kind + i) % 4
        c.setFont("Helvetica-Bold", 18)
        c.drawString(50, h - 60, f"Seite {i + 1} {label}".rstrip())
        c.setFont("Helvetica", 10)
        lines = 60 if kind == 0 else 25 if kind == 1 else 0
        for n in range(lines):
            c.drawString(50, h - 90 - n * 12, (LOREM * 2)[n % 40 : n % 40 + 95])
        if kind == 1:
            c.drawImage(photos[i % 4], 50, 60, width=w - 100, height=(w - 100) * 2 / 3)
        elif kind == 2:
            c.drawImage(photos[i % 4], 0, 0, width=w, height=h, preserveAspectRatio=True)
        elif kind == 3:
            for n in range(400):
                c.setStrokeColorRGB((n * 7 % 255) / 255, (n * 13 % 255) / 255, 0.5)
                c.line(50 + n % 50 * 10, 100 + n, w - 50, h - 100 - n % 37 * 15)
            c.setFont("Helvetica", 9)
            for n in range(30):
                c.drawString(60, 80 + n * 20, f"Position {n}: {n * 123.45:,.2f} EUR")
        c.showPage()
    c.save()
    return buf.getvalue()
