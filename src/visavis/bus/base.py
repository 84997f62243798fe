from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

# The frame a payload encodes, handed to the handlers of the process that published it
# alongside the text, so that they route it without decoding the text again (one
# `json.loads` per event per node was a tenth of a chat server's CPU). Shared by all
# handlers: read it, never change it. None when the payload came from another node.
Routed = Mapping[str, Any]

# Called with the raw JSON payload and, from this process, the frame it encodes; must
# not block (enqueue, don't await work).
Handler = Callable[[str, Routed | None], None]


class Bus(Protocol):
    async def publish(self, topic: str, payload: str, frame: Routed | None = None) -> None:
        """`payload` to every handler of `topic` on every node; `frame`, when given, is
        what `payload` encodes (the same, not more: other nodes only get the text)."""
        ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...

    def unsubscribe(self, topic: str, handler: Handler) -> None: ...

    async def settled(self) -> None:
        """Returns once what other nodes publish on the topics subscribed so far
        reaches this node: what is read from the database after following a topic is
        read after this, so that an event committed meanwhile comes in the read or
        live, never in neither."""
        ...

    async def close(self) -> None: ...
