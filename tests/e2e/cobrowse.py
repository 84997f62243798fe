"""What the co-browsing browser tests share: an adviser's socket driven inside a signed-in
console page (a real browser socket with the session cookie, frames kept in
`window.__cb`), the customer's page with every WebSocket frame it sends recorded, and
helpers to read the mirror stream (inflated, rrweb node ids looked up)."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page, WebSocket, expect

from visavis.protocol.mirror_frame import check_mirror_frame, is_mirror_frame

from .browser import PASSWORD, Users, chat_frame, login, start_chat, stored_conversation

ADVISER_EMAIL = "dana@musterbank.test"
ADVISER_SOCKET = """async () => {
  const cb = (window.__cb = { frames: [], n: 0 });
  const ws = (cb.ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws"));
  ws.onmessage = (e) => cb.frames.push(JSON.parse(e.data));
  await new Promise((ok) => (ws.onopen = ok));
  cb.send = (frame) => {
    const id = "t" + ++cb.n;
    ws.send(JSON.stringify({ v: 1, id, ...frame }));
    return id;
  };
  cb.send({ type: "hello" });
}"""


@dataclass
class Adviser:
    """A signed-in adviser whose cobrowse frames the test sends and reads."""

    page: Page
    cid: str = ""

    def send(self, frame: dict[str, Any]) -> str:
        fid: str = self.page.evaluate("f => window.__cb.send(f)", frame)
        return fid

    def request(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Sends a command and waits for its answer (ack or error)."""
        fid = self.send({"type": type_, "conversation_id": self.cid, **fields})
        self.page.wait_for_function("id => window.__cb.frames.some(f => f.id === id)", arg=fid)
        answer: dict[str, Any] = self.page.evaluate(
            "id => window.__cb.frames.find(f => f.id === id)", fid
        )
        return answer

    def input(self, **fields: Any) -> None:
        """A control input (relayed without an answer when the server lets it through)."""
        self.send({"type": "cobrowse.input", "conversation_id": self.cid, **fields})

    def frames(self, type_: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.page.evaluate(
            "t => window.__cb.frames.filter(f => f.type === t)", type_
        )
        return found

    def wait_frames(self, type_: str, count: int) -> None:
        self.page.wait_for_function(
            "([t, n]) => window.__cb.frames.filter(f => f.type === t).length >= n",
            arg=[type_, count],
        )

    def mirror_events(self) -> list[dict[str, Any]]:
        """Every rrweb event received so far, in order, the mirror stream inflated."""
        return stream_events(self.frames("cobrowse.batch"))

    def snapshots(self) -> list[dict[str, Any]]:
        return [e for e in self.mirror_events() if e.get("type") == 2]

    def wait_mirror(self, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """The mirror's events once `done` says so, checked again on every new batch."""
        while True:
            frames = self.frames("cobrowse.batch")
            events = stream_events(frames)
            if done(events):
                return events
            self.page.wait_for_function(
                "n => window.__cb.frames.filter(f => f.type === 'cobrowse.batch').length > n",
                arg=len(frames),
            )


def stream_events(frames: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rrweb events in these `cobrowse.batch` frames: each stream inflated from its
    chunk 0 (raw DEFLATE), one JSON events array per line; chunks of a stream the frames
    do not begin are skipped, as the console does."""
    events: list[dict[str, Any]] = []
    inflater, stream, pending = None, "", b""
    for f in frames:
        if f["n"] == 0:
            inflater, stream, pending = zlib.decompressobj(-zlib.MAX_WBITS), f["stream"], b""
        elif inflater is None or f["stream"] != stream:
            continue
        pending += inflater.decompress(base64.b64decode(f["data"]))
        *lines, pending = pending.split(b"\n")
        for line in lines:
            events.extend(json.loads(line))
    return events


def node_id(snapshot: dict[str, Any], element_id: str) -> int:
    """The rrweb id of the element with that HTML id in a full snapshot."""
    stack = [snapshot["data"]["node"]]
    while stack:
        node = stack.pop()
        if node.get("attributes", {}).get("id") == element_id:
            return int(node["id"])
        stack.extend(node.get("childNodes", []))
    raise AssertionError(f"#{element_id} is not in the snapshot")


def sent_chunks(sent: Iterable[str | bytes]) -> list[dict[str, Any]]:
    """The mirror chunks among the frames a customer's browser sent (the binary frames,
    read by the server's own reader), shaped like the `cobrowse.batch` frames the
    advisers get."""
    chunks = []
    for raw in sent:
        if isinstance(raw, bytes) and is_mirror_frame(raw):
            c = check_mirror_frame(raw, "sent")
            data = base64.b64encode(c.data).decode()
            chunks.append({"stream": c.stream, "n": c.n, "data": data, "sent_at": c.sent_at})
    return chunks


@dataclass
class Customer:
    page: Page
    sent: list[str | bytes] = field(default_factory=list)

    def watch(self) -> None:
        def on_socket(ws: WebSocket) -> None:
            ws.on("framesent", lambda payload: self.sent.append(payload))

        self.page.on("websocket", on_socket)

    def sent_text(self) -> str:
        """Every frame the customer's browser sent, with the mirror stream inflated: what
        the server received, readable (the compressed chunks would hide any secret)."""
        text = [f for f in self.sent if isinstance(f, str)]
        events = stream_events(sent_chunks(self.sent))
        return "\n".join([*text, json.dumps(events, ensure_ascii=False)])


def adviser_and_customer(
    users: Users, base: str, start_path: str = "/demo", site: str | None = None
) -> tuple[Adviser, Customer]:
    """A customer chatting from the demo shop (every frame recorded), an adviser who
    accepted the conversation with a socket of their own. `site`: the shop's origin,
    when it is not the visavis server's own."""
    console = users.page()
    login(console, base, ADVISER_EMAIL, PASSWORD, available=True)
    console.evaluate(ADVISER_SOCKET)
    console.wait_for_function("() => window.__cb.frames.some(f => f.type === 'welcome')")
    adviser = Adviser(console)

    page = users.page()
    customer = Customer(page)
    customer.watch()
    page.goto((site or base) + start_path)
    page.get_by_test_id("visavis-launcher").click()
    start_chat(chat_frame(page), "", None, "Ich brauche Hilfe beim Formular.")
    adviser.cid = json.loads(stored_conversation(page))["conversation_id"]
    assert adviser.request("conversation.accept")["type"] == "ack"
    adviser.send({"type": "subscribe", "conversation_id": adviser.cid, "after_seq": 0})
    expect(chat_frame(page).get_by_test_id("adviser-name")).to_be_visible()
    return adviser, customer
