"""The consent text every participant agrees to before a call is recorded.

Versioned: a consent event names the version agreed to, and the text of that version
is in the `recording.requested` event, so the log shows what each person was told.
A changed text gets a new version; old versions stay here for reference.
"""

from __future__ import annotations

CONSENT_VERSION = "2026-12-01"

CONSENT_TEXTS: dict[str, dict[str, str]] = {
    "2026-12-01": {
        "de": (
            "Ihre Beraterin oder Ihr Berater möchte dieses Gespräch aufzeichnen. "
            "Aufgezeichnet werden nur Ton und Bild des Videoanrufs – kein Chat, keine "
            "Dokumente, kein Bildschirm außerhalb des Anrufs. Die Aufnahme beginnt erst, "
            "wenn alle Beteiligten zugestimmt haben, und ist während der ganzen Dauer "
            "sichtbar gekennzeichnet. Sie können Ihre Einwilligung jederzeit widerrufen; "
            "die Aufnahme endet dann sofort. Die Aufnahme wird verschlüsselt beim "
            "Anbieter dieses Dienstes gespeichert, nur die zuständige Beraterin oder der "
            "zuständige Berater und berechtigte Administratoren können sie abrufen, jeder "
            "Abruf wird protokolliert, und sie wird nach Ablauf der gesetzlichen "
            "Aufbewahrungsfrist gelöscht."
        ),
        "en": (
            "Your adviser would like to record this conversation. Only the video call's "
            "sound and picture are recorded – no chat, no documents, no screen outside "
            "the call. Recording starts only once everyone has agreed and is shown "
            "clearly for as long as it runs. You may withdraw your consent at any time; "
            "recording then stops at once. The recording is stored encrypted by the "
            "provider of this service; only your adviser and authorised administrators "
            "can open it, every access is logged, and it is deleted when the statutory "
            "retention period ends."
        ),
    },
}


def consent_text(version: str = CONSENT_VERSION) -> dict[str, str]:
    return {"version": version, **CONSENT_TEXTS[version]}
