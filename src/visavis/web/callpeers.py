"""Who takes part in each running call, and which socket holds each side.

A call is between the customer and the conversation's adviser, but either may have
the conversation open in several tabs or on two devices. Media must be negotiated by
exactly one socket per side: the one that asked for the call or answered it. Another
socket of the same side takes part only after `call.take` (or once the holder is gone,
e.g. after a reload or a server restart: then the first socket that signals holds it).

The participants (`CallPeers`) are kept in memory per node rather than read from the
database because a call set-up sends dozens of `rtc.signal` frames within a second
and each one needs the permission check (see docs/architecture.md); an entry is made
from the conversation summary on first use and dropped as soon as a
`conversation.update` shows another call or another adviser. The holders live in a
`HolderStore`: in memory for one process, in Redis with several nodes (a customer's
two tabs may be on two nodes, and must agree on which one holds the call). Peer ids
are random per socket, so they are unique across nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from visavis.protocol import frames as f

ROLES = ("customer", "adviser")


@dataclass(slots=True)
class CallPeers:
    conversation_id: str
    call_id: str
    adviser_id: str  # the conversation's adviser: the only adviser in the call

    @property
    def key(self) -> str:
        return f"{self.conversation_id}:{self.call_id}"


class HolderStore(Protocol):
    """Which socket (peer id) holds each side (role) of a call (`CallPeers.key`)."""

    async def hold(self, key: str, role: str, peer: str) -> str | None:
        """`peer` holds `role` now; returns who held it before."""
        ...

    async def hold_if_free(self, key: str, role: str, peer: str) -> str:
        """`peer` holds `role` unless someone does; returns who holds it."""
        ...

    async def holder(self, key: str, role: str) -> str | None: ...

    async def release(self, key: str, role: str, peer: str) -> None:
        """`peer` no longer holds `role` (if it still did)."""
        ...

    async def drop(self, key: str) -> None:
        """The call is over or moved to another adviser."""
        ...


class LocalHolders:
    def __init__(self) -> None:
        self._holders: dict[str, dict[str, str]] = {}

    async def hold(self, key: str, role: str, peer: str) -> str | None:
        sides = self._holders.setdefault(key, {})
        before = sides.get(role)
        sides[role] = peer
        return before

    async def hold_if_free(self, key: str, role: str, peer: str) -> str:
        return self._holders.setdefault(key, {}).setdefault(role, peer)

    async def holder(self, key: str, role: str) -> str | None:
        return self._holders.get(key, {}).get(role)

    async def release(self, key: str, role: str, peer: str) -> None:
        sides = self._holders.get(key)
        if sides is not None and sides.get(role) == peer:
            del sides[role]
            if not sides:
                del self._holders[key]

    async def drop(self, key: str) -> None:
        self._holders.pop(key, None)


class CallRegistry:
    def __init__(self, holders: HolderStore | None = None) -> None:
        self._calls: dict[str, CallPeers] = {}
        self.holders: HolderStore = holders or LocalHolders()
        # what this node's sockets hold, to release it when a socket closes
        self._held: dict[str, set[tuple[str, str]]] = {}  # peer -> {(key, role)}

    def get(self, conversation_id: str, call_id: str) -> CallPeers | None:
        entry = self._calls.get(conversation_id)
        return entry if entry is not None and entry.call_id == call_id else None

    def remember(self, conversation_id: str, conv: f.ConversationSummary) -> CallPeers | None:
        """The entry for the summary's current call (kept if it is the same call)."""
        call, adviser = conv.get("call"), conv.get("adviser")
        adviser_id = adviser.get("id") if adviser is not None else None
        if call is None or adviser_id is None:
            self._calls.pop(conversation_id, None)
            return None
        entry = self._calls.get(conversation_id)
        if entry is None or entry.call_id != call["id"] or entry.adviser_id != adviser_id:
            entry = self._calls[conversation_id] = CallPeers(
                conversation_id, call["id"], adviser_id
            )
        return entry

    def sync(self, conversation_id: str, conv: f.ConversationSummary) -> str | None:
        """A conversation.update: forget the entry unless it is still the same call
        with the same adviser. Returns the forgotten call's key (its holders go)."""
        entry = self._calls.get(conversation_id)
        call, adviser = conv.get("call"), conv.get("adviser")
        if entry is not None and (
            call is None
            or adviser is None
            or call["id"] != entry.call_id
            or adviser["id"] != entry.adviser_id
        ):
            del self._calls[conversation_id]
            return entry.key
        return None

    async def hold(self, entry: CallPeers, role: str, peer: str) -> str | None:
        self._held.setdefault(peer, set()).add((entry.key, role))
        return await self.holders.hold(entry.key, role, peer)

    async def hold_if_free(self, entry: CallPeers, role: str, peer: str) -> str:
        holder = await self.holders.hold_if_free(entry.key, role, peer)
        if holder == peer:
            self._held.setdefault(peer, set()).add((entry.key, role))
        return holder

    async def holder(self, entry: CallPeers, role: str) -> str | None:
        return await self.holders.holder(entry.key, role)

    async def release(self, peer: str) -> None:
        """A socket closed: it holds nothing any more."""
        for key, role in self._held.pop(peer, ()):
            await self.holders.release(key, role, peer)


__all__ = ["CallPeers", "CallRegistry", "HolderStore", "LocalHolders"]
