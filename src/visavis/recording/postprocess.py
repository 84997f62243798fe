"""From Janus's per-track `.mjr` files to one WebM per participant, without re-encoding.

`mjr_webm.py` writes both tracks' frames, in order and with their RTP timing, into
one WebM, in this process (PyAV, stream copy). Before, `janus-pp-rec` wrote each track
into its own file and a stream copy muxed the two: two process starts per participant,
~40-50 ms of CPU each. The two tracks start at different moments (the audio
usually first; the video writes from its first keyframe), and each track's timestamps
start at its own first packet. The later track is shifted by the difference, so lips
and voice line up:

- `rtcp`: the difference on the sender's clock, from its RTCP sender reports
  (`rtcp_sync.py`): what the browser captured at the same moment plays at the same
  moment, whatever the network and Janus did to the packets on the way.
- `arrival` (fallback, logged with the reason: no sender report yet for a stream, as
  in a recording of a few seconds, or no pcap): the wall clock of each track's first
  written packet in the `.mjr` header (`u`).

The pcap is deleted here, whatever the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from visavis.recording.janus_admin import pcap_path
from visavis.recording.mjr import MjrError, MjrTrack, read_mjr
from visavis.recording.mjr_webm import MjrWebmError, Track, do_write_webm
from visavis.recording.rtcp_sync import SyncError, read_capture, sender_start_s
from visavis.recording.webm_duration import WebmError, duration_s

log = logging.getLogger(__name__)


class PostprocessError(RuntimeError):
    pass


@dataclass(frozen=True)
class Remuxed:
    duration_s: float
    sync: str  # "rtcp" | "arrival"
    offsets_s: dict[str, float]  # per kind: how much later than the earliest it starts


def track_offsets(tracks: list[MjrTrack], pcap: Path) -> tuple[str, dict[str, float]]:
    """Each track's start after the earliest one, in seconds, and how it was found."""
    try:
        if not pcap.exists():
            raise SyncError(f"{pcap.name} is missing")
        # the dump stops after PCAP_SECONDS (15 s); a minute bounds the read all the same
        cap = read_capture(pcap, until_us=max(t.first_us for t in tracks) + 60_000_000)
        starts = {t.kind: sender_start_s(t, cap) for t in tracks}
        sync = "rtcp"
    except SyncError as err:
        log.warning("recording: A/V aligned by arrival, not by RTCP: %s", err)
        starts = {t.kind: t.first_us / 1e6 for t in tracks}
        sync = "arrival"
    first = min(starts.values())
    return sync, {kind: start - first for kind, start in starts.items()}


async def do_remux(name: str, rec_dir: Path, out: Path) -> Remuxed:
    """`name-audio-*.mjr` and `name-video-*.mjr` in `rec_dir` into the WebM `out`."""
    pcap = pcap_path(rec_dir, name)
    try:
        return await _remux(name, rec_dir, out, pcap)
    finally:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(pcap.unlink)


def _read(rec_dir: Path, name: str, pcap: Path) -> tuple[list[MjrTrack], str, dict[str, float]]:
    tracks = [read_mjr(p) for p in sorted(rec_dir.glob(f"{name}-*.mjr"))]
    if not tracks:
        raise PostprocessError(f"{name}: no tracks were recorded in {rec_dir}")
    if len({t.kind for t in tracks}) != len(tracks):
        raise PostprocessError(f"{name}: more than one track of a kind in {rec_dir}")
    sync, offsets = track_offsets(tracks, pcap)
    return tracks, sync, offsets


async def _remux(name: str, rec_dir: Path, out: Path, pcap: Path) -> Remuxed:
    try:
        tracks, sync, offsets = await asyncio.to_thread(_read, rec_dir, name, pcap)
    except MjrError as err:
        raise PostprocessError(str(err)) from err
    # -copyts semantics: each track's times count from its first packet, so a video
    # that begins after a few packets before its first keyframe keeps that gap; only
    # the later track is shifted, by its offset
    parts = [Track(t.path, offsets[t.kind]) for t in tracks]
    try:
        await asyncio.to_thread(do_write_webm, parts, out)
    except MjrWebmError as err:
        raise PostprocessError(str(err)) from err
    try:
        duration = await asyncio.to_thread(duration_s, out)
    except WebmError as err:
        raise PostprocessError(str(err)) from err
    log.info("recording: %s remuxed, A/V by %s, offsets %s", name, sync, offsets)
    return Remuxed(duration, sync, offsets)


__all__ = ["PostprocessError", "Remuxed", "do_remux", "track_offsets"]
