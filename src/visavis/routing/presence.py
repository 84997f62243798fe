"""Which advisers are online and what they chose (available/away).

Each node counts its own sockets per adviser (`connect`/`disconnect`) and keeps the
entries it owns. With several nodes, the entries the other nodes own arrive through
`apply_remote` (see `web/cluster.py`: published on the bus, kept in Redis for nodes
that start later) and `listener` hears every change of an entry this node owns, so
that it can be published. Reads (`status`, `available`, ...) see the whole picture:
this node's entry first, else another node's. The chosen status is also in the
database so a restart keeps it (the adviser's console reconnects by itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from visavis.routing.decide import effective_chat_limit


class Entry(NamedTuple):
    status: str
    active: int
    max_chats: int
    own: int | None  # the adviser's own limit (--max-chats)


class Presence:
    def __init__(self) -> None:
        self._sockets: dict[str, int] = {}
        self._local: dict[str, Entry] = {}
        self._remote: dict[str, dict[str, Entry]] = {}  # node -> adviser -> entry
        # told the adviser id whenever an entry this node owns changed or went
        self.listener: Callable[[str], None] | None = None

    def connect(
        self,
        adviser_id: str,
        status: str,
        active: int = 0,
        max_chats: int = 0,
        own_max_chats: int | None = None,
    ) -> bool:
        """Count a socket; True if the adviser was offline (on every node) before."""
        was_online = self.online(adviser_id)
        n = self._sockets.get(adviser_id, 0)
        self._sockets[adviser_id] = n + 1
        self._set(adviser_id, Entry(status, active, max_chats, own_max_chats))
        return not was_online

    def set_load(self, adviser_id: str, active: int, max_chats: int) -> None:
        entry = self._local.get(adviser_id)
        if entry is not None:
            self._set(adviser_id, entry._replace(active=active, max_chats=max_chats))

    def set_status(self, adviser_id: str, status: str) -> None:
        entry = self._local.get(adviser_id)
        if entry is not None:
            self._set(adviser_id, entry._replace(status=status))

    def disconnect(self, adviser_id: str) -> bool:
        """Uncount a socket; True if the adviser is now offline (on every node)."""
        n = self._sockets.get(adviser_id, 0) - 1
        if n > 0:
            self._sockets[adviser_id] = n
            return False
        self._sockets.pop(adviser_id, None)
        if self._local.pop(adviser_id, None) is not None and self.listener is not None:
            self.listener(adviser_id)
        return not self.online(adviser_id)

    def _set(self, adviser_id: str, entry: Entry) -> None:
        if self._local.get(adviser_id) == entry:
            return
        self._local[adviser_id] = entry
        if self.listener is not None:
            self.listener(adviser_id)

    # ------------------------------------------------------------ other nodes
    def local(self, adviser_id: str) -> Entry | None:
        """The entry this node owns (it holds sockets of the adviser)."""
        return self._local.get(adviser_id)

    def local_entries(self) -> dict[str, Entry]:
        return dict(self._local)

    def apply_remote(self, node: str, adviser_id: str, entry: Entry | None) -> None:
        entries = self._remote.setdefault(node, {})
        if entry is None:
            entries.pop(adviser_id, None)
        else:
            entries[adviser_id] = entry

    def drop_node(self, node: str) -> bool:
        """Another node is gone: its advisers with it. True if it had any."""
        return bool(self._remote.pop(node, None))

    def nodes(self) -> list[str]:
        return list(self._remote)

    # ------------------------------------------------------------ reading
    def _entry(self, adviser_id: str) -> Entry | None:
        entry = self._local.get(adviser_id)
        if entry is not None:
            return entry
        for entries in self._remote.values():
            entry = entries.get(adviser_id)
            if entry is not None:
                return entry
        return None

    def online(self, adviser_id: str) -> bool:
        return self._entry(adviser_id) is not None

    def is_full(self, adviser_id: str) -> bool:
        entry = self._entry(adviser_id)
        return entry is not None and entry.max_chats > 0 and entry.active >= entry.max_chats

    def limit_for(self, adviser_id: str, team_limit: int | None) -> int:
        """The adviser's limit for a conversation of a team with `team_limit`."""
        entry = self._entry(adviser_id)
        if entry is None:
            return effective_chat_limit(None, team_limit, 0)
        # max_chats is the server default wherever the adviser has no own limit
        return effective_chat_limit(entry.own, team_limit, entry.max_chats)

    def available(self) -> dict[str, tuple[int, int]]:
        """Available advisers with their (active, max_chats)."""
        out: dict[str, tuple[int, int]] = {}
        for entries in (*self._remote.values(), self._local):  # this node's last: it wins
            for aid, e in entries.items():
                if e.status == "available":
                    out[aid] = (e.active, e.max_chats)
                else:
                    out.pop(aid, None)
        return out

    def status(self, adviser_id: str) -> str:
        entry = self._entry(adviser_id)
        return entry.status if entry is not None else "offline"
