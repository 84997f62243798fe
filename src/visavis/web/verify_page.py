"""The /verify page's HTML: a plain server-rendered form (no script, so it works under
the strict CSP and without JavaScript) and the verdict in the customer's words, German
or English. Everything that comes from the uploaded file is escaped.

What it may claim: the seal is the organisation's electronic seal and says the file is
unchanged since it was sealed; the drawn signatures are simple electronic signatures.
It never calls them "qualified", and "advanced" only with the proviso below.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from visavis.signing.verify import VerifyReport

TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Dokument prüfen",
        "intro": "Prüfen Sie, ob ein unterschriebenes Dokument echt ist und seit dem "
        "Versiegeln unverändert blieb. Die Datei wird nur geprüft, nicht gespeichert.",
        "file": "PDF-Datei auswählen",
        "submit": "Prüfen",
        "other_lang": "English",
        "valid": "Das Dokument ist echt und unverändert.",
        "valid_detail": "Es wurde von {org} versiegelt am {at}. Seitdem wurde nichts daran "
        "geändert.",
        "ts_yes": "Die Zeit bestätigt ein unabhängiger Zeitstempeldienst.",
        "ts_no": "Die Zeit stammt von der Uhr des Servers der Organisation.",
        "signers": "Unterschrieben haben",
        "facts": "Aus dem Prüfprotokoll",
        "conversation": "Gespräch",
        "document": "Dokument",
        "original": "Prüfsumme des Originals (SHA-256)",
        "consent": "Einwilligung, Version",
        "role_customer": "Kundin oder Kunde",
        "role_adviser": "Beraterin oder Berater",
        "invalid": "Achtung: Dieses Dokument ist nicht bestätigt.",
        "not_signed": "Die Datei trägt kein Siegel. Ob sie echt ist, lässt sich hier nicht prüfen.",
        "modified": "Das Dokument wurde nach dem Versiegeln verändert. Verlassen Sie sich "
        "nicht auf seinen Inhalt; fragen Sie nach dem Original.",
        "appended": "An das Dokument wurde nach dem Versiegeln etwas angehängt. Verlassen "
        "Sie sich nicht auf seinen Inhalt; fragen Sie nach dem Original.",
        "padding_changed": "Das Siegel des Dokuments wurde nachträglich verändert. Verlassen "
        "Sie sich nicht auf seinen Inhalt; fragen Sie nach dem Original.",
        "untrusted": "Das Siegel stammt nicht von einem Schlüssel, dem dieser Dienst "
        "vertraut. Das Dokument kommt möglicherweise nicht von uns.",
        "malformed": "Die Datei ist beschädigt oder kein versiegeltes PDF.",
        "legal": "Das Siegel ist ein elektronisches Siegel der Organisation. Die gezeichneten "
        "Unterschriften sind einfache elektronische Signaturen; eine fortgeschrittene "
        "elektronische Signatur liegt nur vor, wo Zertifikat und Identifizierung dies "
        "zulassen.",
        "too_large": "Die Datei ist zu groß (höchstens {mb} MB).",
        "rate_limited": "Zu viele Prüfungen in kurzer Zeit. Bitte versuchen Sie es in einer "
        "Minute noch einmal.",
        "no_file": "Bitte wählen Sie eine PDF-Datei aus.",
        "result": "Ergebnis",
    },
    "en": {
        "title": "Check a document",
        "intro": "Check whether a signed document is genuine and unchanged since it was "
        "sealed. The file is only checked, never stored.",
        "file": "Choose a PDF file",
        "submit": "Check",
        "other_lang": "Deutsch",
        "valid": "The document is genuine and unchanged.",
        "valid_detail": "It was sealed by {org} on {at}. Nothing has changed since.",
        "ts_yes": "An independent timestamp service confirms the time.",
        "ts_no": "The time comes from the organisation's server clock.",
        "signers": "Signed by",
        "facts": "From the audit trail",
        "conversation": "Conversation",
        "document": "Document",
        "original": "Checksum of the original (SHA-256)",
        "consent": "Consent, version",
        "role_customer": "customer",
        "role_adviser": "adviser",
        "invalid": "Warning: this document is not confirmed.",
        "not_signed": "The file carries no seal. Whether it is genuine cannot be checked here.",
        "modified": "The document was changed after it was sealed. Do not rely on its "
        "content; ask for the original.",
        "appended": "Something was added to the document after it was sealed. Do not rely "
        "on its content; ask for the original.",
        "padding_changed": "The document's seal was changed afterwards. Do not rely on its "
        "content; ask for the original.",
        "untrusted": "The seal does not come from a key this service trusts. The document "
        "may not come from us.",
        "malformed": "The file is damaged or not a sealed PDF.",
        "legal": "The seal is the organisation's electronic seal. The drawn signatures are "
        "simple electronic signatures; an advanced electronic signature exists only where "
        "certificate and identification allow it.",
        "too_large": "The file is too large (at most {mb} MB).",
        "rate_limited": "Too many checks in a short time. Please try again in a minute.",
        "no_file": "Please choose a PDF file.",
        "result": "Result",
    },
}

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1b1f24;
  line-height: 1.45; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
a { color: #0b57a4; }
form { display: flex; flex-direction: column; gap: 0.75rem; background: #fff;
  border: 1px solid #c9d1da; border-radius: 8px; padding: 1rem; }
label { font-weight: 600; }
input[type=file] { font-size: 1rem; max-width: 100%; }
button { font-size: 1rem; padding: 0.7rem 1.2rem; min-height: 44px; border-radius: 6px;
  border: 0; background: #0b57a4; color: #fff; cursor: pointer; align-self: flex-start; }
button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #f0a500;
  outline-offset: 2px; }
section { margin-top: 1rem; background: #fff; border-radius: 8px; padding: 1rem;
  border: 2px solid #c9d1da; }
section.ok { border-color: #1e7a34; }
section.bad { border-color: #b3261e; }
.ok h2 { color: #1e7a34; }
.bad h2 { color: #b3261e; }
dl { display: grid; grid-template-columns: minmax(7rem, auto) 1fr; gap: 0.2rem 0.75rem; }
dt { color: #4a5563; }
dd { margin: 0; overflow-wrap: anywhere; }
ul { padding-left: 1.2rem; }
.legal { font-size: 0.85rem; color: #4a5563; }
"""


def page(lang: str, body: str) -> str:
    t = TEXT[lang]
    other = "en" if lang == "de" else "de"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(t["title"])}</title><link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/verify.css"></head><body><main>'
        f'<p><a href="/verify?lang={other}" lang="{other}">{escape(t["other_lang"])}</a></p>'
        f"<h1>{escape(t['title'])}</h1><p>{escape(t['intro'])}</p>"
        f'<form method="post" action="/verify?lang={lang}" enctype="multipart/form-data">'
        f'<label for="file">{escape(t["file"])}</label>'
        '<input id="file" name="file" type="file" accept="application/pdf,.pdf" required>'
        f'<button type="submit">{escape(t["submit"])}</button></form>'
        f"{body}"
        f'<p class="legal">{escape(t["legal"])}</p>'
        "</main></body></html>"
    )


def message(lang: str, key: str, **values: str) -> str:
    """A result box with one of the plain messages (too large, rate limited …)."""
    t = TEXT[lang]
    return (
        f'<section class="bad" role="alert" aria-labelledby="result">'
        f'<h2 id="result">{escape(t["result"])}</h2>'
        f"<p>{escape(t[key].format(**values))}</p></section>"
    )


def verdict(lang: str, report: VerifyReport, tz: ZoneInfo) -> str:
    t = TEXT[lang]
    if not report.valid:
        return (
            '<section class="bad" role="alert" aria-labelledby="result" '
            f'data-testid="verify-result" data-reason="{escape(report.reason)}">'
            f'<h2 id="result">{escape(t["invalid"])}</h2>'
            f"<p>{escape(t.get(report.reason, t['malformed']))}</p></section>"
        )
    last = report.signatures[-1]
    org = report.audit.get("organisation") or last.signer
    at = _when(last.signed_at, tz) if last.signed_at else "?"
    parts = [
        '<section class="ok" role="status" aria-labelledby="result" '
        'data-testid="verify-result" data-reason="ok">',
        f'<h2 id="result">{escape(t["valid"])}</h2>',
        f"<p>{escape(t['valid_detail'].format(org=org, at=at))} "
        f"{escape(t['ts_yes'] if last.timestamped else t['ts_no'])}</p>",
    ]
    from visavis.signing.verify import numbered

    signers = numbered(report.audit, "signer")
    if signers:
        parts.append(f"<h3>{escape(t['signers'])}</h3><ul>")
        parts += [f"<li>{escape(_signer_words(s, t, tz))}</li>" for s in signers]
        parts.append("</ul>")
    facts = [
        (t["document"], report.audit.get("document_name")),
        (t["conversation"], report.audit.get("conversation_id")),
        (t["original"], report.audit.get("original_sha256")),
        (t["consent"], report.audit.get("consent_version")),
    ]
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts if v is not None)
    if rows:
        parts.append(f"<h3>{escape(t['facts'])}</h3><dl>{rows}</dl>")
    parts.append("</section>")
    return "".join(parts)


def _when(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%d.%m.%Y %H:%M} {local.tzname()}"


def _signer_words(signer: dict[str, str], t: dict[str, str], tz: ZoneInfo) -> str:
    role = signer.get("role", "")
    words = f"{signer.get('name', '?')} ({t.get('role_' + role, role)})"
    try:
        when = datetime.fromisoformat(signer.get("signed_at", "").replace("Z", "+00:00"))
    except ValueError:
        return words
    return f"{words}, {_when(when, tz)}"
