"""The seal's and the local TSA's certificates come from the one helper
(`signing/keys.py: self_issued_certificate`) and differ only where they must: the
key, the names and the extended key usage (RFC 3161 2.3 wants the TSA's critical)."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from visavis.signing.keys import (
    CERT_FILE,
    DOCUMENT_SIGNING,
    MS_DOCUMENT_SIGNING,
    load_or_create_seal_keys,
)
from visavis.signing.tsa import load_or_create_tsa

SRC = Path(__file__).resolve().parents[2] / "src" / "visavis"


def ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_oid(oid)


def test_seal_and_tsa_certificates_share_one_builder(tmp_path: Path) -> None:
    load_or_create_seal_keys(tmp_path / "seal", "Musterbank AG")
    load_or_create_tsa(tmp_path / "tsa")
    seal = x509.load_pem_x509_certificate((tmp_path / "seal" / CERT_FILE).read_bytes())
    tsa = x509.load_pem_x509_certificate((tmp_path / "tsa" / "tsa-cert.pem").read_bytes())
    for cert in (seal, tsa):
        assert cert.issuer == cert.subject  # self-issued
        basic = ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
        assert basic.critical and basic.value == x509.BasicConstraints(ca=False, path_length=None)
        usage = ext(cert, ExtensionOID.KEY_USAGE)
        assert usage.critical and isinstance(usage.value, x509.KeyUsage)
        assert usage.value.digital_signature and usage.value.content_commitment
        assert not usage.value.key_cert_sign
        ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
        years = (cert.not_valid_after_utc - cert.not_valid_before_utc).days // 365
        assert years == 10
    seal_eku = ext(seal, ExtensionOID.EXTENDED_KEY_USAGE)
    assert not seal_eku.critical
    assert list(seal_eku.value) == [DOCUMENT_SIGNING, MS_DOCUMENT_SIGNING]  # type: ignore[call-overload]
    tsa_eku = ext(tsa, ExtensionOID.EXTENDED_KEY_USAGE)
    assert tsa_eku.critical
    assert list(tsa_eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]  # type: ignore[call-overload]
    assert "Musterbank AG (Siegel / seal)" in seal.subject.rfc4514_string()


def test_only_keys_py_builds_certificates() -> None:
    builders = sorted(
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "x509.CertificateBuilder(" in p.read_text(encoding="utf-8")
    )
    assert builders == ["signing/keys.py"]
