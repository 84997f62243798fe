"""Ids of the records people copy and type (conversations, documents, forms,
appointments, recordings): URL-safe, and never beginning with "-", which a command
line reads as an option (`visavis subject erase --conversation -HP1…` failed: one
id in 64 began so)."""

from __future__ import annotations

import secrets


def new_id(nbytes: int) -> str:
    """A random URL-safe id of `nbytes` random bytes, not beginning with "-"."""
    while True:
        candidate = secrets.token_urlsafe(nbytes)
        if not candidate.startswith("-"):
            return candidate
