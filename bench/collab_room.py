"""The parts of bench/collab.py that need a room on a real server (`visavis serve` in a
temp dir): a customer and an adviser in one active conversation, each a WebSocket
(every frame stamped with CLOCK_MONOTONIC on arrival) and an HTTP client
authenticated as that participant. Both sides are Python clients (`websockets`,
`httpx`) in this process, not browsers: the room's document UI is still being built.
So a browser's JPEG decode and paint are not in these figures.

- `upload`: "upload -> first page visible on the other side". Per run one side (the
  adviser and the customer take turns) uploads a new 10-page PDF over HTTP and sends
  `doc.present` page 0; the other side, on the `document.presented` event, asks for an
  access token and GETs page 0 at 1600 px. Measured from the start of the upload to the
  last byte of that JPEG on the other side. Every run's PDF is a different file (pages
  are cached by content), so every run renders on a cache miss, as a new upload does.
  The first run after the server's start is reported apart (cold).
- `pointer`: the adviser sends `pointer` frames at `--pointer-rate` for
  `--pointer-seconds`; x carries the frame's number (k / total), so each frame that
  arrives at the customer (the relay coalesces: not every one does) is matched to its
  send time. At the same time both sides send a chat message a second in the same
  conversation; their delivery (send -> `event` at the other side) is reported next to
  the pointer's. Then the same at 2/3 of that rate, below the relay's budget (30 a
  second per socket): what the relay costs when no frame waits for a coalescing slot.
  (At exactly the budget, a frame arriving a little under 1/30 s after the last one
  relayed waits for the slot, and that moves the slot later for the next one: the
  difference between the two windows is this wait.)
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import websockets
from _common import PASSWORD, Server
from collab_common import Part, mixed_pdf, stats
from PIL import Image
from websockets.asyncio.client import ClientConnection

from visavis.web.ephemeral import RELAY_PER_S

UPLOAD_PAGES = 10
UPLOAD_WIDTH = 1600
TARGET_UPLOAD_P99_MS = 1500.0
TARGET_POINTER_P99_MS = 50.0
POINTER_VS_CHAT_MAX = 2.0  # pointer p99 at most this times the chat p99
TIMEOUT_S = 30.0
EMAIL = "bench@musterbank.test"
RECEIVER = "Python WebSocket/HTTP clients (no browser: the room's document UI is being built)"

Frame = dict[str, Any]


def ms(ns: int) -> float:
    return ns / 1e6


class Peer:
    """One participant: its socket (frames kept with their arrival time) and HTTP client."""

    def __init__(self, role: str, ws: ClientConnection, http: httpx.AsyncClient) -> None:
        self.role = role
        self.ws = ws
        self.http = http
        self.frames: list[tuple[int, Frame]] = []
        self.closed = False
        self._new = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(
        cls, role: str, server: Server, http: httpx.AsyncClient, cookie: str | None = None
    ) -> Peer:
        headers = {"Cookie": f"visavis_session={cookie}"} if cookie else None
        ws = await websockets.connect(
            server.ws_url,
            additional_headers=headers,
            compression=None,  # the server has per-message deflate off
            ping_interval=None,  # browsers send no protocol pings; the app pings
            max_size=2**22,
            open_timeout=TIMEOUT_S,
            proxy=None,
        )
        return cls(role, ws, http)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.frames.append((time.monotonic_ns(), json.loads(raw)))
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._new.set()

    async def send(self, type_: str, **fields: Any) -> str:
        fid = str(fields.pop("id", None) or secrets.token_hex(6))
        await self.ws.send(json.dumps({"v": 1, "type": type_, "id": fid, **fields}))
        return fid

    async def wait_for(
        self, pred: Callable[[Frame], bool], since: int, timeout: float = TIMEOUT_S
    ) -> tuple[int, Frame]:
        """The first frame from index `since` on matching `pred`, with its arrival time."""

        async def scan() -> tuple[int, Frame]:
            i = since
            while True:
                while i < len(self.frames):
                    at, frame = self.frames[i]
                    i += 1
                    if pred(frame):
                        return at, frame
                if self.closed:
                    raise ConnectionError(f"the {self.role}'s socket closed")
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def request(self, type_: str, **fields: Any) -> Frame:
        since = len(self.frames)
        fid = await self.send(type_, **fields)
        _, frame = await self.wait_for(lambda f: f.get("id") == fid, since)
        if frame["type"] == "error":
            raise RuntimeError(f"{self.role}: {type_} refused: {frame}")
        return frame

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.http.aclose()


@dataclass
class Room:
    cid: str
    adviser: Peer
    customer: Peer

    async def close(self) -> None:
        await asyncio.gather(self.adviser.close(), self.customer.close())


def http_client(server: Server, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT_S, trust_env=False, **kw)


async def open_room(server: Server) -> Room:
    """Adviser logged in and available, a new conversation, accepted; both subscribed."""
    async with http_client(server) as http:
        r = await http.post("/api/v1/session", json={"email": EMAIL, "password": PASSWORD})
        r.raise_for_status()
        cookie, csrf = r.cookies["visavis_session"], r.json()["csrf_token"]
        r = await http.post(
            "/api/v1/conversations",
            json={"customer_name": "Bench Kunde", "topic": "beratung", "language": "de"},
        )
        if r.status_code != 201:
            raise RuntimeError(f"new conversation: {r.status_code} {r.text}")
        cid, token = r.json()["conversation"]["id"], r.json()["token"]
    adviser_http = http_client(
        server, cookies={"visavis_session": cookie}, headers={"X-CSRF-Token": csrf}
    )
    customer_http = http_client(server, headers={"Authorization": f"Bearer {token}"})
    adviser = await Peer.connect("adviser", server, adviser_http, cookie=cookie)
    customer = await Peer.connect("customer", server, customer_http)
    await adviser.request("hello")
    await adviser.request("status.set", status="available")
    await customer.request("hello", token=token)
    await customer.request("subscribe", conversation_id=cid, after_seq=0)
    since = len(adviser.frames)
    await adviser.request("conversation.accept", conversation_id=cid)
    await adviser.wait_for(lambda f: f["type"] == "subscribed", since)
    return Room(cid, adviser, customer)


def room_server() -> Server:
    server = Server().start()
    try:
        server.add_advisers([(EMAIL, PASSWORD, "Bench Beraterin", 5)])
    except BaseException:
        server.stop()
        raise
    return server


async def upload(peer: Peer, cid: str, data: bytes, name: str) -> str:
    r = await peer.http.post(
        f"/api/v1/conversations/{cid}/documents", params={"name": name}, content=data
    )
    if r.status_code != 201:
        raise RuntimeError(f"{peer.role}: upload refused: {r.status_code} {r.text}")
    return str(r.json()["document"]["document_id"])


# ------------------------------------------------------------------ upload
async def first_page(receiver: Peer, sender_role: str, since: int) -> dict[str, Any]:
    """What the other side does: on `document.presented`, a token, then page 0."""

    def presented(f: Frame) -> bool:
        return bool(
            f["type"] == "event"
            and f["kind"] == "document.presented"
            and f["author"]["role"] == sender_role
        )

    t_event, frame = await receiver.wait_for(presented, since)
    did = frame["body"]["document_id"]
    r = await receiver.http.post(f"/api/v1/documents/{did}/access")
    r.raise_for_status()
    t_token = time.monotonic_ns()
    r = await receiver.http.get(
        f"/api/v1/documents/{did}/pages/0", params={"w": str(UPLOAD_WIDTH), "a": r.json()["token"]}
    )
    t_page = time.monotonic_ns()
    if r.status_code != 200 or r.headers["content-type"] != "image/jpeg":
        kind = r.headers.get("content-type")
        raise RuntimeError(f"page 0: {r.status_code} {kind} {r.text[:200]}")
    width = Image.open(io.BytesIO(r.content)).width
    if width != UPLOAD_WIDTH:
        raise RuntimeError(f"page 0 is {width} px wide, asked for {UPLOAD_WIDTH}")
    return {"document_id": did, "event": t_event, "token": t_token, "page": t_page,
            "jpeg_bytes": len(r.content)}  # fmt: skip


async def upload_run(room: Room, run: int, data: bytes) -> dict[str, Any]:
    sender, receiver = (
        (room.adviser, room.customer) if run % 2 == 0 else (room.customer, room.adviser)
    )
    since = len(receiver.frames)
    watch = asyncio.create_task(first_page(receiver, sender.role, since))
    t0 = time.monotonic_ns()
    did = await upload(sender, room.cid, data, f"Bench {run}.pdf")
    t_stored = time.monotonic_ns()
    await sender.request("doc.present", conversation_id=room.cid, document_id=did, page=0)
    t_acked = time.monotonic_ns()
    got = await watch
    if got["document_id"] != did:
        raise RuntimeError(f"{receiver.role} was shown {got['document_id']}, not {did}")
    return {
        "direction": f"{sender.role} -> {receiver.role}",
        "total": ms(got["page"] - t0),
        "stored": ms(t_stored - t0),
        "present_ack": ms(t_acked - t_stored),
        "event": ms(got["event"] - t_stored),
        "token": ms(got["token"] - got["event"]),
        "page": ms(got["page"] - got["token"]),
        "jpeg_bytes": got["jpeg_bytes"],
    }


async def upload_runs(server: Server, runs: int) -> list[dict[str, Any]]:
    # made before the clock runs; the 10 pages start with a text-and-photo page
    pdfs = [mixed_pdf(UPLOAD_PAGES, first_kind=1, label=f"#{i}") for i in range(runs + 1)]
    room = await open_room(server)
    try:
        return [await upload_run(room, i, data) for i, data in enumerate(pdfs)]
    finally:
        await room.close()


def part_upload(args: argparse.Namespace) -> Part:
    server = room_server()
    try:
        results = asyncio.run(upload_runs(server, args.upload_runs))
    finally:
        server.stop()
    cold, warm = results[0], results[1:]
    part = Part()
    what = f"{UPLOAD_PAGES}-page PDF: upload -> page 0 at {UPLOAD_WIDTH} px on the other side"
    part.rows.append([f"{what}, cold (server's first)", 1, cold["total"], cold["total"],
                      cold["direction"]])  # fmt: skip
    total = stats([r["total"] for r in warm])
    part.rows.append([what, len(warm), total["p50"], total["p99"], "both directions"])
    for direction in sorted({r["direction"] for r in warm}):
        one_way = [r["total"] for r in warm if r["direction"] == direction]
        s = stats(one_way)
        part.rows.append([f"  {direction}", len(one_way), s["p50"], s["p99"], ""])
    steps = {
        "stored": "  upload (HTTP, checks, stored, event written)",
        "present_ack": "  doc.present -> ack",
        "event": "  upload done -> document.presented at the other side",
        "token": "  event -> access token",
        "page": "  GET page 0 (render on a cache miss + JPEG)",
    }
    breakdown: dict[str, Any] = {}
    for key, label in steps.items():
        s = breakdown[key] = stats([r[key] for r in warm])
        part.rows.append([label, len(warm), s["p50"], s["p99"], ""])
    kib = sum(r["jpeg_bytes"] for r in warm) / len(warm) / 1024
    part.notes.append(f"upload: page 0 JPEG avg {kib:.0f} KiB; receiving side: {RECEIVER}")
    part.result = {
        "runs": len(warm),
        "pdf_pages": UPLOAD_PAGES,
        "width": UPLOAD_WIDTH,
        "receiver": RECEIVER,
        "cold_ms": cold["total"],
        "total_ms": total,
        "steps_ms": breakdown,
        "jpeg_kib_avg": kib,
    }
    part.checks["upload_first_page_p99_under_target"] = total["p99"] <= TARGET_UPLOAD_P99_MS
    return part


# ------------------------------------------------------------------ pointer
async def pointer_window(server: Server, seconds: float, rate: float) -> dict[str, Any]:
    room = await open_room(server)
    try:
        return await _pointer_window(room, seconds, rate)
    finally:
        await room.close()


async def _pointer_window(room: Room, seconds: float, rate: float) -> dict[str, Any]:
    cid, adviser, customer = room.cid, room.adviser, room.customer
    did = await upload(customer, cid, mixed_pdf(1), "Zeiger.pdf")
    await adviser.request("doc.present", conversation_id=cid, document_id=did, page=0)
    total = int(seconds * rate)  # x = k / total carries the frame's number k
    sent_pointer: dict[int, int] = {}
    sent_chat: dict[str, int] = {}
    since = {p.role: len(p.frames) for p in (adviser, customer)}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def at(when: float) -> None:
        await asyncio.sleep(max(0.0, when - loop.time()))

    async def pointers() -> None:
        for k in range(total):
            await at(start + k / rate)
            sent_pointer[k] = time.monotonic_ns()
            await adviser.send(
                "pointer", conversation_id=cid, surface="document", document_id=did, page=0,
                x=k / total, y=0.5, visible=True,
            )  # fmt: skip

    async def chats(peer: Peer, offset: float) -> None:
        for k in range(int(seconds)):
            await at(start + offset + k)
            client_id = f"bench{peer.role[0]}{k:06d}"
            sent_chat[client_id] = time.monotonic_ns()
            await peer.send("chat.send", id=client_id, conversation_id=cid,
                            client_id=client_id, text=f"Nachricht {k} ({peer.role})")  # fmt: skip

    await asyncio.gather(pointers(), chats(customer, 0.0), chats(adviser, 0.5))
    # the last pointer is always delivered, and every chat message to the other side
    last_x = (total - 1) / total
    await customer.wait_for(lambda f: f["type"] == "pointer" and f["x"] == last_x,
                            since["customer"])  # fmt: skip
    for peer, other in ((adviser, customer), (customer, adviser)):
        last = f"bench{other.role[0]}{int(seconds) - 1:06d}"

        def delivered(f: Frame, client_id: str = last) -> bool:
            return f.get("client_id") == client_id

        await peer.wait_for(delivered, since[peer.role])

    pointer_ms = [
        ms(t - sent_pointer[round(f["x"] * total)])
        for t, f in customer.frames[since["customer"] :]
        if f["type"] == "pointer"
    ]
    chat_ms: list[float] = []
    errors: list[Frame] = []
    for peer in (adviser, customer):
        for t, f in peer.frames[since[peer.role] :]:
            if f["type"] == "error":
                errors.append(f)
            elif (
                f["type"] == "event"
                and f["kind"] == "chat.message"
                and f["author"]["role"] != peer.role
                and f.get("client_id") in sent_chat
            ):
                chat_ms.append(ms(t - sent_chat[f["client_id"]]))
    echoed = [f for _, f in adviser.frames[since["adviser"] :] if f["type"] == "pointer"]
    if errors or echoed or len(chat_ms) != len(sent_chat):
        raise RuntimeError(f"errors {errors[:3]}, pointers echoed {len(echoed)}, "
                           f"chat delivered {len(chat_ms)}/{len(sent_chat)}")  # fmt: skip
    return {"pointer_ms": pointer_ms, "pointer_sent": total, "chat_ms": chat_ms}


async def pointer_windows(server: Server, seconds: float, rates: list[float]) -> list[Any]:
    """One window per rate, each in a new conversation (chat client ids are per
    conversation), one after the other."""
    return [await pointer_window(server, seconds, rate) for rate in rates]


def part_pointer(args: argparse.Namespace) -> Part:
    # the checked rate, then (unchecked) one under the relay's budget: what the
    # relay costs without waiting for a coalescing slot
    rates = [args.pointer_rate, round(args.pointer_rate * 2 / 3, 1)]
    server = room_server()
    try:
        windows = asyncio.run(pointer_windows(server, args.pointer_seconds, rates))
    finally:
        server.stop()
    part = Part()
    part.result = {"seconds": args.pointer_seconds, "clients": RECEIVER, "windows": []}
    for rate, got in zip(rates, windows, strict=True):
        pointer, chat = stats(got["pointer_ms"]), stats(got["chat_ms"])
        arrived = len(got["pointer_ms"])
        ratio = pointer["p99"] / chat["p99"] if chat["p99"] > 0 else float("nan")
        part.rows.append([f"pointer adviser -> customer, {rate:g}/s", arrived,
                          pointer["p50"], pointer["p99"],
                          f"{arrived}/{got['pointer_sent']} arrived"])  # fmt: skip
        part.rows.append(["  chat at that time, 1/s each way, same conversation",
                          len(got["chat_ms"]), chat["p50"], chat["p99"],
                          f"pointer p99 = {ratio:.2f} x chat p99"])  # fmt: skip
        part.result["windows"].append({
            "rate_hz": rate,
            "pointer_sent": got["pointer_sent"],
            "pointer_arrived": arrived,
            "pointer_ms": pointer,
            "chat_ms": chat,
            "pointer_p99_over_chat_p99": ratio,
        })  # fmt: skip
    checked = part.result["windows"][0]
    part.notes.append(
        f"pointer: checked at {rates[0]:g}/s (the relay's budget is {RELAY_PER_S}/s per socket; "
        f"{rates[1]:g}/s for comparison); both sides: {RECEIVER}"
    )
    part.checks["pointer_p99_under_target"] = checked["pointer_ms"]["p99"] <= TARGET_POINTER_P99_MS
    part.checks["pointer_p99_within_2x_chat_p99"] = (
        checked["pointer_p99_over_chat_p99"] <= POINTER_VS_CHAT_MAX
    )
    return part
