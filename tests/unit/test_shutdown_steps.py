"""`do_step`: a shutdown step ends by its bound, even one that swallows its
cancellation, with one log line naming it; a step that fails is logged and the
shutdown goes on."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from visavis.web.shutdown import WATCHDOG_EXIT, do_cancel, do_step


async def test_a_step_that_swallows_its_cancellation_is_left_at_its_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never = asyncio.Event()
    cancelled = asyncio.Event()

    async def stubborn() -> None:
        while not never.is_set():
            try:
                await never.wait()
            except asyncio.CancelledError:
                cancelled.set()  # and waits on: what an unbounded `await task` hangs on

    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        assert await do_step("stubborn thing", stubborn, 0.2) is False
    # the bound, with slack for a loaded machine, and far from "forever"
    assert time.monotonic() - started < 30
    await asyncio.wait_for(cancelled.wait(), 30)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert lines == ["shutdown: stubborn thing did not end within 0.2 s; going on without it"]
    never.set()  # let it go, so the test leaves no task behind


async def test_a_failing_step_is_logged_and_counts_as_ended(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise OSError("Connection reset by peer")

    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        assert await do_step("bus", broken, 10) is True
    assert "shutdown: bus failed (OSError: Connection reset by peer); going on" in caplog.text


async def test_do_cancel_ends_a_background_task_and_accepts_none() -> None:
    task = asyncio.ensure_future(asyncio.Event().wait())
    assert await do_step("retention", do_cancel(task), 10) is True
    assert task.cancelled()
    assert await do_step("retention", do_cancel(None), 10) is True


def test_the_watchdog_ends_a_process_that_outlives_its_deadline(tmp_path: Path) -> None:
    """A real process whose shutdown hangs where no step bound reaches (here: a
    non-daemon thread that never ends keeps the interpreter from exiting)."""
    script = tmp_path / "stuck.py"
    script.write_text(
        "import logging, threading\n"
        "from visavis.web.shutdown import Watchdog\n"
        "logging.basicConfig()\n"
        "Watchdog(0.5).arm()\n"
        "threading.Thread(target=threading.Event().wait).start()\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == WATCHDOG_EXIT, proc
    assert "shutdown: the process still runs 0.5 s after SIGTERM" in proc.stderr, proc.stderr
