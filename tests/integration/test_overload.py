"""Overload is said, not queued: with more chat messages waiting for their commit than
the server takes, `chat.send` is refused at once with `overloaded` and a
`retry_after_ms` hint, and a resend with the same client_id lands exactly once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from conftest import make_server
from helpers import adviser_socket
from wsclient import WsClient, cid, new_conversation


async def test_overloaded_messages_land_once_after_their_resend(tmp_path: Path) -> None:
    # a queue of one: every message that arrives while another commits is refused
    server = make_server(
        tmp_path,
        VISAVIS_CHAT_QUEUE_MAX="1",
        VISAVIS_WS_FRAMES_PER_SECOND="1000",
        VISAVIS_WS_FRAME_BURST="1000",
    )
    server.start()
    try:
        adviser = await adviser_socket(server)
        conv_id, token = await new_conversation(server.base_url, customer_name="Bob")
        ack = await adviser.request("conversation.accept", conversation_id=conv_id)
        assert ack["type"] == "ack"
        await adviser.expect("subscribed")
        customer = await WsClient.connect(server.ws_url, token=token)
        await customer.request("subscribe", conversation_id=conv_id, after_seq=0)

        texts = {cid(): f"m{i}" for i in range(40)}

        def frame(client_id: str) -> str:
            return json.dumps(
                {"v": 1, "type": "chat.send", "id": f"m-{client_id}",
                 "conversation_id": conv_id, "client_id": client_id,
                 "text": texts[client_id]}
            )  # fmt: skip

        # all at once, as fast as the socket takes them
        await asyncio.gather(*(customer.send_raw(frame(c)) for c in texts))
        acked: dict[str, int] = {}
        overloaded = 0
        while len(acked) < len(texts):
            answer = await customer.wait_for(
                lambda f: f["type"] in ("ack", "error") and str(f.get("id")).startswith("m-"),
                timeout=30,
            )
            client_id = answer["id"][2:]
            if answer["type"] == "ack":
                assert client_id not in acked
                acked[client_id] = answer["seq"]
                continue
            assert answer["code"] == "overloaded", answer
            overloaded += 1
            hint = answer["details"]["retry_after_ms"]
            assert 200 <= hint <= 5000
            # as the browser does: resend the same client_id after the hint
            await asyncio.sleep(hint / 1000)
            await customer.send_raw(frame(client_id))
        assert overloaded > 0  # the bound was hit, and said

        # every message exactly once, in the seqs the acks named
        last = await adviser.wait_for(
            lambda f: f["type"] == "event" and f["seq"] == max(acked.values()), timeout=30
        )
        seen = [e for e in [*adviser.events(conv_id), last] if e["kind"] == "chat.message"]
        by_client = {e["client_id"]: e for e in seen}
        assert len(seen) == len(texts) == len(by_client)
        assert {c: e["seq"] for c, e in by_client.items()} == acked
        assert {c: e["body"]["text"] for c, e in by_client.items()} == texts
        # said to the client each time, logged in summary (not a line per refusal)
        assert 1 <= server.log().count("overloaded: ") <= overloaded
    finally:
        server.stop()
