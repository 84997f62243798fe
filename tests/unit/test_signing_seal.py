"""Sealing and verifying for real: pyHanko signs, the local TSA (a subprocess) stamps
the time, pyHanko's own validation and the operators' `pyhanko` command agree."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as sig_fields
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from sample_files import pdf
from signing_samples import audit, mark
from tsa import LocalTsa

from visavis.signing.errors import SigningError
from visavis.signing.keys import SealKeys, load_or_create_seal_keys, seal_certificate_pem
from visavis.signing.seal import do_sign
from visavis.signing.verify import check_signed_pdf

ORIGINAL = pdf(pages=3)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SealKeys:
    return load_or_create_seal_keys(tmp_path_factory.mktemp("keys"), "Musterbank eG")


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    server = LocalTsa(tmp_path_factory.mktemp("tsa"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sealed(keys: SealKeys) -> bytes:
    return do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys)


def pyhanko_status(data: bytes, trust: list[bytes]) -> tuple[bool, SignatureCoverageLevel | None]:
    reader = PdfFileReader(io.BytesIO(data))
    roots = [c for pem in trust for c in load_certs_from_pemder_data(pem)]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    status = validate_pdf_signature(reader.embedded_signatures[-1], context)
    return status.bottom_line, status.coverage


def test_a_sealed_document_is_valid_and_reads_back_its_audit_trail(
    keys: SealKeys, sealed: bytes
) -> None:
    report = check_signed_pdf(sealed, [seal_certificate_pem(keys)])
    assert (report.valid, report.reason) == (True, "ok")
    (sig,) = report.signatures
    assert sig.signer == "Musterbank eG (Siegel / seal)"
    assert (sig.intact, sig.trusted, sig.timestamped) == (True, True, False)
    assert sig.signed_at is not None and abs(sig.signed_at - datetime.now(UTC)) < timedelta(
        minutes=10
    )
    record = audit(ORIGINAL)
    assert report.audit["organisation"] == "Musterbank eG"
    assert report.audit["conversation_id"] == "c-4711"
    assert report.audit["original_sha256"] == record.original_sha256
    assert report.audit["consent_text"] == record.consent_text
    assert report.audit["consent_version"] == "2026-11"
    assert report.audit["signer.1.name"] == "Erika Mustermann"
    assert report.audit["step.1.seq"] == "10" and report.audit["step.3.seq"] == "12"
    assert report.audit["step.2.ip"] == "203.0.113.7"
    # the original's pages, then the audit trail
    with pikepdf.open(io.BytesIO(sealed)) as doc:
        assert len(doc.pages) == 4
        assert "Audit trail" in doc.pages[3].obj.Contents.read_bytes().decode("latin-1")


def test_pyhankos_own_validation_agrees(keys: SealKeys, sealed: bytes) -> None:
    assert pyhanko_status(sealed, [seal_certificate_pem(keys)]) == (
        True,
        SignatureCoverageLevel.ENTIRE_FILE,
    )


def test_the_operators_pyhanko_command_agrees(
    keys: SealKeys, sealed: bytes, tmp_path: Path
) -> None:
    """The command docs/operations.md gives operators: exit 0 for our file, not 0 for
    a changed one."""
    cert = tmp_path / "seal.pem"
    cert.write_bytes(seal_certificate_pem(keys))
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(sealed)
    changed = bytearray(sealed)
    changed[len(sealed) // 3] ^= 0x01  # inside the signed range, before /Contents
    bad.write_bytes(changed)
    # the venv's own, also when its bin/ is not on PATH
    pyhanko = shutil.which("pyhanko", path=str(Path(sys.executable).parent))
    assert pyhanko is not None, "pyhanko-cli is a test dependency"
    for path, valid in ((good, True), (bad, False)):
        out = subprocess.run(
            [pyhanko, "sign", "validate", "--trust", str(cert), "--trust-replace",
             "--no-revocation-check", "--executive-summary", str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert (out.returncode == 0) == valid, out.stdout + out.stderr


def test_another_key_is_not_trusted(sealed: bytes, tmp_path: Path) -> None:
    other = load_or_create_seal_keys(tmp_path, "Falsche Bank")
    report = check_signed_pdf(sealed, [seal_certificate_pem(other)])
    assert (report.valid, report.reason) == (False, "untrusted")
    assert report.signatures[0].intact and not report.signatures[0].trusted
    assert check_signed_pdf(sealed, []).reason == "untrusted"


def test_pades_b_t_carries_the_local_tsas_time(keys: SealKeys, tsa: LocalTsa) -> None:
    sealed = do_sign(ORIGINAL, [mark()], audit(ORIGINAL), keys, timestamp_url=tsa.url)
    report = check_signed_pdf(sealed, [seal_certificate_pem(keys), tsa.cert_pem])
    assert (report.valid, report.reason) == (True, "ok")
    (sig,) = report.signatures
    assert sig.timestamped
    assert sig.signed_at is not None and abs(sig.signed_at - datetime.now(UTC)) < timedelta(
        minutes=10
    )
    assert pyhanko_status(sealed, [seal_certificate_pem(keys), tsa.cert_pem])[0]
    # the seal alone trusted: the timestamp's authority is not, so neither is the file
    assert check_signed_pdf(sealed, [seal_certificate_pem(keys)]).reason == "untrusted"


def test_a_timestamp_authority_that_does_not_answer_stops_the_signing(
    keys: SealKeys, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once closed
    with pytest.raises(SigningError) as err:
        do_sign(
            ORIGINAL, [mark()], audit(ORIGINAL), keys, timestamp_url=f"http://127.0.0.1:{port}/"
        )
    assert err.value.code == "timestamp_failed"


def test_a_second_signer_as_incremental_update_keeps_it_valid(
    keys: SealKeys, sealed: bytes, tmp_path: Path
) -> None:
    """Someone countersigns the sealed file (a new signature field, appended as an
    incremental update): both signatures stay intact, the last covers the file."""
    second = load_or_create_seal_keys(tmp_path, "Zweite Stelle")
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name="Second", subfilter=sig_fields.SigSeedSubFilter.PADES
        ),
        signer=second.signer,
    ).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(sealed)), output=out)
    twice = out.getvalue()
    both = [seal_certificate_pem(keys), seal_certificate_pem(second)]
    report = check_signed_pdf(twice, both)
    assert (report.valid, report.reason) == (True, "ok")
    assert [s.signer for s in report.signatures] == [
        "Musterbank eG (Siegel / seal)",
        "Zweite Stelle (Siegel / seal)",
    ]
    assert all(s.intact and s.trusted for s in report.signatures)
    assert report.audit["conversation_id"] == "c-4711"
    # the countersigner not trusted: not valid
    assert check_signed_pdf(twice, both[:1]).reason == "untrusted"
    # something appended after the second signature: not valid
    assert check_signed_pdf(twice + b"\n% more\n", both).reason == "appended"
