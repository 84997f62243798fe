"""The organisation's seal key: an EC P-256 key with a self-issued certificate, made
on first use in `keys_dir` — or the key and certificate of a configured PKCS#12 file
(e.g. one issued by a CA the verifiers already trust).

The self-issued certificate is what `seal_certificate_pem` hands to verifiers: it is
trusted because an operator gives it to them, not because a CA vouches for it. Its
key usage is what pyHanko (and Adobe) expect of a document signer: digitalSignature
and nonRepudiation (contentCommitment), extended key usage documentSigning (RFC 9336)
and Microsoft's Document Signing; it is no CA.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID, ObjectIdentifier
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from visavis.signing.errors import SigningError
from visavis.signing.lib_speedups import do_install_speedups

do_install_speedups()  # before anything here builds or reads a signature (lib_speedups)

KEY_FILE = "seal-key.pem"
CERT_FILE = "seal-cert.pem"
LOCK_FILE = ".seal.lock"
VALID_YEARS = 10
# id-kp-documentSigning (RFC 9336) and Microsoft Document Signing, which Acrobat accepts
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
MS_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")


@dataclass(frozen=True)
class SealKeys:
    """The signer and the certificates a verifier needs; opaque to callers."""

    signer: SimpleSigner
    certificate: asn1_x509.Certificate  # the seal's own certificate
    chain: tuple[asn1_x509.Certificate, ...]  # the others that came with it (PKCS#12)


def load_or_create_seal_keys(
    keys_dir: Path,
    organisation: str,
    p12_path: Path | None = None,
    p12_password: bytes | None = None,
) -> SealKeys:
    """The PKCS#12 file's key when `p12_path` is given, else the key in `keys_dir`,
    made (with a certificate naming `organisation`) when there is none yet."""
    if p12_path is not None:
        return _load_p12(p12_path, p12_password)
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path, cert_path = keys_dir / KEY_FILE, keys_dir / CERT_FILE
    # Two processes starting at once (server and CLI) must not each make a key: the
    # one that comes second would overwrite the certificate operators handed out.
    with open(keys_dir / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not key_path.exists():
            _create(key_path, cert_path, organisation)
    return _load_pem(key_path, cert_path)


def seal_certificate_pem(keys: SealKeys) -> bytes:
    """The certificate(s) a verifier trusts: the seal's own, then the rest of its chain."""
    return b"".join(_pem(c) for c in (keys.certificate, *keys.chain))


def _pem(cert: asn1_x509.Certificate) -> bytes:
    return x509.load_der_x509_certificate(cert.dump()).public_bytes(serialization.Encoding.PEM)


def _create(key_path: Path, cert_path: Path, organisation: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = subject_name(f"{organisation} (Siegel / seal)", organisation)
    usage = x509.ExtendedKeyUsage([DOCUMENT_SIGNING, MS_DOCUMENT_SIGNING])
    cert = self_issued_certificate(key, name, VALID_YEARS, usage, eku_critical=False)
    write_key_and_certificate(key_path, cert_path, key, cert)


def subject_name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
        ]
    )


def self_issued_certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    name: x509.Name,
    valid_years: int,
    usage: x509.ExtendedKeyUsage,
    eku_critical: bool,
) -> x509.Certificate:
    """A self-issued end-entity certificate (no CA) whose key signs: digitalSignature
    and nonRepudiation, the given extended key usage (a seal's document signing, or a
    TSA's timeStamping, which RFC 3161 2.3 wants critical). Valid from 5 minutes ago,
    so a verifier whose clock is a little behind accepts it."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * valid_years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(usage, critical=eku_critical)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def write_key_and_certificate(
    key_path: Path,
    cert_path: Path,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    cert: x509.Certificate,
) -> None:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private_file(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    # the key last: its presence is what says "made" (see load_or_create_seal_keys)
    write_private_file(key_path, key_pem)


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` with mode 0600 from the first byte on, replacing `path` atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _load_pem(key_path: Path, cert_path: Path) -> SealKeys:
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningError(
            "seal_key_invalid",
            f"the seal key in {key_path.parent} cannot be read ({exc}); expected "
            f"{KEY_FILE} and {CERT_FILE} as made by visavis",
        ) from None
    return _keys(key, cert, [])


def _load_p12(path: Path, password: bytes | None) -> SealKeys:
    try:
        key, cert, others = pkcs12.load_key_and_certificates(path.read_bytes(), password)
    except (OSError, ValueError) as exc:
        raise SigningError(
            "seal_key_invalid",
            f"the PKCS#12 file {path} cannot be read ({exc}); expected a key and its "
            "certificate, and the right password",
        ) from None
    if key is None or cert is None:
        raise SigningError(
            "seal_key_invalid", f"the PKCS#12 file {path} has no key or no certificate"
        )
    return _keys(key, cert, others)


def _keys(key: object, cert: x509.Certificate, others: list[x509.Certificate]) -> SealKeys:
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SigningError(
            "seal_key_invalid", f"the seal key is a {type(key).__name__}; expected EC or RSA"
        )
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise SigningError("seal_key_invalid", "the seal certificate is not the key's certificate")
    signing_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    chain = tuple(
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in others
    )
    signer = SimpleSigner(
        signing_cert=signing_cert,
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [signing_cert, *chain]
        ),
    )
    return SealKeys(signer, signing_cert, chain)
