"""Frames as text on the wire: compact JSON, UTF-8 as is (German text stays short)."""

from __future__ import annotations

import json
from collections.abc import Mapping


def dumps(frame: Mapping[str, object]) -> str:
    """A frame (a TypedDict of `frames.py`, or a bus message built on one) as JSON."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
