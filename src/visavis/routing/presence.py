"""Which advisers are online and what they chose (available/away).

Node-local: counts this node's sockets per adviser. With several nodes this moves
to Redis behind the same methods; the chosen status is also in the database so a
restart keeps it (the adviser's console reconnects by itself).
"""

from __future__ import annotations

from visavis.routing.decide import effective_chat_limit


class Presence:
    def __init__(self) -> None:
        self._sockets: dict[str, int] = {}
        self._status: dict[str, str] = {}
        self._load: dict[str, tuple[int, int]] = {}  # adviser -> (active, max_chats)
        self._own: dict[str, int | None] = {}  # adviser -> own limit (--max-chats)

    def connect(
        self,
        adviser_id: str,
        status: str,
        active: int = 0,
        max_chats: int = 0,
        own_max_chats: int | None = None,
    ) -> bool:
        """Count a socket; True if the adviser was offline before."""
        n = self._sockets.get(adviser_id, 0)
        self._sockets[adviser_id] = n + 1
        self._status[adviser_id] = status
        self._load[adviser_id] = (active, max_chats)
        self._own[adviser_id] = own_max_chats
        return n == 0

    def set_load(self, adviser_id: str, active: int, max_chats: int) -> None:
        if adviser_id in self._sockets:
            self._load[adviser_id] = (active, max_chats)

    def is_full(self, adviser_id: str) -> bool:
        active, max_chats = self._load.get(adviser_id, (0, 0))
        return max_chats > 0 and active >= max_chats

    def limit_for(self, adviser_id: str, team_limit: int | None) -> int:
        """The adviser's limit for a conversation of a team with `team_limit`."""
        _active, max_chats = self._load.get(adviser_id, (0, 0))
        # max_chats is the server default wherever the adviser has no own limit
        return effective_chat_limit(self._own.get(adviser_id), team_limit, max_chats)

    def available(self) -> dict[str, tuple[int, int]]:
        """Available advisers with their (active, max_chats)."""
        return {a: self._load.get(a, (0, 0)) for a, s in self._status.items() if s == "available"}

    def disconnect(self, adviser_id: str) -> bool:
        """Uncount a socket; True if the adviser is now offline."""
        n = self._sockets.get(adviser_id, 0) - 1
        if n > 0:
            self._sockets[adviser_id] = n
            return False
        self._sockets.pop(adviser_id, None)
        self._status.pop(adviser_id, None)
        self._load.pop(adviser_id, None)
        self._own.pop(adviser_id, None)
        return True

    def set_status(self, adviser_id: str, status: str) -> None:
        if adviser_id in self._sockets:
            self._status[adviser_id] = status

    def status(self, adviser_id: str) -> str:
        return self._status.get(adviser_id, "offline") if adviser_id in self._sockets else "offline"
