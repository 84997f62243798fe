"""A WebM file's duration from its Segment Info, read from its first kilobytes.

FFmpeg's Matroska muxer writes the Info element (time scale and duration) near the
start of the file and fills in the duration when it closes the file. Reading it here
saves an `ffprobe` process per recorded participant.
"""

from __future__ import annotations

import struct
from pathlib import Path

_SEGMENT = 0x18538067
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_CLUSTER = 0x1F43B675
HEAD_BYTES = 64 * 1024


class WebmError(ValueError):
    pass


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at `pos`: its value and the position after it."""
    if pos >= len(data):
        raise WebmError("cut short")
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        raise WebmError(f"bad EBML number at byte {pos}")
    value = first if keep_marker else first & ((0x80 >> (length - 1)) - 1)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, pos + length


def duration_s(path: Path) -> float:
    """The duration in seconds that the Info element of the WebM `path` gives."""
    with path.open("rb") as f:
        data = f.read(HEAD_BYTES)
    pos, end, scale, duration = 0, len(data), 1_000_000, None
    while pos < end:
        element, pos = _vint(data, pos, keep_marker=True)
        size, pos = _vint(data, pos, keep_marker=False)
        if element in (_SEGMENT, _INFO):
            if element == _INFO:
                end = min(end, pos + size)
            continue  # step into it
        if element == _CLUSTER:
            break
        body = data[pos : pos + size]
        if element == _TIMECODE_SCALE:
            scale = int.from_bytes(body, "big")
        elif element == _DURATION:
            duration = struct.unpack(">f" if size == 4 else ">d", body)[0]
        pos += size
    if duration is None:
        raise WebmError(f"{path.name}: no duration in its first {HEAD_BYTES} bytes")
    return float(duration) * scale / 1e9


__all__ = ["WebmError", "duration_s"]
