"""The lean WebSocket protocol's stand-ins for asyncio.Queue and asyncio.Event
(web/leanws.py); the protocol itself runs in every integration test's server."""

from __future__ import annotations

import asyncio

import pytest

from visavis.web.leanws import Gate, Inbox


async def test_the_inbox_hands_frames_over_in_order_and_waits_for_the_next() -> None:
    inbox = Inbox()
    inbox.put_nowait({"type": "websocket.connect"})
    assert not inbox.empty()
    assert await inbox.get() == {"type": "websocket.connect"}
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    inbox.put_nowait({"type": "websocket.receive", "text": "b"})
    assert await waiting == {"type": "websocket.receive", "text": "a"}
    assert inbox.qsize() == 1
    assert await inbox.get() == {"type": "websocket.receive", "text": "b"}
    assert inbox.empty()


async def test_a_cancelled_wait_loses_no_frame() -> None:
    inbox = Inbox()
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await inbox.get() == {"type": "websocket.disconnect", "code": 1000}


async def test_the_gate_holds_senders_while_the_write_buffer_is_full() -> None:
    gate = Gate()
    assert gate.is_set() and await gate.wait()
    gate.clear()  # pause_writing
    senders = [asyncio.ensure_future(gate.wait()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(s.done() for s in senders) and not gate.is_set()
    gate.set()  # resume_writing
    assert await asyncio.gather(*senders) == [True, True]
    assert gate.is_set()


async def test_the_inbox_shows_a_received_text_without_taking_it() -> None:
    inbox = Inbox()
    assert inbox.peek_text() is None
    inbox.put_nowait({"type": "websocket.receive", "bytes": b"\x00"})
    assert inbox.peek_text() is None  # a binary frame is not offered
    await inbox.get()
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    assert inbox.peek_text() == "a" and inbox.peek_text() == "a"
    assert await inbox.get() == {"type": "websocket.receive", "text": "a"}
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert inbox.peek_text() is None
