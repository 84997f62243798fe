"""Every command that needs the schema works on a fresh data directory: it migrates
first, as `serve` does (an operator's first `visavis adviser add` must not fail with
"no such table")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def visavis(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VISAVIS_DATA_DIR": str(data_dir)}
    env.pop("VISAVIS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "visavis", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("adviser", "add", "neu@bank.test", "--password", "richtig-geheim-42", "--name", "Neu"),
         "adviser neu@bank.test added"),
        (("adviser", "list"), ""),
        (("team", "list"), ""),
        (("team", "set", "kredit", "--topics", "kredit"), "team kredit saved"),
        (("rule", "list"), ""),
        (("form", "list"), ""),
        (("form", "samples"), ""),
    ],
)  # fmt: skip
def test_command_on_a_fresh_data_directory(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    data_dir = tmp_path / "fresh"
    assert not data_dir.exists()
    out = visavis(data_dir, *args)
    assert out.returncode == 0, out.stderr
    assert "no such table" not in out.stderr
    assert says in out.stdout


def test_an_adviser_added_on_a_fresh_directory_is_listed(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    added = visavis(data_dir, "adviser", "add", "a@bank.test", "--password", "richtig-geheim-42")
    assert added.returncode == 0, added.stderr
    listed = visavis(data_dir, "adviser", "list")
    assert listed.returncode == 0, listed.stderr
    assert "a@bank.test" in listed.stdout


def test_form_templates_from_the_command_line(tmp_path: Path) -> None:
    """`form add` checks the file and makes versions, `form list` shows the newest,
    `form remove` hides it; a wrong file is refused naming the problem."""
    data_dir = tmp_path / "fresh"
    sample = (
        Path(__file__).resolve().parents[2] / "src/visavis/forms/samples/change-of-address.json"
    )
    added = visavis(data_dir, "form", "add", str(sample))
    assert added.returncode == 0, added.stderr
    assert '"version": 1' in added.stdout and '"created": true' in added.stdout
    again = visavis(data_dir, "form", "add", str(sample))
    assert '"version": 1' in again.stdout and '"created": false' in again.stdout
    changed = tmp_path / "changed.json"
    changed.write_text(sample.read_text().replace("Adressänderung", "Neue Anschrift"))
    assert '"version": 2' in visavis(data_dir, "form", "add", str(changed)).stdout
    listed = visavis(data_dir, "form", "list").stdout
    assert "Neue Anschrift" in listed and listed.count("\n") == 1
    wrong = tmp_path / "wrong.json"
    wrong.write_text(sample.read_text().replace('"format": "postcode-de"', '"format": "zip"'))
    refused = visavis(data_dir, "form", "add", str(wrong))
    assert refused.returncode == 2
    assert "template_invalid" in refused.stderr and "'zip' is not one of" in refused.stderr
    assert visavis(data_dir, "form", "remove", "change-of-address").returncode == 0
    assert visavis(data_dir, "form", "list").stdout == ""
