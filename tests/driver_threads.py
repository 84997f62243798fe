"""No SQLite driver thread outlives its test (a pytest plugin, loaded by
tests/conftest.py).

aiosqlite runs each connection in a thread of its own. A thread still running when
its test's event loop has closed (a connection never closed, a query cancelled and
never waited for) fails later, handing its result to the closed loop ("Event loop is
closed"), and pytest reports that in whatever test runs at that moment on the same
worker: once, the setup of a pure unit test that touches no database. So after each
test's teardown, every driver thread still running is waited for here, and one that
does not end fails this test, the one that left it, naming it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Generator

import pytest

# aiosqlite's worker function; Python names a thread after its target
DRIVER_THREAD = "(_connection_worker_thread)"
# a bound, not a wait: a thread that is ending ends within milliseconds
WAIT_S = 30.0


# threads already blamed on a test: the tests after it are not blamed for them too
_blamed: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def driver_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith(DRIVER_THREAD) and t not in _blamed]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    running = driver_threads()
    for thread in running:
        thread.join(WAIT_S)
    if left := [t.name for t in running if t.is_alive()]:
        _blamed.update(t for t in running if t.is_alive())
        raise AssertionError(
            f"{item.nodeid} left {len(left)} SQLite driver thread(s) running after its "
            f"teardown ({', '.join(left)}): a Database or engine not disposed, or a query "
            "cancelled and never waited for"
        )
    return result
