"""Reads many sockets ask at once share a query; a read never shares a query that
started before it was asked (conversations/batching.py)."""

from __future__ import annotations

import asyncio

import pytest

from visavis.conversations.batching import Batcher
from visavis.errors import VisavisError


class Store:
    """A key-value table whose fetches record their keys and can be held open."""

    def __init__(self, values: dict[str, int]) -> None:
        self.values = values
        self.fetches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()  # a query has read its values

    async def fetch(self, keys: list[str]) -> dict[str, int]:
        self.fetches.append(keys)
        seen = {k: self.values[k] for k in keys if k in self.values}  # read at start
        self.started.set()
        await self.gate.wait()
        return seen


def missing(key: str) -> Exception:
    return VisavisError("not_found", f"no {key}")


def held(values: dict[str, int]) -> tuple[Store, Batcher[str, int]]:
    """A store whose queries wait for `store.gate`, and its batcher (one query at once)."""
    store = Store(values)
    store.gate.clear()
    return store, Batcher(store.fetch, missing, parallel=1)


async def test_reads_asked_together_share_one_query() -> None:
    store = Store({f"k{i}": i for i in range(50)})
    batcher = Batcher(store.fetch, missing, parallel=1)
    got = await asyncio.gather(*(batcher.get(f"k{i}") for i in range(50)))
    assert got == list(range(50))
    assert len(store.fetches) == 1


async def test_a_read_asked_during_a_query_sees_what_was_written_before_it() -> None:
    store, batcher = held({"a": 1})
    first = asyncio.ensure_future(batcher.get("a"))
    await store.started.wait()  # the first query has read "a" = 1
    store.values["a"] = 2  # a write committed after that query started
    second = asyncio.ensure_future(batcher.get("a"))
    await asyncio.sleep(0)
    store.gate.set()
    assert await first == 1
    assert await second == 2  # its own query, started after it was asked
    assert store.fetches == [["a"], ["a"]]


async def test_batches_are_bounded_and_missing_keys_raise_for_their_askers_only() -> None:
    store = Store({f"k{i}": i for i in range(0, 10, 2)})
    batcher = Batcher(store.fetch, missing, most=3, parallel=1)
    results = await asyncio.gather(
        *(batcher.get(f"k{i}") for i in range(10)), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, int)] == [0, 2, 4, 6, 8]
    errors = [r for r in results if isinstance(r, VisavisError)]
    assert len(errors) == 5 and all(e.code == "not_found" for e in errors)
    assert [len(keys) for keys in store.fetches] == [3, 3, 3, 1]


async def test_a_cancelled_reader_leaves_the_others_their_answer() -> None:
    store, batcher = held({"a": 7})
    gone = asyncio.ensure_future(batcher.get("a"))
    stays = asyncio.ensure_future(batcher.get("a"))
    await store.started.wait()
    gone.cancel()
    store.gate.set()
    assert await stays == 7
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_a_failed_query_fails_its_readers_and_the_next_query_runs() -> None:
    calls: list[list[str]] = []

    async def flaky(keys: list[str]) -> dict[str, int]:
        calls.append(keys)
        if len(calls) == 1:
            raise OSError("database gone")
        return dict.fromkeys(keys, 1)

    batcher = Batcher(flaky, missing, parallel=1)
    with pytest.raises(OSError):
        await batcher.get("a")
    assert await batcher.get("a") == 1
