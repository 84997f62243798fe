"""`visavis verify` and `visavis seal-cert` as an operator runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sample_files import pdf
from signing_samples import audit, mark
from zygote import run_visavis

from visavis.signing.keys import CERT_FILE, load_or_create_seal_keys, seal_certificate_pem
from visavis.signing.seal import do_sign

ORIGINAL = pdf(pages=1)


def visavis(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VISAVIS_DATA_DIR": str(data_dir), "VISAVIS_ORGANISATION": "Musterbank eG"}
    return run_visavis(list(args), env, timeout=120)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A data directory whose seal key sealed a document (the key where the server
    would make it: $VISAVIS_DATA_DIR/keys)."""
    data_dir = tmp_path_factory.mktemp("var")
    keys = load_or_create_seal_keys(data_dir / "keys", "Musterbank eG")
    return data_dir, do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys)


def test_verify_exit_codes(deployment: tuple[Path, bytes], tmp_path: Path) -> None:
    data_dir, sealed = deployment
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(sealed)
    bad.write_bytes(sealed + b"\n")
    out = visavis(data_dir, "verify", str(good))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("VALID (ok)")
    assert "Musterbank eG (Siegel / seal)" in out.stdout
    assert "conversation_id: c-4711" in out.stdout
    assert "signed: Erika Mustermann (customer)" in out.stdout

    out = visavis(data_dir, "verify", str(bad))
    assert out.returncode == 1 and out.stdout.startswith("INVALID (appended)"), out.stdout

    out = visavis(data_dir, "verify", str(tmp_path / "missing.pdf"))
    assert out.returncode == 2 and "cannot read" in out.stderr

    # --trust replaces the deployment's trust: another key's certificate does not do
    other = tmp_path / "other.pem"
    other.write_bytes(seal_certificate_pem(load_or_create_seal_keys(tmp_path / "k", "Other")))
    out = visavis(data_dir, "verify", str(good), "--trust", str(other))
    assert out.returncode == 1 and out.stdout.startswith("INVALID (untrusted)"), out.stdout
    out = visavis(data_dir, "verify", str(good), "--trust", str(data_dir / "keys" / CERT_FILE))
    assert out.returncode == 0, out.stdout

    out = visavis(data_dir, "verify", "--json", str(good))
    verdict = json.loads(out.stdout)
    assert out.returncode == 0 and verdict["valid"] and verdict["reason"] == "ok"
    assert verdict["audit"]["original_sha256"] == audit(ORIGINAL).original_sha256


def test_seal_cert_prints_the_certificate_operators_hand_out(
    deployment: tuple[Path, bytes], tmp_path: Path
) -> None:
    data_dir, _ = deployment
    out = visavis(data_dir, "seal-cert")
    assert out.returncode == 0, out.stderr
    assert out.stdout.encode() == (data_dir / "keys" / CERT_FILE).read_bytes()
    # a fresh deployment makes its key on first use, with the configured name
    fresh = visavis(tmp_path / "fresh", "seal-cert")
    assert fresh.returncode == 0 and fresh.stdout.startswith("-----BEGIN CERTIFICATE-----")
    assert (tmp_path / "fresh" / "keys" / CERT_FILE).exists()
