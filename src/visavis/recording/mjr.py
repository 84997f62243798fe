"""Reading Janus's `.mjr` track files (format `MJR00002`) without `janus-pp-rec`.

A file is the 8-byte magic, a 2-byte length and the JSON header (`t` kind, `c` codec,
`u` wall clock in µs of the first written packet, ...), then one frame per packet:
`MEET`, 4 bytes of milliseconds since the first packet, a 2-byte length, the RTP
packet. Janus rewrites each packet's sequence number and timestamp so that the
first written packet has sequence 1 and timestamp 0 (`janus_rtp_header_update`);
the SSRC stays the sender's. `read_mjr` reads the header and the first packets (what
the sync needs, `rtcp_sync.py`); `read_rtp` every packet, with its payload, for
`mjr_webm.py`. Frames that are not RTP (shorter than an RTP header, or longer than
any packet Janus receives: 1500 bytes) are skipped, as `janus-pp-rec` skips them; a
frame cut short (Janus killed while writing) ends the file.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

MAGIC = b"MJR00002"
FRAME = b"MEET"
MAX_RTP = 1500  # janus-pp-rec's limit too: a longer frame is no RTP packet of a publisher
# a frame's magic, ms since the first, length; the RTP header's first 12 bytes; and
# the length in words of a header extension, if it comes next (no CSRCs). A frame
# shorter than this has no payload to write.
_FRAME_RTP = struct.Struct(">4sIHBBHII2xH")
_WORDS = struct.Struct(">H")
_new = tuple.__new__


class MjrError(ValueError):
    """Not a `.mjr` file this reader knows, or cut short in its header."""


@dataclass(frozen=True)
class RtpHead:
    seq: int
    ts: int
    ssrc: int


@dataclass(frozen=True)
class MjrTrack:
    path: Path
    kind: str  # "audio" | "video"
    codec: str
    first_us: int  # wall clock (µs) when Janus wrote the first packet
    first: list[RtpHead]  # the first packets, as written (rewritten seq and ts)

    @property
    def ssrc(self) -> int:
        return self.first[0].ssrc if self.first else 0


class RtpPacket(NamedTuple):  # a tuple: one per packet (made by `_new`: 4x faster)
    seq: int
    ts: int
    ssrc: int
    pt: int
    marker: bool
    start: int  # the payload (without CSRCs, header extension, padding) in the file
    end: int  # == start: padding only

    @property
    def empty(self) -> bool:
        return self.start == self.end


@dataclass(frozen=True)
class MjrPackets:
    """A track's packets as written, their payloads read from the mapped file `data`
    (`data[p.start : p.end]`): what is held in memory per packet is its header, as
    `janus-pp-rec` holds it, not its payload."""

    kind: str
    codec: str
    packets: list[RtpPacket]
    data: mmap.mmap


def _header(path: Path, head: bytes, rest: bytes) -> tuple[dict[str, Any], str, int]:
    """The JSON header, the track's kind and where the first frame starts."""
    if len(head) < 10 or head[:8] != MAGIC:
        raise MjrError(f"{path.name}: not an MJR00002 file (starts {head[:8]!r})")
    (size,) = struct.unpack(">H", head[8:10])
    try:
        header = json.loads(rest[:size])
    except ValueError as err:
        raise MjrError(f"{path.name}: its JSON header is cut short or broken: {err}") from err
    if not isinstance(header, dict):
        raise MjrError(f"{path.name}: its header is {type(header).__name__}, not an object")
    kind = {"a": "audio", "v": "video"}.get(str(header.get("t")), "")
    if not kind:
        raise MjrError(f"{path.name}: a {header.get('t')!r} track, not audio or video")
    return header, kind, 10 + size


@contextlib.contextmanager
def read_rtp(path: Path) -> Iterator[MjrPackets]:
    """Every RTP packet of the `.mjr` file `path`, as written, while the file is mapped."""
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < 10:
            _header(path, f.read(10), b"")  # raises: too short for a header
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            header, kind, pos = _header(path, data[:10], data[10 : 10 + 65536])
            yield MjrPackets(kind, str(header.get("c", "")), _packets(data, pos), data)


def _packets(data: mmap.mmap, pos: int) -> list[RtpPacket]:
    # one struct call per packet where it can (the hot loop of the post-processing)
    packets: list[RtpPacket] = []
    append, frame, ext_words = packets.append, _FRAME_RTP.unpack_from, _WORDS.unpack_from
    end = len(data)
    while pos + _FRAME_RTP.size <= end:
        magic, _ms, length, b0, b1, seq, ts, ssrc, words = frame(data, pos)
        if magic != FRAME:
            break
        start = pos + 10
        pos = start + length
        if pos > end:
            break  # cut short by a crash: what came before is complete
        if length < 12 or length > MAX_RTP:
            continue
        if b0 & 0x1F == 0x10:  # no CSRC, a header extension (a browser's packets)
            first = start + 16 + (words << 2)
        else:
            first = start + 12 + ((b0 & 0x0F) << 2)  # after the CSRCs
            if b0 & 0x10 and first + 4 <= pos:  # the extension: 4 bytes + its words
                first += 4 + (ext_words(data, first + 2)[0] << 2)
        last = pos - data[pos - 1] if b0 & 0x20 else pos  # padding: its count is last
        if last < start:
            last = start
        if first > last:
            first = last
        append(_new(RtpPacket, (seq, ts, ssrc, b1 & 0x7F, b1 > 0x7F, first, last)))
    return packets


def read_mjr(path: Path, packets: int = 64) -> MjrTrack:
    """The header and the first `packets` RTP headers of the `.mjr` file `path`."""
    with path.open("rb") as f:
        head = f.read(10)
        size = struct.unpack(">H", head[8:])[0] if len(head) == 10 else 0
        header, kind, _ = _header(path, head, f.read(size))
        first: list[RtpHead] = []
        while len(first) < packets:
            frame = f.read(10)
            if len(frame) < 10 or frame[:4] != FRAME:
                break  # the end, or a frame cut short by a crash: enough was read
            (length,) = struct.unpack(">H", frame[8:])
            rtp = f.read(length)
            if len(rtp) < 12:
                break
            seq, ts, ssrc = struct.unpack(">HII", rtp[2:12])
            first.append(RtpHead(seq, ts, ssrc))
    first_us = int(header.get("u") or header.get("s") or 0)
    return MjrTrack(path, kind, str(header.get("c", "")), first_us, first)


__all__ = ["MjrError", "MjrPackets", "MjrTrack", "RtpHead", "RtpPacket", "read_mjr", "read_rtp"]
