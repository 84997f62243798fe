"""web/rfc6455.py: the frames it reads and writes are the ones websockets reads and
writes, and it leaves everything else to websockets."""

from __future__ import annotations

import os

import pytest
from websockets.frames import Frame, Opcode

from visavis.web.rfc6455 import take_text_frames, text_frame

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 70000]


def client_frame(data: bytes, opcode: Opcode = Opcode.TEXT, fin: bool = True) -> bytes:
    """As a client sends it: masked with a fresh random mask (websockets' own)."""
    return Frame(opcode, data, fin).serialize(mask=True)


@pytest.mark.parametrize("size", SIZES)
def test_a_server_frame_is_the_one_websockets_makes(size: int) -> None:
    data = os.urandom(size)
    assert text_frame(data) == Frame(Opcode.TEXT, data).serialize(mask=False)


@pytest.mark.parametrize("size", [n for n in SIZES if n < 65536])
def test_client_frames_are_read_and_unmasked_as_sent(size: int) -> None:
    payloads = [os.urandom(size), b"second", "ü €".encode()]
    data = b"".join(client_frame(p) for p in payloads)
    assert take_text_frames(data, None) == (payloads, len(data))


def test_a_frame_not_complete_yet_is_left_at_every_cut() -> None:
    first = client_frame(b"complete")
    second = client_frame(b"x" * 300)  # with a two-byte length
    for cut in range(len(second)):
        data = first + second[:cut]
        assert take_text_frames(data, None) == ([b"complete"], len(first)), cut


@pytest.mark.parametrize(
    "other",
    [
        client_frame(b"", Opcode.PING),
        client_frame(b"\x03\xe8", Opcode.CLOSE),
        client_frame(b"\x01", Opcode.BINARY),
        client_frame(b"part", fin=False),  # a fragmented message: websockets' to join
        Frame(Opcode.TEXT, b"unmasked").serialize(mask=False),  # a protocol error there
        bytes([0xC1]) + client_frame(b"rsv1")[1:],  # a reserved bit: an error there too
        client_frame(b"y" * 70000),  # a 64-bit length
    ],
    ids=["ping", "close", "binary", "fragment", "unmasked", "reserved bit", "64-bit length"],
)
def test_anything_else_stops_the_reading_where_it_begins(other: bytes) -> None:
    before, after = client_frame(b"before"), client_frame(b"after")
    data = before + other + after
    assert take_text_frames(data, None) == ([b"before"], len(before))


def test_a_frame_over_the_limit_is_left_to_websockets() -> None:
    small, large = client_frame(b"a" * 100), client_frame(b"b" * 101)
    assert take_text_frames(small + large, 100) == ([b"a" * 100], len(small))
    assert take_text_frames(large, 101) == ([b"b" * 101], len(large))
