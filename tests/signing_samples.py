"""What signing tests feed: a signature PNG, marks, an audit record for a PDF."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

from PIL import Image, ImageDraw

from visavis.signing.model import AuditRecord, AuditStep, SignatureMark, SignatureSpot

NOW = datetime(2026, 12, 2, 13, 30, tzinfo=UTC)


def signature_png(w: int = 400, h: int = 150, color: tuple[int, int, int] = (0, 0, 160)) -> bytes:
    """A drawn stroke on a transparent background."""
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(img).line(
        [(5, h - 10), (w // 2, 10), (w - 5, h - 10)], fill=(*color, 255), width=8
    )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def mark(
    spot: SignatureSpot | None = None, name: str = "Erika Mustermann", role: str = "customer"
) -> SignatureMark:
    return SignatureMark(
        spot or SignatureSpot(0, 0.1, 0.75, 0.35, 0.1), signature_png(), name, role, NOW
    )


def audit(
    original: bytes, steps: int = 3, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64)"
) -> AuditRecord:
    return AuditRecord(
        organisation="Musterbank eG",
        conversation_id="c-4711",
        document_name="Kreditvertrag.pdf",
        original_sha256=hashlib.sha256(original).hexdigest(),
        consent_text="Ich bin einverstanden, diesen Vertrag elektronisch zu unterschreiben. / "
        "I agree to sign this contract electronically.",
        consent_version="2026-11",
        steps=tuple(
            AuditStep(
                what="Zur Unterschrift vorgelegt / Put up for signature"
                if i == 0
                else "Unterschrieben / Signed",
                who="Anna Berger" if i == 0 else "Erika Mustermann",
                role="adviser" if i == 0 else "customer",
                at=NOW,
                seq=10 + i,
                ip="203.0.113.7",
                user_agent=user_agent,
            )
            for i in range(steps)
        ),
    )
