"""The tests' zygote (tests/zygote.py): its children behave as processes of their own,
and it survives the ways the tests ask about them."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from zygote import Zygote


@pytest.fixture(scope="module")
def zy() -> Iterator[Zygote]:
    """A zygote of this module's own, so a failure here leaves the others' alone."""
    z = Zygote()
    yield z
    z.close()


def test_a_command_runs_to_its_exit_code_with_its_output(zy: Zygote, tmp_path: Path) -> None:
    proc = zy.spawn(["--help"], dict(os.environ), tmp_path / "out", tmp_path / "err")
    assert proc.wait(60) == 0
    assert "usage" in (tmp_path / "out").read_text().lower()
    assert proc.poll() == 0  # asked again: the code it had, not a second reaping


def test_many_threads_waiting_for_one_child_all_get_its_code(zy: Zygote, tmp_path: Path) -> None:
    # The zygote reaps a child once; a second waitpid for it used to end the zygote.
    proc = zy.spawn(["no-such-command"], dict(os.environ), tmp_path / "out", tmp_path / "err")
    start = threading.Barrier(8)
    codes: list[int] = []

    def wait() -> None:
        start.wait()
        codes.append(proc.wait(60))

    threads = [threading.Thread(target=wait) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(codes) == 8 and len(set(codes)) == 1 and codes[0] != 0, codes
    again = zy.spawn(["--help"], dict(os.environ), tmp_path / "out2", tmp_path / "err2")
    assert again.wait(60) == 0  # the zygote lives on


def test_a_pid_that_is_not_its_child_is_an_error_not_its_end(zy: Zygote, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="cannot wait for"):
        zy.exit_code(os.getpid())
    proc = zy.spawn(["--help"], dict(os.environ), tmp_path / "out", tmp_path / "err")
    assert proc.wait(60) == 0


def test_a_server_is_killed_through_its_pidfd(zy: Zygote, tmp_path: Path) -> None:
    env = {**os.environ, "VISAVIS_DATA_DIR": str(tmp_path / "var")}
    proc = zy.spawn(["serve", "--port", "0"], env, tmp_path / "out", tmp_path / "err")
    assert proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(60) == -signal.SIGKILL
    proc.kill()  # after its end: nothing happens, no process that reused the pid is hit
