"""`visavis demo` (what scripts/demo.sh ends in) prints a working adviser login, and
its library has the product sheet and the product video."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import free_port
from helpers import found


def test_demo_prints_a_login_that_works(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "VISAVIS_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "visavis", "demo", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            # an upper bound, not a wait: the product video is encoded first, and under
            # pytest-xdist beside a loaded machine that alone took over a minute
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            text = log.read_text()
            assert f"{base}/demo" in text and f"{base}/console" in text, text
            email = found(r"Adviser login:\s+(\S+)", text)
            password = found(r"Password:\s+(\S+)", text)
            r = httpx.post(base + "/api/v1/session", json={"email": email, "password": password})
            assert r.status_code == 200 and r.json()["adviser"]["role"] == "supervisor"
            library = httpx.get(base + "/api/v1/library", cookies=r.cookies).json()["documents"]
            items = {d["name"]: (d["kind"], d["mime"], d["downloadable"]) for d in library}
            assert items == {
                "Produktblatt Girokonto.pdf": ("pdf", "application/pdf", True),
                "Produktvideo Girokonto.webm": ("video", "video/webm", False),
            }, library
            # the demo's three form templates
            listed = httpx.get(base + "/api/v1/form-templates", cookies=r.cookies).json()
            assert [t["id"] for t in listed["templates"]] == [
                "account-opening", "change-of-address", "credit-enquiry"
            ]  # fmt: skip
            portal = httpx.get(base + "/api/v1/portal").json()["advisers"]
            assert [a["name"] for a in portal] == ["Anna Berger"]
        finally:
            proc.terminate()
            proc.wait(10)
