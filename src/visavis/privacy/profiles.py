"""Deployment profiles (VISAVIS_PROFILE): what is kept, for how long, what is allowed.

- retail (default): as before; recording only with everyone's consent.
- medical (KBV Anlage 31b to the BMV-Ä): media only browser-to-browser (a TURN server
  relays encrypted media, nothing else), no recording at all, no message content,
  documents, forms or signed PDFs after the conversation ends (erased in the write
  that ends it), metadata gone after at most 3 months, customers wait in the
  waiting room until the adviser admits them.
- bank: identification and advice evidence (recordings, signed PDFs, the protocol:
  messages, forms, the conversation's metadata) kept 5 years (§ 83 (8) WpHG, § 8 (4)
  GwG), then deleted; an erasure request keeps them until then and says so.

Retention is counted in days from the end of a conversation (`conversations.ended_at`);
a conversation that has not ended is never touched. 0 means "at the first retention
run after the end". The settings VISAVIS_RETENTION_<KIND>_DAYS override a profile's
default, within the profile's limits (`check_policy`): a medical deployment cannot be
configured to keep metadata longer than 92 days, to keep message content or to record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from visavis.errors import VisavisError

PROFILES = ("retail", "medical", "bank")
KINDS = ("messages", "documents", "forms", "signed_pdfs", "recordings", "metadata")
FIVE_YEARS = 1827  # days: 5 x 365 + 2 leap days at most
MEDICAL_MAX_METADATA_DAYS = 92  # "at most 3 months": the longest three months

KIND_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "messages": ("Chat-Nachrichten (Inhalt)", "Chat messages (content)"),
        "documents": ("Geteilte Dokumente und Fotos", "Shared documents and photos"),
        "forms": ("Ausgefüllte Formulare", "Filled-in forms"),
        "signed_pdfs": ("Unterschriebene PDF-Dokumente", "Signed PDF documents"),
        "recordings": ("Gesprächsaufzeichnungen", "Call recordings"),
        "metadata": (
            "Gesprächsdaten (Zeitpunkte, Beteiligte, Protokoll)",
            "Conversation data (times, participants, protocol)",
        ),
    }
)


@dataclass(frozen=True)
class Policy:
    profile: str
    retention_days: Mapping[str, int]  # every kind in KINDS
    recording_allowed: bool
    recording_needs_consent: bool
    keep_message_content_after_end: bool
    waiting_room: bool
    # media never through a server that can read it: TURN relays encrypted SRTP only
    # and no SFU/recorder joins a call
    media_peer_to_peer_only: bool
    # kinds an erasure request keeps until their retention ends, with the legal reason
    legal_holds: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # the least a kind may be kept (an override below it is refused)
    minimum_days: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # kinds erased in the write that ends a conversation (files: right after it), not
    # at the next retention run
    erase_at_end: tuple[str, ...] = ()

    def days(self, kind: str) -> int:
        return self.retention_days[kind]


_RETAIL = Policy(
    profile="retail",
    retention_days=MappingProxyType(
        {
            "messages": 365,
            "documents": 90,
            "forms": 365,
            "signed_pdfs": 6 * 365 + 2,
            "recordings": 90,
            "metadata": 365,
        }
    ),
    recording_allowed=True,
    recording_needs_consent=True,
    keep_message_content_after_end=True,
    waiting_room=False,
    media_peer_to_peer_only=False,
    legal_holds=MappingProxyType(
        {"signed_pdfs": "§ 257 HGB, § 147 AO: signed agreements are commercial documents"}
    ),
)

_MEDICAL = Policy(
    profile="medical",
    retention_days=MappingProxyType(
        {
            "messages": 0,
            "documents": 0,
            "forms": 0,
            "signed_pdfs": 0,
            "recordings": 0,
            "metadata": 90,
        }
    ),
    recording_allowed=False,
    recording_needs_consent=True,
    keep_message_content_after_end=False,
    waiting_room=True,
    media_peer_to_peer_only=True,
    erase_at_end=("messages", "documents", "forms", "signed_pdfs"),
)

_EVIDENCE = "§ 83 (8) WpHG, § 8 (4) GwG: identification and advice evidence, 5 years"
_BANK = Policy(
    profile="bank",
    retention_days=MappingProxyType(
        {
            "messages": FIVE_YEARS,
            "documents": 365,
            "forms": FIVE_YEARS,
            "signed_pdfs": FIVE_YEARS,
            "recordings": FIVE_YEARS,
            "metadata": FIVE_YEARS,
        }
    ),
    recording_allowed=True,
    recording_needs_consent=True,
    keep_message_content_after_end=True,
    waiting_room=False,
    media_peer_to_peer_only=False,
    legal_holds=MappingProxyType(
        {k: _EVIDENCE for k in ("messages", "forms", "signed_pdfs", "recordings", "metadata")}
    ),
    minimum_days=MappingProxyType(
        {k: FIVE_YEARS for k in ("messages", "forms", "signed_pdfs", "recordings", "metadata")}
    ),
)

DEFAULTS: Mapping[str, Policy] = MappingProxyType(
    {"retail": _RETAIL, "medical": _MEDICAL, "bank": _BANK}
)


def policy_for(profile: str, overrides: Mapping[str, str] | None = None) -> Policy:
    """The profile's policy with the retention overrides (kind -> the setting's raw
    text; "" keeps the default), checked. ValueError names the setting and the limit:
    `serve` refuses to start with it."""
    if profile not in DEFAULTS:
        raise ValueError(
            f"VISAVIS_PROFILE: {profile!r} is not a profile; expected one of {PROFILES}"
        )
    base = DEFAULTS[profile]
    days = dict(base.retention_days)
    for kind, raw in (overrides or {}).items():
        if kind not in KINDS:
            raise ValueError(f"retention: unknown kind {kind!r}; expected one of {KINDS}")
        text = raw.strip()
        if not text:
            continue
        if not text.isdigit():
            raise ValueError(f"{setting_name(kind)}: expected a whole number of days, got {raw!r}")
        days[kind] = int(text)
    policy = replace(base, retention_days=MappingProxyType(days))
    check_policy(policy)
    return policy


def setting_name(kind: str) -> str:
    return f"VISAVIS_RETENTION_{kind.upper()}_DAYS"


def check_policy(policy: Policy) -> None:
    """The limits of the profile; the medical ones are what KBV Anlage 31b requires."""
    for kind, least in policy.minimum_days.items():
        if policy.days(kind) < least:
            raise ValueError(
                f"{setting_name(kind)}={policy.days(kind)}: the {policy.profile} profile keeps "
                f"{kind} at least {least} days ({policy.legal_holds.get(kind, 'by law')})"
            )
    if policy.profile != "medical":
        return
    if policy.days("metadata") > MEDICAL_MAX_METADATA_DAYS:
        raise ValueError(
            f"{setting_name('metadata')}={policy.days('metadata')}: the medical profile "
            f"deletes metadata after at most {MEDICAL_MAX_METADATA_DAYS} days (3 months, "
            "KBV Anlage 31b)"
        )
    if policy.days("messages") != 0:
        raise ValueError(
            f"{setting_name('messages')}={policy.days('messages')}: the medical profile keeps "
            "no message content after a conversation ends; expected 0"
        )
    if policy.recording_allowed or policy.days("recordings") != 0:
        raise ValueError(
            f"{setting_name('recordings')}={policy.days('recordings')}: the medical profile "
            "records nothing; expected 0"
        )


def check_recording_allowed(policy: Policy) -> None:
    """For the recorder and the server's `recording.request` handler."""
    if not policy.recording_allowed:
        raise VisavisError(
            "forbidden",
            f"the {policy.profile} profile does not allow recording (nothing is recorded)",
        )
