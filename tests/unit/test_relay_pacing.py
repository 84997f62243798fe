"""The room's ephemeral relays (`web/ephemeral.py`): a client pacing itself at the
relay rate passes straight through, even with timer jitter; a faster one is coalesced
to the newest position, which always arrives."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from visavis.web import ephemeral
from visavis.web.ephemeral import RELAY_BURST, RELAY_PER_S, RelayState

KEY = ("pointer", "c1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def sender(sent: list[int], n: int, done: asyncio.Event | None = None) -> ephemeral.Send:
    async def send() -> None:
        sent.append(n)
        if done is not None:
            done.set()

    return send


async def test_a_client_at_the_relay_rate_with_jitter_is_never_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr(ephemeral, "time", SimpleNamespace(monotonic=clock.monotonic))
    relay, sent = RelayState(), list[int]()
    gap = 1.0 / RELAY_PER_S
    for n in range(300):
        # frames come early and late by up to 40 % of the gap, around the relay's rate
        clock.now += gap * (0.6 if n % 2 else 1.4)
        relay.offer(KEY, sender(sent, n))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert sent[-1] == n, f"frame {n} was held back"
    relay.close()


async def test_a_faster_client_is_coalesced_and_the_newest_arrives() -> None:
    relay, sent = RelayState(), list[int]()
    done = asyncio.Event()
    burst = int(RELAY_BURST)
    for n in range(burst + 5):
        relay.offer(KEY, sender(sent, n, done if n == burst + 4 else None))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sent == list(range(burst)), "the burst goes at once, the rest waits"
    await asyncio.wait_for(done.wait(), 5)
    assert sent == [*range(burst), burst + 4], "only the newest waiting one is sent"
    relay.close()
