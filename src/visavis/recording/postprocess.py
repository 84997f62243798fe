"""From Janus's per-track `.mjr` files to one WebM per participant, without re-encoding.

`janus-pp-rec` writes each track's packets, in order and with its RTP timing, into a
container (VP8 → .webm, Opus → .opus); `ffmpeg -c copy` puts both into one WebM. The
two tracks start at different moments (the audio usually first; the video writes from
its first keyframe): each `.mjr` header holds the wall-clock time of its first written
packet (`janus-pp-rec -j`, `u` in µs), and the later track is shifted by the difference
(`-itsoffset`), so lips and voice line up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT_S = 600.0


class PostprocessError(RuntimeError):
    pass


@dataclass(frozen=True)
class Track:
    mjr: Path
    kind: str  # "audio" | "video"
    first_us: int  # wall clock of the first written packet


def tools_available() -> bool:
    return shutil.which("janus-pp-rec") is not None and shutil.which("ffmpeg") is not None


async def _run(*args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise PostprocessError(f"{args[0]} took over {TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise PostprocessError(f"{args[0]} exited with {proc.returncode}: {' | '.join(tail)}")
    return out


async def read_track(mjr: Path) -> Track:
    header = json.loads(await _run("janus-pp-rec", "-j", str(mjr)))
    kind = {"a": "audio", "v": "video"}.get(str(header.get("t")), "")
    if not kind:
        raise PostprocessError(f"{mjr.name}: a {header.get('t')!r} track, not audio or video")
    return Track(mjr, kind, int(header.get("u") or header.get("s") or 0))


async def do_remux(name: str, rec_dir: Path, out: Path) -> float:
    """`name-audio.mjr` and `name-video.mjr` in `rec_dir` into the WebM `out`; its
    duration in seconds (from ffprobe)."""
    mjrs = await asyncio.to_thread(lambda: sorted(rec_dir.glob(f"{name}-*.mjr")))
    tracks = [await read_track(p) for p in mjrs]
    if not tracks:
        raise PostprocessError(f"{name}: no tracks were recorded in {rec_dir}")
    start = min(t.first_us for t in tracks)
    inputs: list[str] = []
    maps: list[str] = []
    for i, t in enumerate(tracks):
        single = t.mjr.with_suffix(".webm" if t.kind == "video" else ".opus")
        await _run("janus-pp-rec", "-d", "2", str(t.mjr), str(single))
        offset = (t.first_us - start) / 1e6
        if offset > 0:
            inputs += ["-itsoffset", f"{offset:.6f}"]
        inputs += ["-i", str(single)]
        maps += ["-map", f"{i}:{'v' if t.kind == 'video' else 'a'}"]
    await _run(
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y", *inputs, *maps,
        "-c", "copy", "-f", "webm", str(out),
    )  # fmt: skip
    return await probe_duration(out)


async def probe_duration(path: Path) -> float:
    out = await _run(
        "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)
    )
    return float(json.loads(out).get("format", {}).get("duration") or 0.0)


__all__ = ["PostprocessError", "do_remux", "probe_duration", "tools_available"]
