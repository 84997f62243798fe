from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# Called with the raw JSON payload; must not block (enqueue, don't await work).
Handler = Callable[[str], None]


class Bus(Protocol):
    async def publish(self, topic: str, payload: str) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...

    def unsubscribe(self, topic: str, handler: Handler) -> None: ...

    async def close(self) -> None: ...
