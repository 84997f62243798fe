"""A node's shutdown always ends: every step gets an upper bound, and a step that
overruns is left behind with one log line naming it.

Why: a step can wait on something that never answers. Redis stopped (SIGSTOP, a
frozen VM, a network that drops packets instead of refusing) keeps its TCP
connections up and answers nothing, and redis-py has no read timeout on the shared
pool; a database connection can hang the same way. Without bounds such a node logs
"Waiting for application shutdown." and stays until it is killed.

`do_step` waits for the step as a task with `asyncio.wait`, which returns at the
bound even if the step swallows its cancellation; the step is then cancelled and
left. `Watchdog` is the last resort past every bound: asyncio's own clean-up after
the server (cancelling what is left, joining the executor's threads) has none, so a
thread ends the process once the whole shutdown has overrun.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("uvicorn.error")

# a step that ends in time but takes longer than this is logged with its time
SLOW_STEP_S = 1.0
# exit status of a node whose shutdown the watchdog had to cut short
WATCHDOG_EXIT = 70


async def do_step(name: str, step: Callable[[], Awaitable[None]], timeout_s: float) -> bool:
    """Run one shutdown step for at most `timeout_s`. True if it ended in time
    (failing counts as ended: logged, and the shutdown goes on)."""
    started = time.monotonic()
    task = asyncio.ensure_future(step())
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        log.warning("shutdown: %s did not end within %g s; going on without it", name, timeout_s)
        return False
    if not task.cancelled() and (e := task.exception()) is not None:
        log.error("shutdown: %s failed (%s: %s); going on", name, type(e).__name__, e)
    elif (took := time.monotonic() - started) > SLOW_STEP_S:
        # in time, but slow: says which step to look at when a shutdown drags
        log.info("shutdown: %s took %.1f s", name, took)
    return True


def do_cancel(task: asyncio.Task[object] | None) -> Callable[[], Awaitable[None]]:
    """A step that cancels a background task and waits for it to end."""

    async def cancel() -> None:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return cancel


class Watchdog:
    """Ends the process (`os._exit`) if it still runs `deadline_s` after `arm`."""

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.deadline_s, self._fire)
            self._timer.daemon = True  # never what keeps a finished process alive
            self._timer.start()

    def _fire(self) -> None:
        log.error(
            "shutdown: the process still runs %g s after SIGTERM; exiting without "
            "finishing it (status %d)",
            self.deadline_s,
            WATCHDOG_EXIT,
        )
        for handler in logging.getLogger().handlers + log.handlers:
            handler.flush()
        os._exit(WATCHDOG_EXIT)


def shutdown_deadline_s(drain_timeout_s: float, step_timeout_s: float) -> float:
    """How long a node's whole shutdown may take: the drain, uvicorn's wait for the
    requests still running (as long as the drain), each lifespan step, and slack for
    a loaded machine."""
    return 2 * drain_timeout_s + STEPS * step_timeout_s + 30


# the steps of the app's shutdown (app.py) plus the drain's own
STEPS = 8

__all__ = ["STEPS", "WATCHDOG_EXIT", "Watchdog", "do_cancel", "do_step", "shutdown_deadline_s"]
