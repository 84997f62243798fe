"""Which advisers are online and what they chose (available/away).

Node-local: counts this node's sockets per adviser. With several nodes this moves
to Redis behind the same methods; the chosen status is also in the database so a
restart keeps it (the adviser's console reconnects by itself).
"""

from __future__ import annotations


class Presence:
    def __init__(self) -> None:
        self._sockets: dict[str, int] = {}
        self._status: dict[str, str] = {}

    def connect(self, adviser_id: str, status: str) -> bool:
        """Count a socket; True if the adviser was offline before."""
        n = self._sockets.get(adviser_id, 0)
        self._sockets[adviser_id] = n + 1
        self._status[adviser_id] = status
        return n == 0

    def disconnect(self, adviser_id: str) -> bool:
        """Uncount a socket; True if the adviser is now offline."""
        n = self._sockets.get(adviser_id, 0) - 1
        if n > 0:
            self._sockets[adviser_id] = n
            return False
        self._sockets.pop(adviser_id, None)
        self._status.pop(adviser_id, None)
        return True

    def set_status(self, adviser_id: str, status: str) -> None:
        if adviser_id in self._sockets:
            self._status[adviser_id] = status

    def status(self, adviser_id: str) -> str:
        return self._status.get(adviser_id, "offline") if adviser_id in self._sockets else "offline"

    def available_count(self) -> int:
        return sum(1 for s in self._status.values() if s == "available")
