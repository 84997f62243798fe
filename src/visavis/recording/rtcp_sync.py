"""Each recorded track's start on the sender's clock, from its RTCP sender reports.

A browser stamps audio (48 kHz) and video (90 kHz) RTP packets from unrelated random
origins; its RTCP sender reports (SR) map each stream's RTP timestamp to one NTP
clock, the one the capture ran on. Janus writes no RTCP into `.mjr` files and
rewrites the recorded timestamps to start at 0, so the recorder has Janus dump each
publisher's decrypted packets, truncated to 20 bytes, into a pcap file
(`JanusAdmin.do_start_pcap`): the SRs, and the original header of every RTP packet
with the time Janus handled it.

The first packet Janus wrote into a `.mjr` is the last one of its SSRC dumped at or
before the header's `u` (Janus dumps a packet, then hands it to the VideoRoom, which
writes it, in one thread, by the same wall clock); the choice is checked against the
next written packets (their sequence numbers and timestamps must be the dumped ones
shifted by the same amounts). Its original RTP timestamp through the SRs gives the
track's start in sender NTP seconds; the median over all SRs of the stream.

The pcap holds no media: 20 bytes of each packet are the RTP header and 8 bytes of
header extensions (or of payload, for a sender without extensions). It is deleted
after the post-processing, whatever its outcome.
"""

from __future__ import annotations

import statistics
import struct
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from visavis.recording.mjr import MjrTrack

CLOCK_HZ = {"audio": 48000, "video": 90000}  # Opus, VP8 (RFC 7587, RFC 7741)
_GLOBAL = struct.Struct("=IHHiIII")
_RECORD = 16
_ENCAP = 14 + 20 + 8  # Janus's fake Ethernet, IPv4 and UDP headers
_INCOMING_PORT = 1000  # Janus: UDP source port 1000 marks what it received
CHECK_PACKETS = 32


class SyncError(ValueError):
    """No sender-clock start for a track: why, for the log."""


@dataclass(frozen=True)
class SenderReport:
    ntp_s: float
    rtp_ts: int


@dataclass(frozen=True)
class Dumped:
    time_us: int
    seq: int
    ts: int


@dataclass
class Capture:
    """What one publisher's pcap says, per SSRC."""

    reports: dict[int, list[SenderReport]] = field(default_factory=lambda: defaultdict(list))
    packets: dict[int, list[Dumped]] = field(default_factory=lambda: defaultdict(list))


def read_capture(path: Path, until_us: int | None = None) -> Capture:
    """The incoming SRs and RTP headers in Janus's pcap dump `path`, up to the packet
    dumped at `until_us` (the dump stops on its own after `PCAP_SECONDS`)."""
    data = path.read_bytes()
    if len(data) < _GLOBAL.size:
        raise SyncError(f"{path.name}: {len(data)} bytes is no pcap file")
    magic = struct.unpack("<I", data[:4])[0]
    order = {0xA1B2C3D4: "<", 0xD4C3B2A1: ">"}.get(magic)
    if order is None:
        raise SyncError(f"{path.name}: not a pcap file (magic {magic:#x})")
    record = struct.Struct(order + "IIII")
    cap = Capture()
    pos = _GLOBAL.size
    while pos + _RECORD <= len(data):
        sec, usec, incl, _orig = record.unpack_from(data, pos)
        if until_us is not None and sec * 1_000_000 + usec > until_us:
            break
        pos += _RECORD
        pkt = data[pos + _ENCAP : pos + incl]
        udp_src = int.from_bytes(data[pos + 34 : pos + 36], "big")
        pos += incl
        if udp_src != _INCOMING_PORT or len(pkt) < 12:
            continue
        if 192 <= pkt[1] <= 223:  # RTCP, told apart as Janus does (RFC 5761 4)
            if pkt[1] == 200 and len(pkt) >= 20:
                ssrc, ntp_sec, ntp_frac, rtp_ts = struct.unpack_from(">IIII", pkt, 4)
                cap.reports[ssrc].append(SenderReport(ntp_sec + ntp_frac / 2**32, rtp_ts))
            continue
        seq, ts, ssrc = struct.unpack_from(">HII", pkt, 2)
        cap.packets[ssrc].append(Dumped(sec * 1_000_000 + usec, seq, ts))
    return cap


def _first_written(track: MjrTrack, dumped: list[Dumped]) -> Dumped:
    """The dumped packet Janus wrote first into `track` (see the module's doc)."""
    if not track.first or track.first[0].seq != 1 or track.first[0].ts != 0:
        raise SyncError(f"{track.path.name}: its first packet is not Janus's (seq 1, ts 0)")
    by_seq: dict[int, int] = {}
    for d in dumped:
        by_seq.setdefault(d.seq, d.ts)
    before = [d for d in dumped if d.time_us <= track.first_us]
    for cand in reversed(before[-64:]):
        checked = 0
        for w in track.first[1:CHECK_PACKETS]:
            ts = by_seq.get((cand.seq + w.seq - 1) & 0xFFFF)
            if ts is None:
                continue
            if ts != (cand.ts + w.ts) & 0xFFFFFFFF:
                break
            checked += 1
        else:
            if checked >= min(4, len(track.first) - 1):
                return cand
    raise SyncError(f"{track.path.name}: no dumped packet of SSRC {track.ssrc} matches")


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def sender_start_s(track: MjrTrack, cap: Capture) -> float:
    """When `track`'s first written packet was captured, in the sender's NTP seconds."""
    reports = cap.reports.get(track.ssrc)
    if not reports:
        raise SyncError(f"{track.path.name}: no sender report for SSRC {track.ssrc}")
    first = _first_written(track, cap.packets.get(track.ssrc, []))
    hz = CLOCK_HZ[track.kind]
    return statistics.median(r.ntp_s - _signed32(r.rtp_ts - first.ts) / hz for r in reports)


__all__ = ["Capture", "SyncError", "read_capture", "sender_start_s"]
