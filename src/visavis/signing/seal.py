"""`do_sign`: stamp the signatures into the pages, append the audit trail (pages plus
the `/VisavisAudit` facts), then seal the whole file with the organisation's key as
PAdES-B-B — PAdES-B-T when a timestamp authority's URL is given.

Everything that changes the document happens before the seal, in one pikepdf save;
the seal is pyHanko's incremental update on top and the last bytes of the file, so
the sealed file's signature covers all of it (coverage ENTIRE_FILE), which is what
`verify.check_signed_pdf` insists on.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pikepdf
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields as sig_fields
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from visavis.documents.checks import UploadLimits, check_pdf
from visavis.errors import VisavisError
from visavis.signing.audit import audit_facts, audit_pdf, do_embed_facts
from visavis.signing.errors import SigningError
from visavis.signing.keys import SealKeys
from visavis.signing.lib_speedups import do_install_speedups
from visavis.signing.model import AuditRecord, SignatureMark
from visavis.signing.stamp import do_stamp
from visavis.signing.timestamp_client import shown_url, timestamper_for

do_install_speedups()  # before anything here builds or reads a signature (lib_speedups)

log = logging.getLogger(__name__)

SEAL_FIELD = "VisavisSeal"
SEAL_REASON = "Siegel der Organisation / Organisation seal"
TIMESTAMP_TIMEOUT_S = 10
# what a document put up for signature may be: the upload limits of documents/
LIMITS = UploadLimits()


def do_sign(
    original: bytes,
    marks: Sequence[SignatureMark],
    audit: AuditRecord,
    keys: SealKeys,
    timestamp_url: str | None = None,
) -> bytes:
    """The sealed document. Raises `SigningError` for input that cannot be signed."""
    try:
        return _sign(original, marks, audit, keys, timestamp_url)
    except SigningError as exc:
        log.info("signing of %d bytes refused: %s: %s", len(original), exc.code, exc.message)
        raise


def _sign(
    original: bytes,
    marks: Sequence[SignatureMark],
    audit: AuditRecord,
    keys: SealKeys,
    timestamp_url: str | None,
) -> bytes:
    digest = hashlib.sha256(original).hexdigest()
    if audit.original_sha256.lower() != digest:
        raise ValueError(
            f"the audit record names original {audit.original_sha256}; the document "
            f"given is {digest}"
        )
    check_signable_pdf(original)
    sealed_at = datetime.now(UTC)
    prepared = _prepare(original, marks, audit, sealed_at)
    return _seal(prepared, audit.organisation, keys, timestamp_url)


def check_signable_pdf(data: bytes) -> None:
    """The upload checks (encryption, damage, active content, page count and sizes),
    and no signature yet: stamping into pages would break an existing one."""
    try:
        check_pdf(data, LIMITS)
    except SigningError:
        raise
    except VisavisError as exc:
        raise SigningError(exc.code, exc.message) from None
    with pikepdf.open(io.BytesIO(data)) as doc:
        if _has_signature(doc):
            raise SigningError(
                "pdf_already_signed",
                "the PDF already carries a digital signature, which stamping would break; "
                "expected an unsigned document",
            )


def _has_signature(doc: pikepdf.Pdf) -> bool:
    # (not /SigFlags: tools set it for empty signature fields too)
    return any(
        isinstance(obj, pikepdf.Dictionary) and "/ByteRange" in obj and "/Contents" in obj
        for obj in doc.objects
    )


def _prepare(
    original: bytes, marks: Sequence[SignatureMark], audit: AuditRecord, sealed_at: datetime
) -> bytes:
    facts = audit_facts(audit, marks, sealed_at)
    trail = audit_pdf(audit, marks, sealed_at)
    with pikepdf.open(io.BytesIO(original)) as doc:
        do_stamp(doc, marks)
        with pikepdf.open(io.BytesIO(trail)) as trail_doc:
            doc.pages.extend(trail_doc.pages)
        do_embed_facts(doc, facts)
        out = io.BytesIO()
        # no object streams: pyHanko's incremental update then appends a plain xref
        doc.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def _seal(prepared: bytes, organisation: str, keys: SealKeys, timestamp_url: str | None) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        subfilter=sig_fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=SEAL_REASON,
        name=organisation,
    )
    timestamper: TimeStamper | None = None
    if timestamp_url:
        try:
            timestamper = timestamper_for(timestamp_url, TIMESTAMP_TIMEOUT_S)
        except ValueError as exc:
            raise SigningError("timestamp_failed", str(exc)) from None
    signer = signers.PdfSigner(meta, signer=keys.signer, timestamper=timestamper)
    out = io.BytesIO()
    try:
        signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(prepared)), output=out)
    except TimestampRequestError as exc:
        raise SigningError(
            "timestamp_failed",
            f"the timestamp authority at {shown_url(timestamp_url or '')} did not answer with a "
            f"timestamp ({exc}); expected an RFC 3161 response",
        ) from None
    return out.getvalue()
