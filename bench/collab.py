"""Collaboration in the consultation room: what the other side waits for.

Parts (each a function in PARTS, each its own rows in the table and its own key in the
result line; `--parts` picks some):

- `render` — page images. A 20-page PDF of mixed pages (text; text with a photo;
  a full-page photo; vector drawings) made here with reportlab, checked once
  (`check_upload`: PDFium's count, page sizes, the pikepdf scan), then every page
  rendered at 800 and 1600 px wide and encoded as JPEG q85 — exactly what
  `PageRenderer` does on a cache miss (`pdfium.render_page` + `encode_jpeg`, one
  thread, the PDFium lock taken per page), `--rounds` times. Reported per width:
  p50/p99 per page of render + encode (wall clock, and the thread's CPU time: what
  the page costs whatever else runs), of each alone, and the JPEG size.
  Target: p99 <= 60 ms per page at 1600 px.

The machine's load average is printed with the results: on a shared machine other
processes' work shows up in the p99.

    python bench/collab.py
    python bench/collab.py --rounds 10 --parts render
"""

from __future__ import annotations

import argparse
import io
import os
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _common import emit_result, exit_on_sigterm, percentile, table
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from visavis.documents import pdfium
from visavis.documents.checks import UploadLimits, check_upload
from visavis.documents.render import MAX_PIXELS, encode_jpeg

BENCH = "collab"
RENDER_WIDTHS = (800, 1600)
TARGET_P99_MS_1600 = 60.0

LOREM = (
    "Ihre Beratung im Überblick: Tarif, Laufzeit, Beiträge und Leistungen. Bitte prüfen "
    "Sie die Angaben sorgfältig; Änderungen besprechen wir gern im nächsten Termin. "
)


@dataclass
class Part:
    """One part's rows for the table (what, n, p50, p99, extra) and its result entry."""

    rows: list[list[Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)


# ------------------------------------------------------------------ render
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


def mixed_pdf(pages: int) -> bytes:
    """Pages cycling through: text; text with a photo; a full-page photo; drawings."""
    w, h = A4
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    photos = [ImageReader(io.BytesIO(photo(seed))) for seed in range(4)]
    for i in range(pages):
        kind = i % 4
        c.setFont("Helvetica-Bold", 18)
        c.drawString(50, h - 60, f"Seite {i + 1}")
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


def stats(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {"p50": percentile(s, 50), "p99": percentile(s, 99), "max": s[-1] if s else 0.0}


def part_render(args: argparse.Namespace) -> Part:
    data = mixed_pdf(args.pages)
    started = time.perf_counter()
    checked = check_upload(data, UploadLimits())
    check_ms = (time.perf_counter() - started) * 1000
    part = Part()
    part.rows.append([f"check_upload, {args.pages}-page PDF ({len(data) // 1024} KiB)", 1,
                      check_ms, check_ms, ""])  # fmt: skip
    part.result = {"pages": len(checked.pages), "pdf_bytes": len(data), "check_ms": check_ms}
    for _ in range(args.warmup):
        encode_jpeg(pdfium.render_page(data, 0, RENDER_WIDTHS[-1], MAX_PIXELS))
    for width in RENDER_WIDTHS:
        total: list[float] = []
        render: list[float] = []
        encode: list[float] = []
        cpu: list[float] = []  # this thread's CPU time: what the page costs, load aside
        sizes: list[int] = []
        for _ in range(args.rounds):
            for page in range(len(checked.pages)):
                c0, t0 = time.thread_time(), time.perf_counter()
                image = pdfium.render_page(data, page, width, MAX_PIXELS)
                t1 = time.perf_counter()
                jpeg = encode_jpeg(image)
                t2, c2 = time.perf_counter(), time.thread_time()
                assert image.width == width
                render.append((t1 - t0) * 1000)
                encode.append((t2 - t1) * 1000)
                total.append((t2 - t0) * 1000)
                cpu.append((c2 - c0) * 1000)
                sizes.append(len(jpeg))
        t, r, e, c = stats(total), stats(render), stats(encode), stats(cpu)
        kib = sum(sizes) / len(sizes) / 1024
        part.rows.append([f"{width} px: render + JPEG", len(total), t["p50"], t["p99"],
                          f"avg {kib:.0f} KiB"])  # fmt: skip
        part.rows.append([f"{width} px: CPU time of that", len(cpu), c["p50"], c["p99"], ""])
        part.rows.append([f"{width} px: render (PDFium)", len(render), r["p50"], r["p99"], ""])
        part.rows.append([f"{width} px: JPEG q85 encode", len(encode), e["p50"], e["p99"], ""])
        part.result[f"w{width}"] = {
            "n": len(total),
            "total_ms": t,
            "render_ms": r,
            "encode_ms": e,
            "cpu_ms": c,
            "jpeg_kib_avg": kib,
        }
    p99 = part.result[f"w{RENDER_WIDTHS[-1]}"]["total_ms"]["p99"]
    part.checks["render_1600_p99_under_target"] = p99 <= TARGET_P99_MS_1600
    return part


# Further parts (upload → first page visible on the other side, pointer latency) go
# here as functions of the same shape, registered below.
PARTS: dict[str, Callable[[argparse.Namespace], Part]] = {
    "render": part_render,
}


def main(argv: list[str] | None = None) -> int:
    exit_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parts", default=",".join(PARTS), help=f"some of {','.join(PARTS)}")
    p.add_argument("--pages", type=int, default=20, help="pages of the test PDF (default 20)")
    p.add_argument("--rounds", type=int, default=5, help="renders of every page (default 5)")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured renders first (default 3)")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.parts.split(",") if n.strip()]
    if not names or not set(names) <= set(PARTS):
        p.error(f"--parts: some of {','.join(PARTS)}")

    load_before = os.getloadavg()
    results: dict[str, Part] = {}
    try:
        for name in names:
            print(f"== {name}", flush=True)
            results[name] = PARTS[name](args)
    except Exception as exc:
        traceback.print_exc()
        emit_result(BENCH, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    load_after = os.getloadavg()

    rows = [[name, *row] for name, part in results.items() for row in part.rows]
    print()
    print(table(["part", "what", "n", "p50 ms", "p99 ms", ""], rows))
    print()
    cores = os.cpu_count()
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}; {cores} cores")
    checks = {k: v for part in results.values() for k, v in part.checks.items()}
    for name, ok in checks.items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}")
    payload: dict[str, Any] = {
        "ok": True,
        "cores": cores,
        "loadavg_before": list(load_before),
        "loadavg_after": list(load_after),
        "targets": {"render_1600_p99_ms": TARGET_P99_MS_1600},
        "checks": checks,
    }
    payload.update({name: part.result for name, part in results.items()})
    emit_result(BENCH, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
