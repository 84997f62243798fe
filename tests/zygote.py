"""`python -m visavis …` for the tests, forked from one process that imported it once.

Importing the server (the app, SQLAlchemy, pydantic's protocol models, the signing
and PDF libraries) costs about 2 s of CPU, and the suite starts some 260 servers and
more command-line calls: on the shared 2-core machine that was about a quarter of the
suite's CPU. So each test process starts one zygote, which imports the server and
then forks a child per command: the child sets the command's environment, working
directory and output files, and runs `visavis` with its arguments as `python -m
visavis` does, from the same code (nothing is read from the environment at import).

Not forked, but started as a process of its own (`forkable`): a server with worker
processes or a multiprocess metrics directory (both read at import or in the parent
of the workers), one whose Python settings differ, and every command when
VISAVIS_TEST_FORK=0. The command line itself (`python -m visavis`) stays tested as
it is: the demo command, the wheel, the commands on a fresh directory, two workers.

The zygote reads one JSON request a line on stdin and answers a line on stdout:
`{"argv", "env", "cwd", "stdout", "stderr"}` forks (answer `{"pid"}`); `{"wait": pid}`
answers the child's exit code, or null while it runs (`{"error"}` for a pid that is not
a child, or was reaped already). It exits at the end of stdin.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Protocol

HERE = Path(__file__).resolve().parent
# read at import by a module the server imports, or by the parent of worker processes
NOT_FORKABLE = ("VISAVIS_WORKERS", "PROMETHEUS_MULTIPROC_DIR")


def forkable(env: Mapping[str, str]) -> bool:
    """Whether a command with this environment can be forked from the zygote."""
    if os.environ.get("VISAVIS_TEST_FORK", "1") == "0":
        return False
    if any(name in env for name in NOT_FORKABLE):
        return False
    names = {n for n in (*env, *os.environ) if n.startswith("PYTHON") and n != "PYTHONUNBUFFERED"}
    return all(env.get(n) == os.environ.get(n) for n in names)


class Process(Protocol):
    """What the tests use of a server process: a `subprocess.Popen` or a `Forked`."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class Forked:
    """A child of the zygote, with the part of `subprocess.Popen` the tests use.
    Signals go through a pidfd, so they never reach a process that reused the pid."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._zygote = zygote
        self._pidfd = os.pidfd_open(pid)
        # open as long as this handle: another thread may be selecting on it in `wait`
        weakref.finalize(self, os.close, self._pidfd)
        # the zygote reaps the child once: a second thread asks only if it still runs
        self._polling = threading.Lock()

    def poll(self) -> int | None:
        with self._polling:
            if self.returncode is None:
                self.returncode = self._zygote.exit_code(self.pid)
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(["visavis"], timeout or 0)
            # readable once the child has exited; the zygote then reaps it
            select.select([self._pidfd], [], [], min(left, 1.0))
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            # it may end between the two: as Popen.send_signal, that is no error
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The zygote of this test process (`zygote()`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # a request and its answer; waits run in threads
        self._proc = subprocess.Popen(
            [sys.executable, "-u", str(HERE / "zygote.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None and self._proc.stdin is not None
        self._out: IO[str] = self._proc.stdout
        self._in: IO[str] = self._proc.stdin
        ready = self._out.readline()
        if ready != "ready\n":
            raise RuntimeError(f"the test zygote did not start: {ready!r}")

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._in.write(json.dumps(request) + "\n")
            self._in.flush()
            answer = self._out.readline()
        if not answer:
            raise RuntimeError("the test zygote exited")
        reply: dict[str, Any] = json.loads(answer)
        return reply

    def spawn(self, argv: list[str], env: Mapping[str, str], stdout: Path, stderr: Path) -> Forked:
        """`python -m visavis *argv`, its output appended to these files."""
        request = {
            "argv": argv, "env": dict(env), "cwd": os.getcwd(),
            "stdout": str(stdout), "stderr": str(stderr),
        }  # fmt: skip
        return Forked(self, int(self._ask(request)["pid"]))

    def exit_code(self, pid: int) -> int | None:
        answer = self._ask({"wait": pid})
        if "error" in answer:
            raise RuntimeError(f"the test zygote cannot wait for {pid}: {answer['error']}")
        code = answer["code"]
        return None if code is None else int(code)

    def close(self) -> None:
        self._in.close()
        self._proc.wait(10)
        self._out.close()


def run_visavis(
    args: list[str], env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m visavis *args` to its end, as `subprocess.run(..., capture_output=True,
    text=True)` would run it: forked when it can be."""
    if not forkable(env):
        return subprocess.run(
            [sys.executable, "-m", "visavis", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    with tempfile.TemporaryDirectory(prefix="visavis-cli-") as tmp:
        stdout, stderr = Path(tmp) / "stdout", Path(tmp) / "stderr"
        proc = zygote().spawn(args, env, stdout, stderr)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        return subprocess.CompletedProcess(
            ["visavis", *args], code, stdout.read_text(), stderr.read_text()
        )


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def zygote() -> Zygote:
    """This test process's zygote, started at its first use."""
    global _zygote
    with _zygote_lock:
        if _zygote is None:
            import atexit

            _zygote = Zygote()
            atexit.register(_zygote.close)
        return _zygote


# ---------------------------------------------------------------- the zygote itself
def _become(request: dict[str, Any]) -> None:
    """In the child: take on the command's environment and files, and run it. Ends
    the process as `python -m visavis` ends (SystemExit, atexit, flushed files)."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = request["cwd"]  # as `python -m` puts it
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, name in ((1, request["stdout"]), (2, request["stderr"])):
        opened = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    import runpy

    sys.argv = ["visavis", *request["argv"]]
    runpy.run_module("visavis", run_name="__main__", alter_sys=True)
    raise SystemExit(0)


def _serve() -> None:
    sys.path[0] = os.getcwd()  # as the children's `python -m` has it, not tests/
    # what `visavis serve` and the commands import, once
    import uvicorn  # noqa: F401

    import visavis.app
    import visavis.cli
    import visavis.storage.migrate
    import visavis.web.deadlines
    import visavis.web.leanws
    import visavis.web.logjson
    import visavis.web.serving  # noqa: F401

    # a fork copies only the thread that forks
    assert threading.active_count() == 1, threading.enumerate()
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "wait" in request:
            try:
                got, status = os.waitpid(request["wait"], os.WNOHANG)
            except ChildProcessError as e:  # not a child, or reaped already: say so, live on
                print(json.dumps({"error": str(e)}), flush=True)
                continue
            code = os.waitstatus_to_exitcode(status) if got else None
            print(json.dumps({"code": code}), flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            _become(request)  # raises SystemExit at the command's end, out of here
        print(json.dumps({"pid": pid}), flush=True)


if __name__ == "__main__":
    _serve()
