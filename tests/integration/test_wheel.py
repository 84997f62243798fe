"""`python -m build` makes a wheel that carries the built frontend, the migrations and
the demo's samples: installed into a fresh virtualenv, `visavis demo` runs in an empty
directory with no Node.js and nothing of the repository on its path, and serves the
demo shop page whose widget script loads."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port
from helpers import found


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)  # type: ignore[call-overload]
    assert out.returncode == 0, f"{' '.join(cmd)}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out  # type: ignore[no-any-return]


# What a checkout holds that is not source: caches, virtualenvs, builds. frontend/
# node_modules is linked, not copied (Vite finds its packages through the link).
NOT_SOURCE = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
              ".pytest_cache", ".hypothesis", "build", "dist", "var", "tmp"}  # fmt: skip


def source_copy(dest: Path) -> Path:
    """The checkout, copied: building runs `npm run build`, which empties and refills
    src/visavis/static/app, and setuptools writes build/ and *.egg-info. In the checkout
    itself that would pull the frontend from under the servers of the tests running
    beside this one (pytest-xdist)."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in NOT_SOURCE or n.endswith(".egg-info")}
        if Path(directory) == ROOT / "src" / "visavis" / "static":
            skip.add("app")  # built again from frontend/
        return skip

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    (dest / "frontend" / "node_modules").symlink_to((ROOT / "frontend" / "node_modules").resolve())
    return dest


@pytest.mark.slow
def test_wheel_installs_and_runs_the_demo_without_the_repository(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source_copy(tmp_path / "src"))])
    (wheel,) = dist.glob("visavis-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "visavis/static/app/widget.js",
        "visavis/static/app/demo.html",
        "visavis/static/app/console.html",
        "visavis/storage/migrations/env.py",
        "visavis/forms/samples/account-opening.json",
    ):
        assert name in names, f"{name} is not in {wheel.name}"
    assert any(re.fullmatch(r"visavis/static/app/assets/console-.*\.js", n) for n in names)
    assert any(n.startswith("visavis/storage/migrations/versions/0001_") for n in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    # The user's environment, minus this checkout and this test run's virtualenv.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("VISAVIS_")
    }
    run([str(venv / "bin/pip"), "install", "-q", "--no-compile", str(wheel)], env=env)
    where = run(
        [str(venv / "bin/python"), "-c", "import visavis; print(visavis.__file__)"],
        env=env,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv)), where

    # Only the virtualenv on PATH: no Node.js, no tools of the machine.
    home = tmp_path / "empty"
    home.mkdir()
    port = free_port()
    demo_env = {
        **env,
        "PATH": str(venv / "bin"),
        "HOME": str(home),
        "VISAVIS_DATA_DIR": str(home / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(venv / "bin/visavis"), "demo", "--port", str(port)],
            env=demo_env, cwd=home, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            # Migrations, samples and the demo video come first. An upper bound, not a
            # wait: at load 13 on 2 cores they took over 120 s, and the test went on to
            # a server that was not listening yet.
            deadline = time.monotonic() + 600
            healthy = False
            while not healthy and time.monotonic() < deadline and proc.poll() is None:
                with contextlib.suppress(httpx.HTTPError):
                    healthy = httpx.get(base + "/healthz", timeout=1).status_code == 200
                if not healthy:
                    time.sleep(0.2)
            assert healthy, log.read_text()
            page = httpx.get(base + "/demo", timeout=10)
            assert page.status_code == 200, page.text
            src = found(r'<script[^>]+src="([^"]*widget\.js[^"]*)"', page.text)
            widget = httpx.get(httpx.URL(base + "/demo").join(src), timeout=10)
            assert widget.status_code == 200
            assert "javascript" in widget.headers["content-type"]
            assert len(widget.content) > 1000
            console = httpx.get(base + "/console", timeout=10)
            assert console.status_code == 200 and "<script" in console.text
            text = log.read_text()
            email = found(r"Adviser login:\s+(\S+)", text)
            password = found(r"Password:\s+(\S+)", text)
            r = httpx.post(base + "/api/v1/session", json={"email": email, "password": password})
            assert r.status_code == 200, r.text
            listed = httpx.get(base + "/api/v1/form-templates", cookies=r.cookies).json()
            assert len(listed["templates"]) == 3, listed
        finally:
            proc.terminate()
            proc.wait(20)
