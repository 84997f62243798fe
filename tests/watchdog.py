"""No test can hold the run forever (a pytest plugin, loaded by tests/conftest.py).

pytest-timeout is not among the test dependencies, so this does its job in two stages:

1. When a test (setup, call and teardown together) has run `limit` seconds, a SIGALRM
   handler in the main thread, where pytest runs the test, dumps every thread's stack
   and fails the test with it (`pytest.fail`, raised wherever the test is waiting).
2. If that does not end it (the failure is swallowed, or the process is stuck where no
   Python runs, or a teardown hangs in turn), faulthandler's own C thread writes every
   thread's stack to a file `grace` seconds later and ends the process (exit code 1).
   Under pytest-xdist the controller reports that as the test's failure, with the
   stacks (`pytest_handlecrashitem` below), and starts a fresh worker for the rest.

The limit is an upper bound, not a wait: tests wait for states and events. It is
VISAVIS_TEST_TIMEOUT seconds (default 900), twice that for tests marked `slow`;
VISAVIS_TEST_TIMEOUT=0 turns the watchdog off (e.g. under a debugger).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import pytest

GRACE_S = 120.0
# The hard stop of the test running now: when, and the file for the stacks.
_hard_stop: tuple[float, TextIO] | None = None


def limit_s(item: pytest.Item) -> float:
    base = float(os.environ.get("VISAVIS_TEST_TIMEOUT", "900"))
    return base * 2 if item.get_closest_marker("slow") else base


def pytest_configure(config: pytest.Config) -> None:
    # One directory per test run, shared by the controller and its workers: xdist's
    # run id, made here in the controller (xdist would make it only when it starts the
    # workers) so that the controller knows it too.
    if not hasattr(config, "workerinput") and config.pluginmanager.has_plugin("xdist"):
        if config.getoption("testrunuid", None) is None:
            config.option.testrunuid = uuid.uuid4().hex


def dump_dir(config: pytest.Config) -> Path:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run = str(workerinput["testrunuid"])
    else:
        run = str(config.getoption("testrunuid", None) or f"pid{os.getpid()}")
    return Path(tempfile.gettempdir()) / f"visavis-test-hangs-{os.getuid()}" / run


def dump_path(config: pytest.Config, nodeid: str) -> Path:
    return dump_dir(config) / f"{zlib.crc32(nodeid.encode()):08x}.txt"


def stacks() -> str:
    with tempfile.TemporaryFile("w+") as f:  # faulthandler writes to a real file
        faulthandler.dump_traceback(f, all_threads=True)
        f.seek(0)
        return f.read()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    limit = limit_s(item)
    if limit <= 0:
        return (yield)

    def overran(signum: int, frame: FrameType | None) -> None:
        pytest.fail(
            f"{item.nodeid} still running after {limit:.0f} s (VISAVIS_TEST_TIMEOUT); "
            f"every thread's stack:\n{stacks()}",
            pytrace=True,
        )

    path = dump_path(item.config, item.nodeid)
    path.parent.mkdir(parents=True, exist_ok=True)
    hard = path.open("w")
    hard.write(f"{item.nodeid} still running {limit + min(GRACE_S, limit):.0f} s after its start\n")
    hard.flush()
    # Signal handlers run in the main thread only; xdist's workers run tests there too.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, overran) if main else None
    if main:
        signal.setitimer(signal.ITIMER_REAL, limit)
    global _hard_stop
    _hard_stop = (time.monotonic() + limit + min(GRACE_S, limit), hard)
    arm_hard_stop()
    try:
        return (yield)
    finally:
        _hard_stop = None
        faulthandler.cancel_dump_traceback_later()
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        hard.close()
        path.unlink(missing_ok=True)


def arm_hard_stop() -> None:
    if _hard_stop is not None:
        at, file = _hard_stop
        faulthandler.dump_traceback_later(max(0.1, at - time.monotonic()), exit=True, file=file)


@pytest.hookimpl(trylast=True)
def pytest_exception_interact() -> None:
    # pytest's faulthandler plugin cancels faulthandler's timer on every failure (for
    # pdb); a teardown may still hang after the failure, so the hard stop goes on.
    arm_hard_stop()


def pytest_report_header(config: pytest.Config) -> str:
    return f"watchdog: stacks of a test that never ends go to {dump_dir(config)}"


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: Any, sched: Any) -> None:
    """xdist, in the controller: a worker died running `crashitem`. If the watchdog
    ended it, its dump says where every thread was."""
    path = dump_path(sched.config, crashitem)
    if path.exists():
        text = path.read_text(errors="replace")
        report.sections.append(("watchdog: every thread's stack", text))
