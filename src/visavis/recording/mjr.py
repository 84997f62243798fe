"""Reading Janus's `.mjr` track files (format `MJR00002`) without `janus-pp-rec`.

A file is the 8-byte magic, a 2-byte length and the JSON header (`t` kind, `c` codec,
`u` wall clock in µs of the first written packet, ...), then one frame per packet:
`MEET`, 4 bytes of milliseconds since the first packet, a 2-byte length, the RTP
packet. Janus rewrites each packet's sequence number and timestamp so that the
first written packet has sequence 1 and timestamp 0 (`janus_rtp_header_update`);
the SSRC stays the sender's. Only the header and the first packets are read: what
the sync needs (`rtcp_sync.py`); `janus-pp-rec` reads the whole file once, to convert.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"MJR00002"
FRAME = b"MEET"


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


def read_mjr(path: Path, packets: int = 64) -> MjrTrack:
    """The header and the first `packets` RTP headers of the `.mjr` file `path`."""
    with path.open("rb") as f:
        head = f.read(10)
        if len(head) < 10 or head[:8] != MAGIC:
            raise MjrError(f"{path.name}: not an MJR00002 file (starts {head[:8]!r})")
        (size,) = struct.unpack(">H", head[8:])
        header = json.loads(f.read(size))
        kind = {"a": "audio", "v": "video"}.get(str(header.get("t")), "")
        if not kind:
            raise MjrError(f"{path.name}: a {header.get('t')!r} track, not audio or video")
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


__all__ = ["MjrError", "MjrTrack", "RtpHead", "read_mjr"]
