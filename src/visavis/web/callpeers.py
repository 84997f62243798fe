"""Who takes part in each running call, and which socket holds each side, in memory.

A call is between the customer and the conversation's adviser, but either may have
the conversation open in several tabs or on two devices. Media must be negotiated by
exactly one socket per side: the one that asked for the call or answered it. Another
socket of the same side takes part only after `call.take` (or once the holder is gone,
e.g. after a reload or a server restart: then the first socket that signals holds it).

Kept here rather than read from the database because a call set-up sends dozens of
`rtc.signal` frames within a second and each one needs the permission check (see
docs/architecture.md). An entry is made from the conversation summary on first use and
dropped as soon as a `conversation.update` shows another call or another adviser.
Peer ids are per node; with several nodes each node knows its own holders only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from visavis.protocol import frames as f

ROLES = ("customer", "adviser")


@dataclass(slots=True)
class CallPeers:
    call_id: str
    adviser_id: str  # the conversation's adviser: the only adviser in the call
    holders: dict[str, str] = field(default_factory=dict)  # role -> socket peer id


class CallRegistry:
    def __init__(self) -> None:
        self._calls: dict[str, CallPeers] = {}

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
            entry = self._calls[conversation_id] = CallPeers(call["id"], adviser_id)
        return entry

    def sync(self, conversation_id: str, conv: f.ConversationSummary) -> None:
        """A conversation.update: forget the entry unless it is still the same call
        with the same adviser."""
        entry = self._calls.get(conversation_id)
        call, adviser = conv.get("call"), conv.get("adviser")
        if entry is not None and (
            call is None
            or adviser is None
            or call["id"] != entry.call_id
            or adviser["id"] != entry.adviser_id
        ):
            del self._calls[conversation_id]

    def release(self, peer_id: str) -> None:
        """A socket closed: it holds nothing any more."""
        for entry in self._calls.values():
            for role in ROLES:
                if entry.holders.get(role) == peer_id:
                    del entry.holders[role]


__all__ = ["CallPeers", "CallRegistry"]
