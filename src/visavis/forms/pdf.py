"""A submitted form as a readable PDF (reportlab): title, the groups with each shown
field's label and value in the reader's language, and what identifies it — the form's
id, the template version, when it was submitted and confirmed, and the digest of the
values (what a later signature signs).

The PDF standard fonts (Helvetica) are enough for German: reportlab writes them with
WinAnsiEncoding, which has ä, ö, ü, ß and €, so no font file is shipped.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from visavis.forms.templates import Template
from visavis.protocol import frames as f
from visavis.protocol.forms import FieldValue

Lang = Literal["de", "en"]

WORDS: dict[Lang, dict[str, str]] = {
    "de": {"yes": "Ja", "no": "Nein", "form": "Formular", "template": "Vorlage",
           "submitted": "Abgeschickt", "confirmed": "Bestätigt von der Kundin oder dem Kunden",
           "not_confirmed": "Noch nicht bestätigt", "digest": "Prüfsumme (SHA-256)",
           "open": "Noch nicht abgeschickt", "empty": "—"},
    "en": {"yes": "Yes", "no": "No", "form": "Form", "template": "Template",
           "submitted": "Submitted", "confirmed": "Confirmed by the customer",
           "not_confirmed": "Not confirmed yet", "digest": "Digest (SHA-256)",
           "open": "Not submitted yet", "empty": "—"},
}  # fmt: skip


def shown_value(template: Template, field: str, value: FieldValue, lang: Lang) -> str:
    """A value as a person reads it: choices by their label, yes/no, amounts and
    dates in the language's way."""
    words = WORDS[lang]
    look = template.ui["fields"][field]
    kind = look["kind"]
    if value is None or value == "":
        return words["empty"]
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if kind in ("select", "radio") and isinstance(value, str):
        label = (look.get("options") or {}).get(value)
        return label[lang] if label else value
    if kind == "money" and isinstance(value, int | float):
        text = f"{value:,.2f}"
        if lang == "de":
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
        return f"{text} EUR"
    if kind == "date" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return day.strftime("%d.%m.%Y") if lang == "de" else day.isoformat()
    return str(value)


def form_pdf(record: f.FormRecord, template: Template, lang: Lang = "de") -> bytes:
    words = WORDS[lang]
    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Italic"]
    out = io.BytesIO()
    title = record["title"][lang]
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=title, author="visavis",
        leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
    )  # fmt: skip
    story: list[Flowable] = [Paragraph(escape(title), styles["Title"])]
    submitted = record["submitted_at"]
    facts = [
        f"{words['form']}: {record['form_id']}",
        f"{words['template']}: {record['template_id']} v{record['version']}",
        f"{words['submitted']}: {submitted}" if submitted else words["open"],
        f"{words['confirmed']}: {record['confirmed_at']}"
        if record["confirmed_at"]
        else words["not_confirmed"],
    ]
    if record["digest"]:
        facts.append(f"{words['digest']}: {record['digest']}")
    story += [Paragraph(escape(line), small) for line in facts]
    values = record["values"]
    for group in template.ui["groups"]:
        rows = [
            [Paragraph(escape(template.ui["fields"][name]["label"][lang]), body),
             Paragraph(escape(shown_value(template, name, values[name], lang)), body)]
            for name in group["fields"]
            if name in values
        ]  # fmt: skip
        if not rows:
            continue  # a group whose fields were all hidden or left empty
        story += [Spacer(1, 6 * mm), Paragraph(escape(group["label"][lang]), styles["Heading2"])]
        table = Table(rows, colWidths=[70 * mm, 100 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                    ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#444444")),
                ]
            )
        )
        story.append(table)
    doc.build(story)
    return out.getvalue()
