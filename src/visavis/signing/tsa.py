"""A small RFC 3161 timestamp authority for tests and the demo — not for production.

Production points `VISAVIS_TIMESTAMP_URL` at a real, trusted TSA (a qualified one where
the law asks for it); this one vouches for nothing but its own clock. It is pyHanko's
`DummyTimeStamper` behind a plain HTTP server (`POST /`, `application/timestamp-query`
in, `application/timestamp-reply` out), with an RSA key and a self-issued certificate
with the critical `timeStamping` extended key usage, made in `--keys DIR` on first start.

    python -m visavis.signing.tsa --port 8318 --keys DIR

prints `tsa listening on http://127.0.0.1:PORT/` once it accepts requests (`--port 0`
picks a free port). The certificate a verifier trusts is DIR/tsa-cert.pem.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import logging
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast

from asn1crypto import cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from visavis.signing.keys import (
    self_issued_certificate,
    subject_name,
    write_key_and_certificate,
)
from visavis.signing.lib_speedups import do_install_speedups

do_install_speedups()  # before anything here builds or reads a signature (lib_speedups)

log = logging.getLogger(__name__)

# pyHanko's helper, untyped there
_attribute = cast(Callable[[str, object], cms.CMSAttribute], simple_cms_attribute)

KEY_FILE = "tsa-key.pem"
CERT_FILE = "tsa-cert.pem"
MAX_REQUEST = 16 * 1024  # a request is a hash and a few fields: ~100 bytes
VALID_YEARS = 10


class CachedKeyTimeStamper(DummyTimeStamper):
    """DummyTimeStamper re-parses its private key for every token (~100 ms for RSA,
    the consistency check); this one parses it once."""

    def __init__(self, cert: asn1_x509.Certificate, key: rsa.RSAPrivateKey) -> None:
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        super().__init__(tsa_cert=cert, tsa_key=asn1_keys.PrivateKeyInfo.load(der))
        self._key = key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: dt.datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        # the parent's signed attributes (pyHanko 0.38), signed with the cached key
        md = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        md.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                _attribute("content_type", "tst_info"),
                _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                _attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                _attribute("message_digest", md.finalize()),
            ]
        )
        signature = self._key.sign(
            signed_attrs.dump(),
            padding.PKCS1v15(),
            get_pyca_cryptography_hash(md_algorithm.upper()),
        )
        return signature, signed_attrs


def load_or_create_tsa(keys_dir: Path) -> CachedKeyTimeStamper:
    """The TSA's key and certificate from `keys_dir`, made there on first use."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path, cert_path = keys_dir / KEY_FILE, keys_dir / CERT_FILE
    with open(keys_dir / ".tsa.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not key_path.exists():
            _create(key_path, cert_path)
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{key_path} holds a {type(key).__name__}; expected an RSA key")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    return CachedKeyTimeStamper(asn1_x509.Certificate.load(der), key)


def _create(key_path: Path, cert_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = subject_name("visavis local test TSA", "visavis (test and demo only)")
    # RFC 3161 2.3: the TSA's certificate has exactly this EKU, marked critical
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
    cert = self_issued_certificate(key, name, VALID_YEARS, usage, eku_critical=True)
    write_key_and_certificate(key_path, cert_path, key, cert)


def make_handler(stamper: DummyTimeStamper) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_REQUEST:
                self.send_error(413 if length else 411, "expected a timestamp query")
                return
            try:
                req = tsp.TimeStampReq.load(self.rfile.read(length))
                _ = req.native  # parse all of it now: asn1crypto parses lazily
                body = stamper.request_tsa_response(req).dump()
            except (ValueError, TypeError, KeyError) as exc:
                log.info("timestamp query refused: %s", exc)
                self.send_error(400, "expected an RFC 3161 timestamp query")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m visavis.signing.tsa",
        description="Local RFC 3161 timestamp authority for tests and the demo (not for "
        "production: point VISAVIS_TIMESTAMP_URL at a real TSA there).",
    )
    parser.add_argument("--port", type=int, default=8318, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--keys", type=Path, required=True, help="folder of its key + cert")
    args = parser.parse_args(argv)
    stamper = load_or_create_tsa(args.keys)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(stamper))
    host, port = server.server_address[:2]
    print(f"tsa listening on http://{host!s}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
