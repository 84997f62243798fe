"""Each server process held to a share of one core, with a Linux cgroup CPU quota.

Why: "2 processes hold 1.8x the conversations of one" needs a core per process, and
on a machine with 2 cores the load client, PostgreSQL and Redis take half a core to
one and a half, so the second process never gets a core of its own (bench/scale_out.py
without a cap measures the machine). With every server process capped at, say, 0.4
of a core, one process and two processes are each given what they would have on a
larger machine, in proportion, and the rest fits beside them: the ratio then says
how visavis scales with processes, not how many cores are left over.

The period is short (5 ms): a process that has used its quota waits for the next
period, and with the default 100 ms that wait alone would be a p99 of tens of
milliseconds. Needs root and the cgroup v1 `cpu` controller (/sys/fs/cgroup/cpu) or
cgroup v2 with `cpu` enabled at /sys/fs/cgroup.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import psutil

PERIOD_US = 5000
_V1 = Path("/sys/fs/cgroup/cpu")
_V2 = Path("/sys/fs/cgroup")


class CpuCap:
    """`apply(pid)`: that process (and its threads) gets `share` of one core."""

    def __init__(self, share: float, period_us: int = PERIOD_US) -> None:
        if not 0.05 <= share <= 64:
            raise ValueError(f"a CPU share of one core is between 0.05 and 64, got {share}")
        if not 1000 <= period_us <= 100_000:
            raise ValueError(f"a quota period is 1,000 to 100,000 us, got {period_us}")
        self.period_us = period_us
        self.quota_us = round(share * period_us)
        if self.quota_us < 1000:  # the kernel's least quota
            raise ValueError(f"{share} of {period_us} us is under the least quota, 1,000 us")
        if (_V1 / "cpu.cfs_quota_us").exists():
            self._v1 = True
            self._root = _V1
        elif "cpu" in _read(_V2 / "cgroup.subtree_control").split():
            self._v1 = False
            self._root = _V2
        else:
            raise RuntimeError(
                "no cgroup CPU controller to write: neither /sys/fs/cgroup/cpu (v1) nor "
                "`cpu` in /sys/fs/cgroup/cgroup.subtree_control (v2)"
            )
        self._groups: list[Path] = []

    def apply(self, pid: int) -> None:
        group = self._root / f"visavis-bench-{pid}"
        group.mkdir(exist_ok=True)
        if self._v1:
            (group / "cpu.cfs_period_us").write_text(str(self.period_us))
            (group / "cpu.cfs_quota_us").write_text(str(self.quota_us))
        else:
            (group / "cpu.max").write_text(f"{self.quota_us} {self.period_us}")
        (group / "cgroup.procs").write_text(str(pid))
        self._groups.append(group)

    def apply_to_tree(self, pid: int, workers: int = 0, timeout_s: float = 120) -> None:
        """`pid` and every process under it, each on its own quota, once `workers`
        worker processes run under it (a supervisor's quota costs nothing: it is
        idle)."""
        deadline = time.monotonic() + timeout_s
        root = psutil.Process(pid)
        while True:
            tree = [root, *root.children(recursive=True)]
            running = [p for p in tree[1:] if "resource_tracker" not in " ".join(p.cmdline())]
            if len(running) >= workers:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(running)} workers under {pid}, expected {workers}")
            time.sleep(0.1)
        for p in tree:
            self.apply(p.pid)

    def release(self) -> None:
        """The groups removed (their processes have exited, or go back to the root)."""
        for group in self._groups:
            # a process still exiting can be neither moved nor waited out at once
            deadline = time.monotonic() + 10
            while True:
                for pid in _read(group / "cgroup.procs").split():
                    with contextlib.suppress(OSError):
                        (self._root / "cgroup.procs").write_text(pid)
                try:
                    os.rmdir(group)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        print(f"cpu_cap: {group} is still in use; left behind", flush=True)
                        break
                    time.sleep(0.1)
        self._groups.clear()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
