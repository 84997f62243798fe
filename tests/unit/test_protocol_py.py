"""The committed TypedDicts of server frames match the pydantic schemas."""

from __future__ import annotations

from typing import get_args

from visavis.protocol import frames, typeddicts
from visavis.protocol.messages import SERVER_MESSAGES
from visavis.protocol.replies import ack, chat_ack_text
from visavis.protocol.wire import dumps


def test_committed_file_is_current() -> None:
    committed = typeddicts.OUTPUT.read_text(encoding="utf-8")
    assert committed == typeddicts.render(), (
        "src/visavis/protocol/frames.py is stale: run `visavis protocol-py` "
        "(or `python -m visavis.protocol.typeddicts`) and commit the result"
    )


def test_every_server_message_is_a_frame_of_the_union() -> None:
    union = set(get_args(frames.ServerFrame))
    for kind, model in SERVER_MESSAGES.items():
        typed = getattr(frames, typeddicts.frame_name(model))
        assert typed in union, kind
        assert typed.__annotations__["type"].__args__ == (kind,)
    assert len(union) == len(SERVER_MESSAGES)


def test_required_keys_follow_the_defaults() -> None:
    """A field with a default may be left out, except `v`; everything else must be there."""
    for model in SERVER_MESSAGES.values():
        typed = getattr(frames, typeddicts.frame_name(model))
        keys = {n: f.alias or n for n, f in model.model_fields.items()}  # `from_` is `from`
        required = {keys[n] for n, f in model.model_fields.items() if f.is_required()} | {"v"}
        assert typed.__required_keys__ == required, model.__name__
        assert typed.__optional_keys__ == set(keys.values()) - required, model.__name__


def test_render_is_deterministic() -> None:
    assert typeddicts.render() == typeddicts.render()


def test_a_chat_ack_is_written_as_dumps_writes_it() -> None:
    """`chat_ack_text` (the ack per chat message, made without the encoder's walk) is
    character for character `dumps(ack(...))`, escapes included."""
    for fid in (None, "f-1", 'q"uote\\', "Grüße\n\u2028", "\x00\x1f"):
        for cid, seq in (("c_1", 0), ("abc-DEF_9", 2**62)):
            assert chat_ack_text(fid, cid, seq) == dumps(ack(fid, cid, seq))
