"""Wire protocol: the JSON envelope and every message's schema.

This package imports no domain package. The schemas are pydantic models by direction
(`client.py`, `server.py`, shared parts in `common.py`; `messages.py` has them all).
`docs/protocol.md` is checked against `CLIENT_MESSAGES` and `SERVER_MESSAGES` by a
test; the TypeScript types in `frontend/src/lib/protocol.gen.ts` (`visavis
protocol-ts`) and the TypedDicts of server frames in `frames.py` (`visavis
protocol-py`) are generated from them.
"""

from visavis.protocol.messages import (
    CLIENT_MESSAGES,
    MAX_FRAME_BYTES,
    MAX_TEXT_CHARS,
    PROTOCOL_VERSION,
    SERVER_MESSAGES,
    ClientMessage,
    parse_client_frame,
)

__all__ = [
    "CLIENT_MESSAGES",
    "MAX_FRAME_BYTES",
    "MAX_TEXT_CHARS",
    "PROTOCOL_VERSION",
    "SERVER_MESSAGES",
    "ClientMessage",
    "parse_client_frame",
]
