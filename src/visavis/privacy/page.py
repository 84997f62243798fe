"""The privacy page's text for customers, made from the configuration: who is
responsible, what is kept, for how long, what the profile rules out. German and
English; the web layer turns it into HTML (`web/privacy.py`) and escapes every value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from visavis.privacy.profiles import KIND_LABELS, KINDS, Policy

Lang = Literal["de", "en"]


@dataclass(frozen=True)
class Controller:
    """Who is responsible (Art. 13 (1) a, b GDPR): VISAVIS_CONTROLLER_NAME,
    VISAVIS_CONTROLLER_ADDRESS, VISAVIS_DPO_EMAIL."""

    name: str
    address: str
    dpo_email: str


@dataclass(frozen=True)
class Row:
    what: str
    how_long: str


@dataclass(frozen=True)
class PrivacyText:
    lang: Lang
    title: str
    intro: str
    controller_heading: str
    controller_lines: tuple[str, ...]
    dpo_line: str | None
    table_heading: str
    table_what: str
    table_how_long: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...]
    rights_heading: str
    rights: str
    other_language: str


def duration(days: int, lang: Lang) -> str:
    if days == 0:
        return "bis zum Ende des Gesprächs" if lang == "de" else "until the end of the conversation"
    if days >= 365 and days % 365 <= 2:  # whole years (and their leap days)
        years = days // 365
        if lang == "de":
            return f"{years} {'Jahr' if years == 1 else 'Jahre'} nach Gesprächsende"
        return f"{years} {'year' if years == 1 else 'years'} after the conversation ends"
    if lang == "de":
        return f"{days} Tage nach Gesprächsende"
    return f"{days} days after the conversation ends"


def privacy_text(policy: Policy, controller: Controller, lang: Lang) -> PrivacyText:
    de = lang == "de"
    unnamed = "(nicht angegeben)" if de else "(not configured)"
    rows = []
    for kind in KINDS:
        if kind == "recordings" and not policy.recording_allowed:
            continue
        label = KIND_LABELS[kind][0 if de else 1]
        how_long = duration(policy.days(kind), lang)
        ends = kind == "messages" and not policy.keep_message_content_after_end
        if ends or kind in policy.erase_at_end:
            how_long = (
                "werden mit dem Ende des Gesprächs gelöscht"
                if de
                else "deleted when the conversation ends"
            )
        rows.append(Row(label, how_long))
    notes = []
    if policy.recording_allowed:
        notes.append(
            "Ein Gespräch wird nur aufgezeichnet, wenn alle Beteiligten vorher zustimmen."
            if de
            else "A call is recorded only when everyone taking part has agreed beforehand."
        )
    else:
        notes.append("Gespräche werden nie aufgezeichnet." if de else "Calls are never recorded.")
    if policy.media_peer_to_peer_only:
        notes.append(
            "Bild und Ton gehen verschlüsselt direkt zwischen den Browsern (Ende-zu-Ende); "
            "ein Relay-Server leitet höchstens verschlüsselte Daten weiter."
            if de
            else "Video and sound go encrypted directly between the browsers (end to end); "
            "a relay server forwards encrypted data at most."
        )
    if policy.waiting_room:
        notes.append(
            "Sie warten im Wartezimmer, bis Sie eingelassen werden."
            if de
            else "You wait in the waiting room until you are let in."
        )
    notes.append(
        "Hochgeladene Dateien, unterschriebene Dokumente und Aufzeichnungen werden "
        "verschlüsselt gespeichert. Jeder Zugriff darauf wird protokolliert."
        if de
        else "Uploaded files, signed documents and recordings are stored encrypted. "
        "Every access to them is logged."
    )
    for kind, reason in policy.legal_holds.items():
        label = KIND_LABELS[kind][0 if de else 1]
        notes.append(
            f"{label}: gesetzliche Aufbewahrungspflicht ({reason}); "
            "auch auf Ihren Löschantrag hin bis zum Ablauf der Frist aufbewahrt."
            if de
            else f"{label}: kept by law ({reason}); kept until then even when you ask for erasure."
        )
    address = [line.strip() for line in controller.address.split(";") if line.strip()]
    return PrivacyText(
        lang=lang,
        title="Datenschutz bei der Videoberatung" if de else "Privacy in video consultation",
        intro=(
            "Was wir speichern, wenn Sie mit uns chatten, telefonieren oder Dokumente teilen, "
            "und wie lange."
            if de
            else "What we keep when you chat, call or share documents with us, and for how long."
        ),
        controller_heading="Verantwortlich" if de else "Responsible",
        controller_lines=(controller.name or unnamed, *address),
        dpo_line=(
            (
                f"Datenschutzbeauftragte/r: {controller.dpo_email}"
                if de
                else f"Data protection officer: {controller.dpo_email}"
            )
            if controller.dpo_email
            else None
        ),
        table_heading="Was gespeichert wird" if de else "What is kept",
        table_what="Daten" if de else "Data",
        table_how_long="Wie lange" if de else "How long",
        rows=tuple(rows),
        notes=tuple(notes),
        rights_heading="Ihre Rechte" if de else "Your rights",
        rights=(
            "Sie können Auskunft über Ihre Daten, eine Kopie (Export) und ihre Löschung "
            "verlangen (Art. 15, 17, 20 DSGVO). Wenden Sie sich dazu an die oben genannte "
            "Stelle."
            if de
            else "You may ask what we keep about you, for a copy (export) and for erasure "
            "(Art. 15, 17, 20 GDPR). Please write to the address above."
        ),
        other_language="English" if de else "Deutsch",
    )
