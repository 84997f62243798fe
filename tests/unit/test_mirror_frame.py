"""The mirror's binary frame (protocol/mirror_frame.py): read strictly, for the socket's
own conversation only, every malformed header refused with a stable code, and errors
about it answered with the `cb-<n>` id the customer's browser restarts the stream on."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visavis.errors import VisavisError
from visavis.protocol.client import frame_id_of
from visavis.protocol.cobrowse import MAX_BATCH_FRAME_BYTES, MAX_CHUNK_BYTES
from visavis.protocol.mirror_frame import check_mirror_frame, is_mirror_frame, mirror_frame

CID = "conv-1"
NOW = 1_750_000_000_000


def refused(raw: bytes, conversation_id: str | None = CID) -> VisavisError:
    with pytest.raises(VisavisError) as caught:
        check_mirror_frame(raw, conversation_id)
    return caught.value


def test_a_frame_round_trips_for_the_sockets_conversation() -> None:
    raw = mirror_frame("page-0001", 7, b"\x01\x02\x03", NOW)
    assert is_mirror_frame(raw) and len(raw) == 15 + 9 + 3
    msg = check_mirror_frame(raw, CID)
    assert (msg.conversation_id, msg.stream, msg.n, msg.data) == (
        CID,
        "page-0001",
        7,
        b"\x01\x02\x03",
    )
    assert msg.sent_at == NOW and msg.id == "cb-7" and msg.type == "cobrowse.batch"
    assert frame_id_of(raw) == "cb-7"


def test_only_a_customer_socket_sends_it() -> None:
    assert refused(mirror_frame("page-0001", 0, b"x", NOW), None).code == "forbidden"


def test_json_is_never_taken_for_it() -> None:
    assert not is_mirror_frame(b'{"type":"ping"}') and not is_mirror_frame('{"v":1}')
    assert not is_mirror_frame(b"") and not is_mirror_frame(b"\x02rest")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"\x01\x01\x00", "header"),
        (b"\x01\x02" + b"\x00" * 13, "kind 2"),
        (struct.pack(">BBQIB", 1, 1, 0, 0, 9) + b"page-0001x", "sent_at 0"),
        (struct.pack(">BBQIB", 1, 1, NOW, 2**31, 9) + b"page-0001x", "out of range"),
        (struct.pack(">BBQIB", 1, 1, NOW, 0, 7) + b"page-00x", "stream id"),
        (struct.pack(">BBQIB", 1, 1, NOW, 0, 9) + b"page 0001x", "stream id"),
        (struct.pack(">BBQIB", 1, 1, NOW, 0, 40) + b"page-0001", "stream id"),
        (mirror_frame("page-0001", 0, b"", NOW), "expected 1-"),
        (mirror_frame("page-0001", 0, b"x" * (MAX_CHUNK_BYTES + 1), NOW), "expected 1-"),
    ],
)
def test_a_malformed_frame_is_refused(raw: bytes, says: str) -> None:
    err = refused(raw)
    assert err.code == "bad_request" and says in err.message, err.message


def test_a_frame_over_the_limit_is_too_large() -> None:
    raw = mirror_frame("page-0001", 3, b"x" * MAX_BATCH_FRAME_BYTES, NOW)
    assert refused(raw).code == "frame_too_large"
    assert frame_id_of(raw) == "cb-3" and frame_id_of(b"\x01\x01") == "cb-?"


@given(st.binary(max_size=200).map(lambda tail: b"\x01" + tail))
@settings(max_examples=500, deadline=None)
def test_any_bytes_are_read_or_refused_with_a_code(raw: bytes) -> None:
    try:
        msg = check_mirror_frame(raw, CID)
    except VisavisError as err:
        assert err.code in ("bad_request", "frame_too_large")
        assert str(frame_id_of(raw)).startswith("cb-")
    else:
        assert msg.conversation_id == CID and 0 < len(msg.data)
