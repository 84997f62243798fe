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
- `upload` — upload -> first page visible on the other side, on a real server (see
  collab_room.py): a 10-page PDF uploaded over HTTP and presented (`doc.present`
  page 0); the other side, on `document.presented`, gets an access token and GETs
  page 0 at 1600 px. From the upload's start to the page's last byte there; the
  adviser and the customer take turns; `--upload-runs` runs after one cold run.
  Target: p99 <= 1.5 s.
- `pointer` — pointer frames at `--pointer-rate` from the adviser, each matched on
  arrival at the customer to its send time, next to the delivery of chat messages
  (one a second each way, same conversation, same time). Targets: pointer p99 <=
  50 ms and <= 2x the chat's p99.

Both sides of `upload` and `pointer` are Python WebSocket/HTTP clients, not browsers
(the room's document UI is still being built): no JPEG decode or paint in the figures.

The machine's load average is printed with the results: on a shared machine other
processes' work shows up in the p99.

    python bench/collab.py
    python bench/collab.py --rounds 10 --parts render
    python bench/collab.py --parts upload,pointer --upload-runs 40 --pointer-seconds 30
"""

from __future__ import annotations

import argparse
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

from _common import emit_result, exit_on_sigterm, table
from collab_common import Part, mixed_pdf, stats
from collab_room import (
    POINTER_VS_CHAT_MAX,
    TARGET_POINTER_P99_MS,
    TARGET_UPLOAD_P99_MS,
    part_pointer,
    part_upload,
)

from visavis.documents import pdfium
from visavis.documents.checks import UploadLimits, check_upload
from visavis.documents.render import MAX_PIXELS, encode_jpeg

BENCH = "collab"
RENDER_WIDTHS = (800, 1600)
TARGET_P99_MS_1600 = 60.0


# ------------------------------------------------------------------ render
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


PARTS: dict[str, Callable[[argparse.Namespace], Part]] = {
    "render": part_render,
    "upload": part_upload,
    "pointer": part_pointer,
}


def main(argv: list[str] | None = None) -> int:
    exit_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parts", default=",".join(PARTS), help=f"some of {','.join(PARTS)}")
    p.add_argument("--pages", type=int, default=20, help="pages of the test PDF (default 20)")
    p.add_argument("--rounds", type=int, default=5, help="renders of every page (default 5)")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured renders first (default 3)")
    p.add_argument("--upload-runs", type=int, default=20, help="measured uploads (default 20)")
    p.add_argument("--pointer-seconds", type=float, default=20, help="pointer window (default 20)")
    p.add_argument("--pointer-rate", type=float, default=30, help="pointer frames/s (default 30)")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.parts.split(",") if n.strip()]
    if not names or not set(names) <= set(PARTS):
        p.error(f"--parts: some of {','.join(PARTS)}")
    if args.upload_runs < 2 or not 1 <= args.pointer_seconds <= 600 or args.pointer_rate <= 0:
        p.error("--upload-runs must be >= 2, --pointer-seconds 1..600, --pointer-rate > 0")

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
    for note in (note for part in results.values() for note in part.notes):
        print(note)
    for name, ok in checks.items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}")
    payload: dict[str, Any] = {
        "ok": True,
        "cores": cores,
        "loadavg_before": list(load_before),
        "loadavg_after": list(load_after),
        "targets": {
            "render_1600_p99_ms": TARGET_P99_MS_1600,
            "upload_first_page_p99_ms": TARGET_UPLOAD_P99_MS,
            "pointer_p99_ms": TARGET_POINTER_P99_MS,
            "pointer_p99_over_chat_p99": POINTER_VS_CHAT_MAX,
        },
        "checks": checks,
    }
    payload.update({name: part.result for name, part in results.items()})
    emit_result(BENCH, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
