"""What a signing is made of: where a signature goes (`SignatureSpot`), the drawn or
typed signature put there (`SignatureMark`) and the facts printed on the audit page
(`AuditRecord` with its `AuditStep`s). Plain frozen values: no PDF, no keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SignatureSpot:
    """Where a signature goes. Fractions of the page as displayed (rotation applied),
    origin at the top-left corner, so a browser's page overlay maps 1:1."""

    page: int  # 0-based
    x: float
    y: float
    width: float
    height: float
    field_name: str | None = None  # set when it came from the PDF's own AcroForm /Sig field


@dataclass(frozen=True)
class SignatureMark:
    spot: SignatureSpot
    image_png: bytes  # the drawn signature, or the typed name rendered by the browser
    signer_name: str
    role: str  # "customer" | "adviser"
    signed_at: datetime  # aware, UTC


@dataclass(frozen=True)
class AuditStep:
    """One row of the audit page."""

    what: str  # e.g. "Zur Unterschrift vorgelegt / Put up for signature"
    who: str
    role: str
    at: datetime  # aware
    seq: int  # the conversation event's seq
    ip: str
    user_agent: str


@dataclass(frozen=True)
class AuditRecord:
    organisation: str
    conversation_id: str
    document_name: str
    original_sha256: str  # hex, of the PDF as it was put up for signature
    consent_text: str
    consent_version: str
    steps: tuple[AuditStep, ...]
