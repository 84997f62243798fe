from __future__ import annotations

import logging

from visavis.bus.base import Handler, Routed

log = logging.getLogger(__name__)


class MemoryBus:
    """In-process bus: publish calls the topic's handlers directly."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    async def publish(self, topic: str, payload: str, frame: Routed | None = None) -> None:
        for handler in tuple(self._handlers.get(topic, ())):
            try:
                handler(payload, frame)
            except Exception:
                # One broken subscriber must not stop delivery to the others.
                log.exception("bus handler failed for topic %s", topic)

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def unsubscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._handlers.get(topic)
        if not handlers:
            return
        try:
            handlers.remove(handler)
        except ValueError:
            return
        if not handlers:
            del self._handlers[topic]

    async def settled(self) -> None:
        return  # one process: a subscription holds from the call on

    async def close(self) -> None:
        self._handlers.clear()
