"""`check_signed_pdf`: is this the document as sealed, by a key we trust?

pyHanko validates each signature (integrity, the signer's certificate against the
given trust roots — nothing is fetched — and the timestamp). That alone is not enough
for "nothing changed since" (see docs/architecture.md, "Signing"):

- bytes appended after the last signature leave every signature "valid" (coverage
  ENTIRE_REVISION): the last signature must cover the ENTIRE_FILE;
- the zero padding after the CMS blob inside `/Contents` is outside the signed byte
  range and ignored by the CMS parser, so changing it is invisible to standard
  validation: the padding is checked here to be all zeros;
- parts of the CMS blob are signed by nothing — the `digestAlgorithms` set and the
  embedded certificates (the trust decision uses the trust roots): a changed byte
  there also leaves standard validation "valid". Here every embedded certificate
  (also the timestamp token's) must verify under its issuer's key, and the digest
  algorithm set must name just the signer's;
- anything pyHanko cannot parse (a damaged signature value, a broken xref) raises:
  any exception means invalid, reason "malformed".
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from visavis.signing.audit import read_facts
from visavis.signing.lib_speedups import do_install_speedups

do_install_speedups()  # before anything here builds or reads a signature (lib_speedups)

log = logging.getLogger(__name__)

REASONS = ("ok", "not_signed", "modified", "appended", "padding_changed", "untrusted", "malformed")


@dataclass(frozen=True)
class SignatureFinding:
    signer: str  # the certificate's common name (or organisation)
    signed_at: datetime | None  # the timestamp's time, else the time the signer claims
    timestamped: bool  # an RFC 3161 timestamp vouches for signed_at
    intact: bool  # the signed bytes and the signature value match
    trusted: bool  # the certificate (and the timestamp's) lead to a trust root


@dataclass(frozen=True)
class VerifyReport:
    valid: bool  # False on ANY change: appended bytes, touched padding, coverage
    reason: str  # one of REASONS
    signatures: tuple[SignatureFinding, ...]
    audit: dict[str, str]  # what the audit trail says, when readable


class _Invalid(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def check_signed_pdf(data: bytes, trust_pem: Sequence[bytes]) -> VerifyReport:
    """The verdict on `data`, trusting the certificates in `trust_pem` (PEM or DER)."""
    findings: list[SignatureFinding] = []
    audit: dict[str, str] = {}
    try:
        roots = [c for pem in trust_pem for c in load_certs_from_pemder_data(pem)]
        reason = _check(data, roots, findings, audit)
    except Exception as exc:  # anything pyHanko or asn1crypto trips over: not valid
        log.info("verification of %d bytes: malformed (%s: %s)", len(data), type(exc).__name__, exc)
        reason = "malformed"
    return VerifyReport(reason == "ok", reason, tuple(findings), audit)


def _check(
    data: bytes,
    roots: list[asn1_x509.Certificate],
    findings: list[SignatureFinding],
    audit: dict[str, str],
) -> str:
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    facts = read_facts(reader.root)
    if facts is not None:
        audit.update(flatten_facts(facts))
    sigs: list[EmbeddedPdfSignature] = list(reader.embedded_signatures)
    if not sigs:
        return "not_signed"
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    issuers = [x509.load_der_x509_certificate(r.dump()) for r in roots]
    reasons: list[str] = []
    for i, emb in enumerate(sigs):
        last = i == len(sigs) - 1
        reasons.append(_check_one(data, emb, context, issuers, findings, last=last))
    # the most telling reason first: a change beats a trust problem
    for reason in ("modified", "padding_changed", "appended", "untrusted"):
        if reason in reasons:
            return reason
    return "ok"


def _check_one(
    data: bytes,
    emb: EmbeddedPdfSignature,
    context: ValidationContext,
    roots: list[x509.Certificate],
    findings: list[SignatureFinding],
    last: bool,
) -> str:
    padding_ok = check_contents_padding(data, [int(v) for v in emb.byte_range])
    cms_ok = check_cms_untouched(cms.ContentInfo.load(emb.pkcs7_content), roots)
    if emb.sig_object_type == "/DocTimeStamp":
        ts_status = validate_pdf_timestamp(emb, validation_context=context)
        findings.append(
            SignatureFinding(
                signer=_name(ts_status.signing_cert),
                signed_at=ts_status.timestamp,
                timestamped=True,
                intact=bool(ts_status.intact and ts_status.valid),
                trusted=bool(ts_status.trusted),
            )
        )
        intact, trusted, coverage = (
            ts_status.intact and ts_status.valid,
            ts_status.trusted,
            (ts_status.coverage),
        )
        docmdp_ok: bool | None = ts_status.docmdp_ok
        ts_ok = True
    else:
        status = validate_pdf_signature(emb, signer_validation_context=context)
        ts = status.timestamp_validity
        findings.append(
            SignatureFinding(
                signer=_name(status.signing_cert),
                signed_at=ts.timestamp if ts is not None else status.signer_reported_dt,
                timestamped=ts is not None,
                intact=bool(status.intact and status.valid),
                trusted=bool(status.trusted),
            )
        )
        intact, trusted, coverage = status.intact and status.valid, status.trusted, status.coverage
        docmdp_ok = status.docmdp_ok if status.modification_level is not None else True
        ts_ok = ts is None or bool(ts.intact and ts.valid and ts.trusted)
    if not intact or not cms_ok:
        return "modified"
    if not padding_ok:
        return "padding_changed"
    if last and coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return "appended"
    if not last and docmdp_ok is False:
        return "modified"  # a later revision changed what this signature allows no change of
    if not trusted or not ts_ok:
        return "untrusted"
    return "ok"


def check_contents_padding(data: bytes, byte_range: list[int]) -> bool:
    """True if `/Contents` is `<hex>` with the CMS blob followed only by zeros.

    The byte range leaves out exactly the hex string, delimiters included:
    [0, a, b, c] signs data[0:a] and data[b:b+c], so data[a:b] is `<…>`."""
    if len(byte_range) != 4:
        return False
    start, gap_end = byte_range[1], byte_range[2]
    if not 0 < start < gap_end <= len(data):
        return False
    gap = data[start:gap_end]
    if len(gap) < 4 or gap[:1] != b"<" or gap[-1:] != b">":
        return False
    hexdigits = gap[1:-1]
    try:
        blob_len = _der_length(bytes.fromhex(hexdigits[:24].decode("ascii")))
    except (ValueError, UnicodeDecodeError):
        return False
    used = 2 * blob_len
    if used > len(hexdigits):
        return False
    try:
        bytes.fromhex(hexdigits[:used].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return False
    return hexdigits[used:] == b"0" * (len(hexdigits) - used)


def check_cms_untouched(content_info: cms.ContentInfo, roots: list[x509.Certificate]) -> bool:
    """True if the parts of a SignedData no signature covers are as signed: the small
    unsigned fields in canonical DER, the versions RFC 5652 prescribes, the digest
    algorithm set the signer's digest algorithm alone, each embedded certificate
    verified under its issuer (an embedded one, a trust root, or itself); and the same
    for a signature timestamp token inside it."""
    if content_info["content_type"].native != "signed_data":
        return False
    signed_data = content_info["content"]
    infos = list(signed_data["signer_infos"])
    if len(infos) != 1:
        return False
    info = infos[0]
    # DER has one encoding per value: a part whose re-encoding differs had a byte
    # changed where the parser forgives (a tag, a length). Only the small unsigned
    # parts: re-encoding all of it (asn1crypto) took ~100 ms.
    for part in (
        signed_data["version"],
        signed_data["digest_algorithms"],
        info["version"],
        info["sid"],
        info["digest_algorithm"],
        info["signature_algorithm"],
    ):
        original = part.dump()
        if part.dump(force=True) != original:
            return False
    # RFC 5652 5.1 / 5.3: the versions follow from what the structure holds
    plain = signed_data["encap_content_info"]["content_type"].native == "data"
    if signed_data["version"].native != ("v1" if plain else "v3"):
        return False
    by_key_id = info["sid"].name == "subject_key_identifier"
    if info["version"].native != ("v3" if by_key_id else "v1"):
        return False
    algos = [a.dump() for a in signed_data["digest_algorithms"]]
    if algos != [info["digest_algorithm"].dump()]:
        return False
    certs = [
        x509.load_der_x509_certificate(c.chosen.dump()) for c in (signed_data["certificates"] or [])
    ]
    issuers = certs + roots
    for cert in certs:
        if not any(_issued_by(cert, issuer) for issuer in issuers):
            return False
    unsigned = info["unsigned_attrs"]
    if isinstance(unsigned, cms.CMSAttributes):
        for attr in unsigned:
            if attr["type"].native == "signature_time_stamp_token":
                for token in attr["values"]:
                    if not check_cms_untouched(token, roots):
                        return False
    return True


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _der_length(head: bytes) -> int:
    """Total length (header included) of the DER value starting `head`."""
    if len(head) < 2 or head[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    first = head[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(head) < 2 + n:
        raise ValueError("unsupported DER length")
    return 2 + n + int.from_bytes(head[2 : 2 + n], "big")


def _name(cert: asn1_x509.Certificate) -> str:
    subject: dict[str, Any] = cert.subject.native
    return str(
        subject.get("common_name")
        or subject.get("organization_name")
        or cert.subject.human_friendly
    )


def flatten_facts(facts: dict[str, Any]) -> dict[str, str]:
    """The audit facts as text: the scalar facts by name, then each signer's and each
    step's fields as `signer.N.name`, `step.N.seq` … (N from 1, in the trail's order)."""
    out: dict[str, str] = {}
    for key in (
        "organisation", "conversation_id", "document_name", "original_sha256",
        "consent_version", "consent_text", "sealed_at",
    ):  # fmt: skip
        value = facts.get(key)
        if isinstance(value, str | int):
            out[key] = str(value)
    for group, names in (
        ("signers", ("name", "role", "signed_at", "page")),
        ("steps", ("seq", "what", "who", "role", "at", "ip", "user_agent")),
    ):
        for i, item in enumerate(_dicts(facts.get(group)), start=1):
            for name in names:
                value = item.get(name)
                if isinstance(value, str | int):
                    out[f"{group[:-1]}.{i}.{name}"] = str(value)
    return out


def numbered(audit: dict[str, str], group: str) -> list[dict[str, str]]:
    """`signer` or `step` entries of a flattened audit, in order: [{name: …, role: …}]."""
    items: dict[int, dict[str, str]] = {}
    for key, value in audit.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == group and parts[1].isdigit():
            items.setdefault(int(parts[1]), {})[parts[2]] = value
    return [items[i] for i in sorted(items)]


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
