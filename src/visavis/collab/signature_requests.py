"""A signature request's parts that need no service: its state folded from the
`signature.*` events (`requests_of`), the checks of what a signer sends (the PNG) and
of where the signatures go (`spots_for`), and the signed PDF's name.

Used by `collab/signing.py` (`SigningService`), which holds the writes.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol import signing as s
from visavis.signing.model import SignatureSpot
from visavis.storage.models import Event

CLOSING = ("signature.completed", "signature.failed", "signature.cancelled", "signature.declined")
MAX_IMAGE_SIDE = 2000  # px; the browser sends at most 800x300
MAX_IMAGE_PIXELS = 2_000_000


@dataclass
class Step:
    seq: int
    at: datetime
    author: Author
    body: dict[str, Any]


@dataclass
class RequestState:
    """One request, folded from its events."""

    requested: Step
    signed: dict[str, Step] = field(default_factory=dict)  # role -> step
    closed_by: str | None = None  # the closing event's kind

    @property
    def body(self) -> dict[str, Any]:
        return self.requested.body

    @property
    def complete(self) -> bool:
        return all(r in self.signed for r in self.body["signers"])

    @property
    def open(self) -> bool:
        """Still waiting for a signer (a complete one is being sealed: not open)."""
        return self.closed_by is None and not self.complete


async def requests_of(db: AsyncSession, conversation_id: str) -> dict[str, RequestState]:
    rows = await db.scalars(
        select(Event)
        .where(Event.conversation_id == conversation_id, Event.kind.like("signature.%"))
        .order_by(Event.seq)
    )
    out: dict[str, RequestState] = {}
    for e in rows:
        body = json.loads(e.body)
        at = e.created_at if e.created_at.tzinfo else e.created_at.replace(tzinfo=UTC)
        step = Step(e.seq, at, Author(cast(f.AuthorRole, e.author_role),
                                                e.author_id, e.author_name), body)  # fmt: skip
        rid = body.get("request_id")
        if e.kind == "signature.requested":
            out[rid] = RequestState(step)
        elif rid in out:
            if e.kind == "signature.signed":
                out[rid].signed[body["signer"]] = step
            else:
                out[rid].closed_by = e.kind
    return out


def check_signature_png(data_b64: str) -> bytes:
    """The PNG bytes of a signature image, or `signature_image_invalid`."""
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise VisavisError("signature_image_invalid", "image_png: not base64") from None
    if len(data) > s.MAX_SIGNATURE_PNG_BYTES:
        raise VisavisError(
            "signature_image_invalid",
            f"the signature image has {len(data)} bytes; at most {s.MAX_SIGNATURE_PNG_BYTES}",
        )
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise VisavisError("signature_image_invalid", "the signature image is not a PNG")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                if w > MAX_IMAGE_SIDE or h > MAX_IMAGE_SIDE or w * h > MAX_IMAGE_PIXELS:
                    raise VisavisError(
                        "signature_image_invalid",
                        f"the signature image is {w}x{h} px; at most "
                        f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} and {MAX_IMAGE_PIXELS} pixels",
                    )
                img.load()  # decodes every row: a truncated or corrupt PNG fails here
    except VisavisError:
        raise
    except Exception as exc:  # Pillow raises many kinds for a bad file
        raise VisavisError(
            "signature_image_invalid", f"the signature image cannot be decoded ({exc})"
        ) from None
    if w < 20 or h < 10:
        raise VisavisError("signature_image_invalid", f"the signature image is {w}x{h} px")
    return data


def spots_for(
    msg: s.SignatureRequest, signers: Sequence[str], pdf_fields: list[SignatureSpot], pages: int
) -> list[s.SignatureSpotBody]:
    """The request's spots: the adviser's, or the PDF's own fields (the first for the
    customer, the next for the adviser), or none given: the last page's bottom margin.
    Every signer needs one; no spot for others."""
    if msg.use_pdf_fields:
        if msg.spots:
            raise VisavisError(
                "signature_spots_invalid", "use_pdf_fields: expected no spots besides"
            )
        if len(pdf_fields) < len(signers):
            raise VisavisError(
                "signature_spots_invalid",
                f"the PDF has {len(pdf_fields)} empty signature field(s); "
                f"{len(signers)} signer(s) need one each",
            )
        return [
            s.SignatureSpotBody(signer=cast(f.Role, role), page=sp.page, x=sp.x, y=sp.y,
                                width=sp.width, height=sp.height, field_name=sp.field_name)
            for role, sp in zip(signers, pdf_fields, strict=False)
        ]  # fmt: skip
    if not msg.spots:
        # none placed (e.g. a form's PDF): the bottom margin of the last page, the
        # customer left, the adviser right (reportlab's and most letters' margin is
        # wider than these boxes, so they do not cover text)
        return [default_spot(cast(f.Role, r), pages - 1) for r in signers]
    out = []
    for sp in msg.spots:
        if sp.signer not in signers:
            raise VisavisError(
                "signature_spots_invalid", f"a spot for the {sp.signer}, who does not sign"
            )
        if sp.page >= pages:
            raise VisavisError(
                "signature_spots_invalid", f"spot on page {sp.page}; the PDF has {pages}"
            )
        if sp.x + sp.width > 1.0 or sp.y + sp.height > 1.0:
            raise VisavisError("signature_spots_invalid", "a spot reaches beyond its page")
        out.append(
            s.SignatureSpotBody(signer=sp.signer, page=sp.page, x=sp.x, y=sp.y,
                                width=sp.width, height=sp.height, field_name=None)
        )  # fmt: skip
    if (
        "adviser" in signers
        and msg.signers == "customer"
        and not any(sp.signer == "adviser" for sp in out)
    ):
        # the adviser signs by configuration, not by this request's choice: beside the
        # customer's first box, mirrored across the page
        c = out[0]
        out.append(c.model_copy(update={"signer": "adviser", "x": max(0.0, 1.0 - c.x - c.width)}))
    missing = [r for r in signers if not any(sp.signer == r for sp in out)]
    if missing:
        raise VisavisError(
            "signature_spots_invalid", f"no spot for {', '.join(missing)}; every signer needs one"
        )
    return out


def default_spot(signer: f.Role, page: int) -> s.SignatureSpotBody:
    return s.SignatureSpotBody(signer=signer, page=page, x=0.08 if signer == "customer" else 0.54,
                               y=0.915, width=0.38, height=0.07, field_name=None)  # fmt: skip


def signed_name(name: str) -> str:
    """`Antrag.pdf` -> `Antrag (unterschrieben).pdf`, within the name column."""
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    return f"{stem[:150]} (unterschrieben).pdf"
