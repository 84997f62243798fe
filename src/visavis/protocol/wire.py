"""Frames as text on the wire: compact JSON, UTF-8 as is (German text stays short)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from json.encoder import encode_basestring
from typing import Any

from visavis.errors import VisavisError
from visavis.protocol.common import MAX_JSON_DEPTH

# made once: `json.dumps` with options builds a new encoder on every call, which was
# a third of its cost on a busy server's hot path (the frames to its sockets)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(frame: Mapping[str, object]) -> str:
    """A frame (a TypedDict of `frames.py`, or a bus message built on one) as JSON."""
    return _encode(frame)


# A str as JSON, exactly as `dumps` writes it inside a frame (UTF-8 as is; the C
# encoder's own function), for frames put together from their parts on a hot path
# (conversations/chat_write.py).
json_string = encode_basestring


def json_string_or_null(value: str | None) -> str:
    """`json_string`, or `null` for None."""
    return "null" if value is None else encode_basestring(value)


def loads(raw: str | bytes, what: str = "frame") -> Any:
    """Client JSON (a frame, an HTTP body), refused with `bad_json` when it is not
    JSON, nests arrays/objects deeper than MAX_JSON_DEPTH (the parser recurses: ~1000
    levels raise RecursionError, a 500 and a traceback) or has a lone surrogate."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise VisavisError("bad_json", f"{what} nests deeper than {MAX_JSON_DEPTH}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise VisavisError("bad_json", f"{what} is not JSON: {exc}") from None
    if _brackets(raw) > MAX_JSON_DEPTH and _deeper_than(data, MAX_JSON_DEPTH):
        raise VisavisError("bad_json", f"{what} nests deeper than {MAX_JSON_DEPTH}")
    if _escaped_surrogate(raw):
        # "\\ud800" alone is JSON but no text: it could be neither echoed (UTF-8) nor
        # stored (PostgreSQL), and would fail there instead of here
        try:
            json.dumps(data, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise VisavisError("bad_json", f"{what} has a lone UTF-16 surrogate") from None
    return data


def _brackets(raw: str | bytes) -> int:
    """An upper bound of the nesting (brackets in strings count too): cheap, at C
    speed, so that only text that might be deep is walked."""
    if isinstance(raw, bytes):
        return raw.count(b"[") + raw.count(b"{")
    return raw.count("[") + raw.count("{")


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether arrays/objects nest deeper than `limit`: a walk without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _escaped_surrogate(raw: str | bytes) -> bool:
    if isinstance(raw, bytes):
        return b"\\ud" in raw or b"\\uD" in raw
    return "\\ud" in raw or "\\uD" in raw
