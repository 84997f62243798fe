"""A query cancelled while SQLite's driver thread runs it (a background task stopped
at shutdown) ends before `Database.dispose` returns: its thread would otherwise hand
the result to an event loop that has closed meanwhile, and fail in that thread
("Event loop is closed") after the process's shutdown had looked clean."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import text

from visavis.storage.engine import Database

# a recursive count long enough to be cancelled while the driver's thread runs it;
# `began()` (defined by the test) tells the test that the thread runs it
SLOW_QUERY = text(
    "WITH RECURSIVE n(i) AS (SELECT began() UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
    "SELECT count(*) FROM n"
)
# a bound on the whole run, so that a hang fails the test instead of stalling it
RUN_BOUND_S = 120


def test_dispose_waits_for_the_driver_thread_of_a_cancelled_query(tmp_path: Path) -> None:
    failed: list[threading.ExceptHookArgs] = []
    hook = threading.excepthook
    threading.excepthook = failed.append
    driver: list[threading.Thread] = []  # the connection's thread, once it runs
    alive_after: list[bool] = []

    async def run() -> None:
        threads_before = set(threading.enumerate())
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        started = asyncio.Event()

        loop = asyncio.get_running_loop()

        def began() -> int:  # in the driver's thread, as the query starts
            loop.call_soon_threadsafe(started.set)
            return 1

        async def slow() -> None:
            async with database.sessions() as db:
                raw = await (await db.connection()).get_raw_connection()
                assert raw.driver_connection is not None
                await raw.driver_connection.create_function("began", 0, began)
                driver.extend(set(threading.enumerate()) - threads_before)
                await db.execute(SLOW_QUERY)

        task = asyncio.create_task(slow())
        await started.wait()
        # cancelled twice, as a task is when the shutdown step stopping it overruns
        # its bound: at the first, SQLAlchemy closes the connection gracefully (after
        # the query, under a shield); at the second it stops waiting for that
        task.cancel()
        for _ in range(3):
            await asyncio.sleep(0)
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        assert any(t.is_alive() for t in driver), "the query ended before it was cancelled"
        await database.dispose()
        alive_after.extend(t.is_alive() for t in driver)

    raised: list[BaseException] = []

    def in_thread() -> None:
        try:
            asyncio.run(run())
        except BaseException as e:  # reported below, with the test's own asserts
            raised.append(e)

    runner = threading.Thread(target=in_thread, daemon=True)
    try:
        runner.start()
        runner.join(RUN_BOUND_S)
    finally:
        threading.excepthook = hook
    assert not runner.is_alive(), "the event loop did not end"
    assert not raised, raised
    assert driver and alive_after == [False] * len(driver)
    assert not failed, [f.exc_value for f in failed]
