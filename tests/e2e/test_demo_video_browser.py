"""The demo library's product video plays in Chromium: shared into a conversation from
the library, fetched by the customer's `<video>` through the file URL with an access
token (HTTP Range), decoded (readyState >= 2) and playing, under the pages' strict CSP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from conftest import LiveServer
from websockets.sync.client import ClientConnection, connect

from visavis.collab.samples import PRODUCT_VIDEO_NAME, product_video_webm

from .browser import PASSWORD, Users

EMAIL = "anna@bank.example"


def request(
    ws: ClientConnection, seen: list[dict[str, Any]], type_: str, **fields: Any
) -> dict[str, Any]:
    """Send a command; return its answer. Frames before it go to `seen` (an event can
    come before the ack: it is announced when written)."""
    fid = f"{type_}-{len(seen)}"
    ws.send(json.dumps({"v": 1, "type": type_, "id": fid, **fields}))
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=10))
        if frame.get("id") == fid:
            assert frame["type"] != "error", frame
            return frame
        seen.append(frame)


def shared_video(server: LiveServer, tmp_path: Path) -> tuple[str, str]:
    """The video added to the library (CLI), shared into a new conversation by its
    adviser; returns (document id, the customer's token for the conversation)."""
    path = tmp_path / "video.webm"
    path.write_bytes(product_video_webm())
    server.cli("library", "add", str(path), "--name", PRODUCT_VIDEO_NAME)
    server.add_adviser(EMAIL, PASSWORD, "Anna Berger")
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        r = http.post("/api/v1/session", json={"email": EMAIL, "password": PASSWORD})
        cookie = r.cookies["visavis_session"]
        library = http.get("/api/v1/library").json()["documents"]
        r = http.post("/api/v1/conversations", json={"customer_name": "Erika"})
        cid, token = r.json()["conversation"]["id"], r.json()["token"]
    ws_url = server.base_url.replace("http", "ws") + "/ws"
    with connect(ws_url, additional_headers={"Cookie": f"visavis_session={cookie}"}) as ws:
        seen: list[dict[str, Any]] = []
        request(ws, seen, "hello")
        request(ws, seen, "status.set", status="available")
        request(ws, seen, "conversation.accept", conversation_id=cid)
        request(ws, seen, "doc.share", conversation_id=cid, library_id=library[0]["id"])
        while True:
            frame = seen.pop(0) if seen else json.loads(ws.recv(timeout=10))
            if frame["type"] == "event" and frame["kind"] == "document.shared":
                assert frame["body"]["name"] == PRODUCT_VIDEO_NAME
                assert frame["body"]["kind"] == "video"
                return str(frame["body"]["document_id"]), token


def test_the_product_video_plays_in_chromium(
    live_server: LiveServer, users: Users, tmp_path: Path
) -> None:
    did, token = shared_video(live_server, tmp_path)
    r = httpx.post(
        f"{live_server.base_url}/api/v1/documents/{did}/access",
        headers={"Authorization": f"Bearer {token}"},
    )
    src = f"/api/v1/documents/{did}/file?a={r.json()['token']}"
    page = users.page()
    page.goto(live_server.base_url + "/chat")
    page.evaluate(
        """(src) => {
            const v = document.createElement("video");
            v.id = "probe";
            v.muted = true;  // muted: allowed to play without a click
            v.src = src;
            document.body.append(v);
        }""",
        src,
    )
    page.wait_for_function("() => document.getElementById('probe').readyState >= 2")
    size = page.evaluate(
        "() => { const v = document.getElementById('probe');"
        " return [v.videoWidth, v.videoHeight, v.duration]; }"
    )
    assert size[:2] == [640, 360] and 9.5 <= size[2] <= 10.5, size
    # it really decodes on: played past the first second
    page.evaluate("() => document.getElementById('probe').play()")
    page.wait_for_function("() => document.getElementById('probe').currentTime > 1")
