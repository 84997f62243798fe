"""The audit trail: page(s) appended to the signed document, in German and English,
and the same facts as a small JSON stream in the document catalog (`/VisavisAudit`)
that `verify` reads back exactly. Both are added before the seal, so the seal covers
them: a verifier who sees "valid" knows these facts are the ones the organisation
sealed.

The PDF standard font (Helvetica, WinAnsiEncoding) is used as in forms/pdf.py;
characters it lacks are written as their base letter where Unicode has one (ő → o),
else "?" (ł, Chinese). The JSON stream keeps the exact text.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pikepdf
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from visavis.signing.model import AuditRecord, SignatureMark

BERLIN = ZoneInfo("Europe/Berlin")
AUDIT_KEY = "/VisavisAudit"
AUDIT_FORMAT = 1
MAX_AUDIT_JSON = 1024 * 1024  # what verify reads back at most

ROLE_WORDS = {
    "customer": "Kundin oder Kunde / customer",
    "adviser": "Beraterin oder Berater / adviser",
}

SEAL_NOTE = (
    "Dieses Dokument ist mit dem elektronischen Siegel der Organisation versiegelt; "
    "jede spätere Änderung macht das Siegel ungültig. Die gezeichneten Unterschriften sind "
    "einfache elektronische Signaturen. / This document is sealed with the organisation's "
    "electronic seal; any later change invalidates the seal. The drawn signatures are simple "
    "electronic signatures."
)


def audit_facts(
    record: AuditRecord, marks: Sequence[SignatureMark], sealed_at: datetime
) -> dict[str, Any]:
    """The JSON form of the audit trail (what `/VisavisAudit` holds)."""
    return {
        "format": AUDIT_FORMAT,
        "organisation": record.organisation,
        "conversation_id": record.conversation_id,
        "document_name": record.document_name,
        "original_sha256": record.original_sha256,
        "consent_text": record.consent_text,
        "consent_version": record.consent_version,
        "sealed_at": _iso(sealed_at),
        "signers": [
            {"name": m.signer_name, "role": m.role, "signed_at": _iso(m.signed_at),
             "page": m.spot.page + 1}
            for m in marks
        ],
        "steps": [
            {"seq": s.seq, "what": s.what, "who": s.who, "role": s.role, "at": _iso(s.at),
             "ip": s.ip, "user_agent": s.user_agent}
            for s in record.steps
        ],
    }  # fmt: skip


def do_embed_facts(doc: pikepdf.Pdf, facts: dict[str, Any]) -> None:
    data = json.dumps(facts, ensure_ascii=False, sort_keys=True).encode()
    doc.Root[AUDIT_KEY] = doc.make_stream(data)


def read_facts(root: Any) -> dict[str, Any] | None:
    """The embedded facts of a catalog (pikepdf or pyHanko dictionary), None if absent
    or unreadable. `root` is duck-typed: both libraries index dictionaries by name."""
    try:
        stream = root[AUDIT_KEY]
        data = stream.read_bytes() if hasattr(stream, "read_bytes") else stream.data
        if len(data) > MAX_AUDIT_JSON:
            return None
        facts = json.loads(data)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return facts if isinstance(facts, dict) else None


class _Cell(Paragraph):
    """A paragraph that breaks its lines once per width. A table wraps each cell to
    measure rows, again when it splits over pages and when it draws: three times the
    line breaking, the bulk of the audit page's time, for the same result."""

    _wrapped_for: float | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._wrapped_for is not None and self._wrapped_for == availWidth:
            return self.width, self.height
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        self._wrapped_for = availWidth
        return size


# made once per process: the styles are read, never changed, by what renders them
_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("cell", parent=_STYLES["BodyText"], fontSize=8, leading=10)
_HEAD = ParagraphStyle("head", parent=_BODY, fontName="Helvetica-Bold")
_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ]
)


def audit_pdf(record: AuditRecord, marks: Sequence[SignatureMark], sealed_at: datetime) -> bytes:
    """The audit trail as A4 pages (reportlab); long text wraps, many steps flow on."""
    styles, body, head, grid = _STYLES, _BODY, _HEAD, _GRID
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title="Prüfprotokoll / Audit trail", author=_text(record.organisation),
        leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
    )  # fmt: skip

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return _Cell(escape(_text(text)).replace("\n", "<br/>"), style)

    facts = [
        ("Organisation / Organisation", record.organisation),
        ("Dokument / Document", record.document_name),
        ("Gespräch / Conversation", record.conversation_id),
        ("SHA-256 des Originals / SHA-256 of the original", record.original_sha256),
        ("Versiegelt / Sealed", _both_times(sealed_at)),
        ("Einwilligung, Version / Consent, version", record.consent_version),
    ]
    story: list[Flowable] = [
        Paragraph("Prüfprotokoll / Audit trail", styles["Title"]),
        p(SEAL_NOTE),
        Spacer(1, 4 * mm),
        Table(
            [[p("Angabe / Fact", head), p("Wert / Value", head)]]
            + [[p(k, head), p(v)] for k, v in facts],
            colWidths=[60 * mm, 120 * mm],
            style=grid,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Einwilligungstext / Consent text", styles["Heading3"]),
        p(record.consent_text),
        Spacer(1, 4 * mm),
        Paragraph("Unterschriften / Signatures", styles["Heading3"]),
        Table(
            [
                [
                    p("Name", head),
                    p("Rolle / Role", head),
                    p("Zeit / Time", head),
                    p("Seite / Page", head),
                ]
            ]
            + [
                [
                    p(m.signer_name),
                    p(_role(m.role)),
                    p(_both_times(m.signed_at)),
                    p(str(m.spot.page + 1)),
                ]
                for m in marks
            ],
            colWidths=[55 * mm, 40 * mm, 65 * mm, 20 * mm],
            style=grid,
            repeatRows=1,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Schritte / Steps", styles["Heading3"]),
        Table(
            [
                [
                    p("Nr. / Seq", head),
                    p("Schritt / Step", head),
                    p("Wer / Who", head),
                    p("Zeit / Time", head),
                    p("IP, Browser", head),
                ]
            ]
            + [
                [
                    p(str(s.seq)),
                    p(s.what),
                    p(f"{s.who}\n{_role(s.role)}"),
                    p(_both_times(s.at)),
                    p(f"{s.ip}\n{s.user_agent}"),
                ]
                for s in record.steps
            ],
            colWidths=[14 * mm, 40 * mm, 38 * mm, 38 * mm, 50 * mm],
            style=grid,
            repeatRows=1,
        ),
    ]
    doc.build(story)
    return out.getvalue()


def _iso(at: datetime) -> str:
    return _utc(at).isoformat().replace("+00:00", "Z")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"time {at.isoformat()} has no time zone; expected an aware datetime")
    return at.astimezone(UTC)


def _both_times(at: datetime) -> str:
    utc = _utc(at)
    local = utc.astimezone(BERLIN)
    return f"{local:%d.%m.%Y %H:%M:%S} {local.tzname()}\n{utc:%Y-%m-%d %H:%M:%S} UTC"


def _role(role: str) -> str:
    return ROLE_WORDS.get(role, role)


# newline, printable ASCII and Latin-1 but the soft hyphen (category Cf): all in cp1252
_LATIN1_PRINTABLE = re.compile("[\n\x20-\x7e\xa0-\xac\xae-\xff]*")


def _text(text: str) -> str:
    """Text the standard font can show: WinAnsi (cp1252) characters as they are, others
    as their base letter (NFKD without accents) or "?"; control characters as spaces."""
    if _LATIN1_PRINTABLE.fullmatch(text):
        return text  # the common case, and what the loop below would return
    out = []
    for ch in text:
        if ch in "\n":
            out.append(ch)
            continue
        if unicodedata.category(ch).startswith("C"):
            out.append(" ")
            continue
        try:
            ch.encode("cp1252")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode("cp1252")
            out.append(base or "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)
