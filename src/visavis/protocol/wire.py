"""Frames as text on the wire: compact JSON, UTF-8 as is (German text stays short)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

from visavis.errors import VisavisError
from visavis.protocol.common import MAX_JSON_DEPTH


def dumps(frame: Mapping[str, object]) -> str:
    """A frame (a TypedDict of `frames.py`, or a bus message built on one) as JSON."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def loads(raw: str | bytes, what: str = "frame") -> Any:
    """Client JSON (a frame, an HTTP body), refused with `bad_json` when it is not
    JSON or nests arrays/objects deeper than MAX_JSON_DEPTH (the parser would
    recurse ~1000 levels and fail with RecursionError: a 500 and a traceback)."""
    if _brackets(raw) > MAX_JSON_DEPTH:  # cheap: only then is the depth walked
        check_depth(raw, what)
    try:
        data = json.loads(raw)
    except RecursionError:
        raise VisavisError("bad_json", f"{what} nests deeper than {MAX_JSON_DEPTH}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise VisavisError("bad_json", f"{what} is not JSON: {exc}") from None
    if _escaped_surrogate(raw):
        # "\ud800" alone is JSON but no text: it could be neither echoed (UTF-8) nor
        # stored (PostgreSQL), and would fail there instead of here
        try:
            json.dumps(data, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise VisavisError("bad_json", f"{what} has a lone UTF-16 surrogate") from None
    return data


def _escaped_surrogate(raw: str | bytes) -> bool:
    if isinstance(raw, bytes):
        return b"\\ud" in raw or b"\\uD" in raw
    return "\\ud" in raw or "\\uD" in raw


def _brackets(raw: str | bytes) -> int:
    if isinstance(raw, bytes):
        return raw.count(b"[") + raw.count(b"{")
    return raw.count("[") + raw.count("{")


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_depth(raw: str | bytes, what: str) -> None:
    """Refuse text whose brackets (outside strings) nest deeper than MAX_JSON_DEPTH,
    before any parser recurses into it. Regular expressions drop the strings and all
    but the brackets (at C speed); invalid JSON passes here and the parser refuses it."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if max(accumulate(_DELTA[c] for c in brackets), default=0) > MAX_JSON_DEPTH:
        raise VisavisError("bad_json", f"{what} nests deeper than {MAX_JSON_DEPTH}")
