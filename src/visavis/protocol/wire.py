"""Frames as text on the wire: compact JSON, UTF-8 as is (German text stays short)."""

from __future__ import annotations

import json
from typing import Any


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
