"""The one binary frame of the protocol: a chunk of the customer's co-browsing mirror
stream (protocol/cobrowse.py), sent by the customer's browser as a binary WebSocket
message so that the stream's DEFLATE bytes travel as they are — no base64 (a third
more) and no JSON envelope (150 bytes, more than most chunks' data).

Layout (big-endian):

    offset  size  field
    0       1     version, 1
    1       1     kind, 1 = mirror chunk
    2       8     sent_at: the recorder's flush, ms since the epoch (unsigned)
    10      4     n: the chunk's number in its stream (0 begins a stream)
    14      1     L: length of the stream id (8-64)
    15      L     the stream id, ASCII [A-Za-z0-9_-]
    15+L    rest  the stream's next bytes up to a sync flush (1-MAX_CHUNK_BYTES)

The frame names no conversation: a customer's socket belongs to one conversation,
and only customers send the mirror. Text frames are JSON; a binary frame whose first
byte is not 1 is read as JSON text as before (byte 1 cannot begin JSON).
"""

from __future__ import annotations

import re
import struct

from visavis.errors import VisavisError
from visavis.protocol.cobrowse import MAX_BATCH_FRAME_BYTES, MAX_CHUNK_BYTES, CobrowseBatch

VERSION = 1
KIND_MIRROR_CHUNK = 1
_HEAD = struct.Struct(">BBQIB")
_STREAM = re.compile(rb"[A-Za-z0-9_-]{8,64}")
_MAX_N = 2**31 - 1
_MAX_SENT_AT = 10**14


def is_mirror_frame(raw: str | bytes) -> bool:
    return isinstance(raw, bytes) and raw[:1] == bytes([VERSION])


def mirror_frame_id(raw: bytes) -> str:
    """The id errors about this frame carry: `cb-<n>` (the customer's browser starts a
    new stream on any of them), `cb-?` when not even `n` can be read."""
    if len(raw) >= _HEAD.size:
        return f"cb-{_HEAD.unpack_from(raw)[3]}"
    return "cb-?"


def check_mirror_frame(raw: bytes, conversation_id: str | None) -> CobrowseBatch:
    """The chunk this frame carries, for the socket's conversation; VisavisError with a
    stable code when the frame is not one."""
    if len(raw) > MAX_BATCH_FRAME_BYTES:
        raise VisavisError(
            "frame_too_large", f"frame is {len(raw)} bytes, limit {MAX_BATCH_FRAME_BYTES}"
        )
    if conversation_id is None:
        raise VisavisError("forbidden", "only the customer's browser sends the mirror")
    if len(raw) < _HEAD.size:
        raise VisavisError(
            "bad_request", f"mirror frame of {len(raw)} bytes, expected a {_HEAD.size}-byte header"
        )
    version, kind, sent_at, n, size = _HEAD.unpack_from(raw)
    if version != VERSION or kind != KIND_MIRROR_CHUNK:
        raise VisavisError(
            "bad_request", f"binary frame version {version} kind {kind}, expected 1 and 1"
        )
    if not 0 < sent_at < _MAX_SENT_AT or n > _MAX_N:
        raise VisavisError("bad_request", f"mirror frame sent_at {sent_at} or n {n} out of range")
    stream = raw[_HEAD.size : _HEAD.size + size]
    if len(stream) != size or not _STREAM.fullmatch(stream):
        raise VisavisError("bad_request", "mirror frame stream id is not 8-64 of [A-Za-z0-9_-]")
    data = raw[_HEAD.size + size :]
    if not 0 < len(data) <= MAX_CHUNK_BYTES:
        raise VisavisError(
            "bad_request", f"mirror chunk of {len(data)} bytes, expected 1-{MAX_CHUNK_BYTES}"
        )
    return CobrowseBatch(
        id=f"cb-{n}",
        type="cobrowse.batch",
        conversation_id=conversation_id,
        sent_at=float(sent_at),
        stream=stream.decode("ascii"),
        n=n,
        data=data,
    )


def mirror_frame(stream: str, n: int, data: bytes, sent_at: int) -> bytes:
    """A mirror frame (what the customer's browser sends; for tests and benches)."""
    sid = stream.encode("ascii")
    return _HEAD.pack(VERSION, KIND_MIRROR_CHUNK, sent_at, n, len(sid)) + sid + data
