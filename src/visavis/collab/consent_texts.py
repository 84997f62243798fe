"""Consent texts a person ticks before an act that needs it, with their versions.

A text is never edited in place: a changed wording gets a new version, so what a
person agreed to can be read back from the version recorded with their step (the
signature's audit page carries both). Other features that need a consent (e.g. a
recording) add their text here the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentTextVersion:
    version: str
    de: str
    en: str

    def both(self) -> str:
        """German and English, as the audit page records it."""
        return f"{self.de}\n{self.en}"


SIGNATURE_CONSENT = ConsentTextVersion(
    version="sign-2026-12-1",
    de=(
        "Ich habe das Dokument gelesen und unterschreibe es elektronisch. Mir ist bewusst, "
        "dass meine Unterschrift als Bild in das Dokument eingefügt wird und dass Name, "
        "Zeitpunkt, IP-Adresse und Browser zum Nachweis auf einer Protokollseite "
        "festgehalten werden."
    ),
    en=(
        "I have read the document and sign it electronically. I understand that my "
        "signature is placed into the document as an image and that my name, the time, "
        "my IP address and browser are recorded on an audit page as evidence."
    ),
)
"""The consent a signer ticks before signing (`signature.sign` names its version)."""
