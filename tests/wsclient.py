"""A small real WebSocket client for tests (the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from visavis.protocol.messages import SERVER_MESSAGES


def check_server_frame(frame: dict[str, Any]) -> None:
    """Every frame the server sends must match its declared schema."""
    SERVER_MESSAGES[frame["type"]].model_validate(frame)


class WsClient:
    # every client a test opened, so teardown can close what a test forgot (an
    # unclosed transport would otherwise warn, as an error, in a later test)
    open_clients: set[WsClient] = set()

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []  # every frame, also those consumed
        self._cursor = 0
        self._new = asyncio.Event()
        self.closed_code: int | None = None
        self.token: str | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())
        WsClient.open_clients.add(self)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        token: str | None = None,
        cookie: str | None = None,
        origin: str | None = None,
        hello: bool = True,
    ) -> WsClient:
        headers = {}
        if cookie:
            headers["Cookie"] = f"visavis_session={cookie}"
        if origin:
            headers["Origin"] = origin
        ws = await websockets.connect(url, additional_headers=headers, max_size=2**22)
        client = cls(ws)
        client.token = token
        if hello:
            fields: dict[str, Any] = {"token": token} if token else {}
            welcome = await client.request("hello", **fields)
            assert welcome["type"] == "welcome", welcome
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                check_server_frame(frame)
                self.frames.append(frame)
                self.received.append(frame)
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_code = self.ws.close_code or 1006
            self._new.set()

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def send(self, type: str, **fields: Any) -> str:
        fid = fields.pop("id", None) or uuid.uuid4().hex[:12]
        await self.ws.send(json.dumps({"v": 1, "type": type, "id": fid, **fields}))
        return str(fid)

    async def wait_for(self, pred: Any, timeout: float = 5.0) -> dict[str, Any]:
        """The first frame (not yet consumed) matching pred; earlier ones stay available."""

        async def scan() -> dict[str, Any]:
            while True:
                for i in range(self._cursor, len(self.frames)):
                    if pred(self.frames[i]):
                        frame = self.frames.pop(i)
                        return frame
                if self.closed_code is not None:
                    raise ConnectionError(f"socket closed ({self.closed_code})")
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def expect(self, type: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        return await self.wait_for(
            lambda f: f["type"] == type and all(f.get(k) == v for k, v in match.items()), timeout
        )

    async def request(self, type: str, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        fid = await self.send(type, **fields)
        return await self.wait_for(lambda f: f.get("id") == fid, timeout)

    def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Consume and return the event frames received so far for a conversation."""
        out = [
            f
            for f in self.frames
            if f["type"] == "event" and f["conversation_id"] == conversation_id
        ]
        self.frames = [f for f in self.frames if f not in out]
        return out

    async def wait_closed(self, timeout: float = 5.0) -> int:
        await asyncio.wait_for(self._reader, timeout)
        assert self.closed_code is not None
        return self.closed_code

    async def close(self) -> None:
        WsClient.open_clients.discard(self)
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


async def login(base_url: str, email: str, password: str) -> tuple[str, str]:
    """Log an adviser in over HTTP; return (session cookie, csrf token)."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        r = await client.post("/api/v1/session", json={"email": email, "password": password})
        r.raise_for_status()
        return r.cookies["visavis_session"], r.json()["csrf_token"]


async def new_conversation(base_url: str, **body: Any) -> tuple[str, str]:
    """Start a conversation as a customer; return (conversation id, token)."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        r = await client.post("/api/v1/conversations", json=body)
        assert r.status_code == 201, r.text
        data = r.json()
        return data["conversation"]["id"], data["token"]


def cid() -> str:
    return uuid.uuid4().hex
