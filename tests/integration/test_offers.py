"""Waiting customers are offered to one adviser at a time and move on when they do
not answer in time (or decline)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from conftest import make_server
from helpers import adviser_socket
from wsclient import WsClient, new_conversation


async def first_offered(advisers: list[WsClient], pred: Any, timeout: float) -> WsClient:
    tasks = {asyncio.ensure_future(ws.wait_for(pred, timeout)): ws for ws in advisers}
    done, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()
    assert done, "nobody was offered the waiting customer"
    task = done.pop()
    task.result()
    return tasks[task]


async def test_offer_moves_to_the_next_adviser_on_timeout_and_decline(tmp_path: Path) -> None:
    # offers are re-planned on every queue change and every few seconds (reaper tick)
    server = make_server(tmp_path, VISAVIS_OFFER_TIMEOUT_S="2")
    server.start()
    try:
        anna = await adviser_socket(server, "anna@bank.example", "Anna")
        ben = await adviser_socket(server, "ben@bank.example", "Ben")
        conv_id, _ = await new_conversation(server.base_url, customer_name="Bob")

        def offered(f: dict[str, Any]) -> bool:
            return bool(f["type"] == "conversation.offered" and f["conversation_id"] == conv_id)

        first = await first_offered([anna, ben], offered, 5)
        second = ben if first is anna else anna
        assert not [f for f in second.frames if offered(f)]  # one adviser at a time
        # the first lets it ring out: it goes to the other one
        await first.expect("offer.withdrawn", timeout=12)
        await second.wait_for(offered, timeout=12)
        # the second declines: back to the first
        assert (await second.request("offer.decline", conversation_id=conv_id))["type"] == "ack"
        await first.wait_for(offered, timeout=12)
        err = await second.request("offer.decline", conversation_id=conv_id)
        assert err["code"] == "invalid_state"
        # the first accepts
        assert (await first.request("conversation.accept", conversation_id=conv_id))[
            "type"
        ] == "ack"
        await asyncio.gather(anna.close(), ben.close())
    finally:
        server.stop()
