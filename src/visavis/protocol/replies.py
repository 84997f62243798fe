"""The gateway's answers to a command, built typed: `ack` and `error`.

A wrong key or value type is a mypy error (`frames.AckFrame`, `frames.ErrorFrame`);
at runtime each is one dict literal, as before, with the same keys in the same order.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any

from visavis.protocol import frames as f
from visavis.protocol.wire import json_string_or_null


def ack(fid: str | None, conversation_id: str | None = None, seq: int | None = None) -> f.AckFrame:
    """The command `fid` was accepted; `seq`: the event it stored (chat, call, transfer)."""
    if seq is not None:
        return {"v": 1, "type": "ack", "id": fid, "conversation_id": conversation_id, "seq": seq}
    if conversation_id is not None:
        return {"v": 1, "type": "ack", "id": fid, "conversation_id": conversation_id}
    return {"v": 1, "type": "ack", "id": fid}


def chat_ack_text(fid: str | None, conversation_id: str, seq: int) -> str:
    """`ack(fid, conversation_id, seq)` as `wire.dumps` writes it, character for
    character, without the encoder's walk over a dict: the one answer per chat message.
    The strings are escaped by the function `dumps` uses for them (no `ensure_ascii`)."""
    return (
        '{"v":1,"type":"ack","id":'
        + json_string_or_null(fid)
        + ',"conversation_id":'
        + encode_basestring(conversation_id)
        + ',"seq":'
        + str(seq)
        + "}"
    )


def error(
    fid: str | None, code: str, message: str, details: dict[str, Any] | None = None
) -> f.ErrorFrame:
    """The command `fid` (None: not known) was refused with a stable `code`; `details`:
    machine-readable facts of the refusal (a form conflict's current value)."""
    if details:
        return {"v": 1, "type": "error", "id": fid, "code": code, "message": message,
                "details": details}  # fmt: skip
    return {"v": 1, "type": "error", "id": fid, "code": code, "message": message}
