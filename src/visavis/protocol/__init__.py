"""Wire protocol: the JSON envelope and every message's schema.

This package imports no domain package. `docs/protocol.md` is checked against
`CLIENT_MESSAGES` and `SERVER_MESSAGES` by a test, and the TypeScript types in
`frontend/src/lib/protocol.gen.ts` are generated from them (`visavis protocol-ts`).
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
