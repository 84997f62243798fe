"""The server's check of the co-browsing mirror stream (collab/cobrowse.py): chunks of
one DEFLATE stream per page snapshot, taken in order only, each batch (a line of the
inflated text) bounded — a small frame never grows into a bomb in the adviser's
browser — and a refused chunk breaks the stream until a new one begins."""

from __future__ import annotations

import json
import zlib

import pytest

from visavis.collab.cobrowse import MirrorStream
from visavis.errors import VisavisError
from visavis.protocol.cobrowse import MAX_LINE_BYTES


class Sender:
    """What the customer's browser does: one deflater per stream, a sync flush per batch."""

    def __init__(self) -> None:
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)

    def chunk(self, text: bytes) -> bytes:
        return self.deflater.compress(text) + self.deflater.flush(zlib.Z_SYNC_FLUSH)

    def batch(self, events: list[dict[str, int]]) -> bytes:
        return self.chunk(json.dumps(events).encode() + b"\n")


def refused(stream: MirrorStream, sid: str, n: int, data: bytes) -> str:
    with pytest.raises(VisavisError) as caught:
        stream.check_chunk(sid, n, data)
    assert caught.value.code == "bad_request"
    return caught.value.message


def test_chunks_in_order_are_taken_and_a_gap_is_refused() -> None:
    mirror, sender = MirrorStream(), Sender()
    for n in range(3):
        mirror.check_chunk("page-1", n, sender.batch([{"type": 3, "n": n}]))
    assert "expected chunk 3 of page-1" in refused(mirror, "page-1", 4, sender.batch([]))
    assert "expected chunk 3 of page-1" in refused(mirror, "other", 3, sender.batch([]))
    # a new stream (a fresh snapshot) is always taken
    mirror.check_chunk("page-2", 0, Sender().batch([{"type": 4}]))


def test_before_chunk_0_nothing_is_taken() -> None:
    assert "expected chunk 0" in refused(MirrorStream(), "page-1", 1, Sender().batch([]))


def test_a_bomb_is_refused_and_breaks_the_stream() -> None:
    mirror, sender = MirrorStream(), Sender()
    mirror.check_chunk("page-1", 0, sender.batch([{"type": 4}]))
    # spaces deflate a thousandfold: 8 MiB + 1 inside one batch, sent in two chunks
    half = MAX_LINE_BYTES // 2 + 1
    mirror.check_chunk("page-1", 1, sender.chunk(b"[" + b" " * half))
    assert "beyond" in refused(mirror, "page-1", 2, sender.chunk(b" " * half + b"]\n"))
    assert "expected chunk 0" in refused(mirror, "page-1", 3, sender.batch([]))


def test_many_batches_together_may_be_large() -> None:
    mirror, sender = MirrorStream(), Sender()
    line = b"[" + b" " * (MAX_LINE_BYTES // 3) + b"]\n"
    mirror.check_chunk("page-1", 0, sender.chunk(line * 4))


def test_garbage_is_refused() -> None:
    mirror = MirrorStream()
    assert "not raw DEFLATE" in refused(mirror, "page-1", 0, b"\xff\xff")
    ended = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    whole = ended.compress(b"[]\n") + ended.flush()
    assert "ended" in refused(mirror, "page-1", 0, whole)
