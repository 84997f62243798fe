"""ICE servers for a participant, with short-lived TURN credentials.

Only servers the operator configured are ever handed out (R10.1: no third-party
STUN/TURN). With coturn's `use-auth-secret`, credentials follow the TURN REST
scheme: username "<unix expiry>:<label>", password base64(HMAC-SHA1(secret, username)).
coturn checks the HMAC and refuses the username once the expiry has passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IceConfig:
    urls: tuple[str, ...]  # stun:/turn:/turns: URLs from VISAVIS_ICE_URLS
    turn_secret: str
    ttl_s: int
    transport_policy: str  # "all" | "relay"

    @classmethod
    def parse(cls, urls: str, turn_secret: str, ttl_s: int, transport_policy: str) -> IceConfig:
        items = tuple(u.strip() for u in urls.split(",") if u.strip())
        for u in items:
            if not u.startswith(("stun:", "turn:", "turns:")):
                raise ValueError(f"ICE URL must start with stun:, turn: or turns:, not {u!r}")
        if transport_policy not in ("all", "relay"):
            raise ValueError(f"ICE transport policy must be all or relay, not {transport_policy!r}")
        if ttl_s < 60:
            raise ValueError("TURN credential lifetime must be at least 60 s")
        return cls(items, turn_secret, ttl_s, transport_policy)


def turn_credential(
    secret: str, label: str, ttl_s: int, now: float | None = None
) -> tuple[str, str]:
    expiry = int((now if now is not None else time.time()) + ttl_s)
    username = f"{expiry}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(config: IceConfig, label: str, now: float | None = None) -> dict[str, Any]:
    """The RTCConfiguration parts for one participant (label names them in coturn logs)."""
    stun = [u for u in config.urls if u.startswith("stun:")]
    turn = [u for u in config.urls if not u.startswith("stun:")]
    servers: list[dict[str, Any]] = []
    if stun:
        servers.append({"urls": stun})
    if turn:
        if not config.turn_secret:
            raise ValueError("TURN URLs are configured but VISAVIS_TURN_SECRET is not")
        username, credential = turn_credential(config.turn_secret, label, config.ttl_s, now)
        servers.append({"urls": turn, "username": username, "credential": credential})
    return {
        "ice_servers": servers,
        "ice_transport_policy": config.transport_policy,
        "ttl_s": config.ttl_s,
    }
