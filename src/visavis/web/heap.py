"""The server process's heap and CPython's cycle collector, while the app runs.

- What starting made (modules, routes, the signing libraries: ~190,000 objects) lives
  as long as the process. Frozen (`gc.freeze()`), a full collection no longer walks
  it: that walk (~130 ms of CPU) landed on whichever request was running, e.g. the p99
  of /verify and of sealing (bench/signing.py). Collected first, so no garbage is
  frozen.
- Full collections are made rare. CPython makes one once the middle generation has
  been collected `threshold2` times (default 10) and the objects promoted since the
  last full one are a quarter of those it kept. Every socket's state (its protocol
  objects, its waiting coroutines) is long-lived, so the quarter is reached at every
  25 % growth of the sockets: a reconnect storm of 5,000 sockets after a restart set
  off 4 full collections, 300-420 ms of its server CPU, each walking every socket back
  so far (bench/idle_sockets.py --storm). With `FULL_EVERY` = 100 it sets off none.
  In steady chat (2,000 msg/s) the middle generation is collected about every 100 ms,
  so a full collection comes at most every ~10 s; cyclic garbage that outlived two
  collections is freed that much later.

Both are undone when the app stops, for processes that start apps again (the tests).
`visavis serve` makes full collections rare already before it imports and builds the
app (`do_quiet_start`): the heap it grows to ~190,000 objects was otherwise walked in
full at every quarter of its growth, 3 times in a start, before `settled_heap` collects
and freezes it once.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

FULL_EVERY = 100


def do_quiet_start() -> None:
    """Full collections rare from now on; for a process about to start the server."""
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_EVERY)


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """Collects and freezes what exists now, and makes full collections rare; undone on
    exit."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    do_quiet_start()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
