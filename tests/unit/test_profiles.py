"""Deployment profiles: defaults, overrides within the profile's limits, and the
medical profile's rules (no recording, no message content after the end, metadata at
most 92 days) refusing the start when the settings break them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from services import conversation_service
from sqlalchemy import select

from visavis.app import create_app
from visavis.config import Settings
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.privacy.page import Controller, privacy_text
from visavis.privacy.profiles import FIVE_YEARS, check_recording_allowed, policy_for
from visavis.storage.engine import Database
from visavis.storage.models import Conversation, Event


def test_the_defaults() -> None:
    retail = policy_for("retail")
    assert retail.recording_allowed and retail.recording_needs_consent
    assert retail.keep_message_content_after_end and not retail.waiting_room
    medical = policy_for("medical")
    assert not medical.recording_allowed and not medical.keep_message_content_after_end
    assert medical.waiting_room and medical.media_peer_to_peer_only
    assert medical.days("metadata") <= 92 and medical.days("messages") == 0
    bank = policy_for("bank")
    for kind in ("recordings", "signed_pdfs", "messages", "metadata", "forms"):
        assert bank.days(kind) == FIVE_YEARS and kind in bank.legal_holds


def test_settings_override_retention_per_kind() -> None:
    settings = Settings.from_env(
        {"VISAVIS_RETENTION_DOCUMENTS_DAYS": "7", "VISAVIS_PROFILE": "retail"}, data_dir="/tmp/x"
    )
    policy = policy_for(settings.profile, settings.retention_overrides())
    assert policy.days("documents") == 7 and policy.days("messages") == 365


@pytest.mark.parametrize(
    ("profile", "overrides", "says"),
    [
        ("medical", {"metadata": "93"}, "VISAVIS_RETENTION_METADATA_DAYS=93: the medical"),
        ("medical", {"messages": "1"}, "keeps no message content"),
        ("medical", {"recordings": "30"}, "records nothing"),
        ("bank", {"signed_pdfs": "365"}, "at least 1827 days"),
        ("retail", {"forms": "zehn"}, "VISAVIS_RETENTION_FORMS_DAYS: expected a whole number"),
        ("klinik", {}, "VISAVIS_PROFILE: 'klinik' is not a profile"),
    ],
)
def test_settings_outside_the_profile_are_refused(
    profile: str, overrides: dict[str, str], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        policy_for(profile, overrides)


def test_the_server_refuses_to_start_with_them(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"VISAVIS_PROFILE": "medical", "VISAVIS_RETENTION_METADATA_DAYS": "120"},
        data_dir=str(tmp_path),
    )
    with pytest.raises(ValueError, match="at most 92 days"):
        create_app(settings)


def test_recording_is_refused_under_medical() -> None:
    check_recording_allowed(policy_for("retail"))
    with pytest.raises(VisavisError) as info:
        check_recording_allowed(policy_for("medical"))
    assert info.value.code == "forbidden"


async def test_medical_erases_messages_in_the_write_that_ends(db: Database) -> None:
    base = conversation_service(db)
    medical = ConversationService(
        db, base.announcer, erase_at_end=policy_for("medical").erase_at_end
    )
    summary, _ = await medical.do_create("Patientin", None, "de", ("c1", "Mein Befund ..."))
    cid = summary["id"]
    await medical.do_chat(cid, Author("customer", None, "Patientin"), "c2", "Noch eine Frage")
    _, events = await medical.do_end(cid, Author("adviser", None, "Dr. A"))
    assert events[-1]["kind"] == "conversation.ended"
    async with db.sessions() as s:
        bodies = [
            json.loads(b)
            for b in await s.scalars(
                select(Event.body).where(Event.conversation_id == cid, Event.kind == "chat.message")
            )
        ]
        conv = await s.get(Conversation, cid)
    assert bodies == [{"text": "", "erased": True}] * 2
    assert conv is not None and conv.preview is None and conv.status == "ended"


def test_the_privacy_text_follows_the_profile() -> None:
    who = Controller("Praxis Dr. Muster", "Hauptstr. 1; 10115 Berlin", "dsb@praxis.example")
    de = privacy_text(policy_for("medical"), who, "de")
    assert "Praxis Dr. Muster" in de.controller_lines and "10115 Berlin" in de.controller_lines
    assert "Gespräche werden nie aufgezeichnet." in de.notes
    assert not any("Aufzeichnungen" == r.what for r in de.rows)
    assert de.rows[0].how_long == "werden mit dem Ende des Gesprächs gelöscht"
    assert ("Gesprächsdaten (Zeitpunkte, Beteiligte, Protokoll)", "90 Tage nach Gesprächsende") in [
        (r.what, r.how_long) for r in de.rows
    ]
    en = privacy_text(policy_for("bank"), who, "en")
    assert ("Call recordings", "5 years after the conversation ends") in [
        (r.what, r.how_long) for r in en.rows
    ]
