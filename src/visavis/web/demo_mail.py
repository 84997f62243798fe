"""/demo/mail: the mails the demo's mail catcher kept (only with `visavis demo`).

A plain server-rendered page under the same strict CSP as every other (no script, its
CSS from /demo/mail.css). Everything from a mail is escaped; web addresses in a mail's
text become links, so a demo user can open an invitation or an appointment's link.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from visavis.notify.catcher import CaughtMail, caught_mails

URL = re.compile(r"https?://[^\s<>\"']+")

TEXT = {
    "de": {
        "title": "Demo-Postfach",
        "intro": "Die Demo verschickt keine echten E-Mails: Einladungen und Terminbestätigungen "
        "landen hier. Neue Mails sehen Sie nach dem Neuladen der Seite.",
        "back": "Zurück zum Demo-Shop",
        "reload": "Neu laden",
        "empty": "Noch keine Mails. Laden Sie aus der Berater-Konsole jemanden per E-Mail ein "
        "oder buchen Sie einen Termin unter /book.",
        "to": "An",
        "from": "Von",
        "received": "Empfangen",
        "attachments": "Anhänge",
        "off": "Das Demo-Postfach gibt es nur mit `visavis demo`. Dieser Server verschickt "
        "E-Mails über den eingerichteten Mailserver (VISAVIS_SMTP_*).",
    },
    "en": {
        "title": "Demo mailbox",
        "intro": "The demo sends no real e-mail: invitations and appointment confirmations "
        "arrive here. Reload the page to see new ones.",
        "back": "Back to the demo shop",
        "reload": "Reload",
        "empty": "No mail yet. Invite someone by e-mail from the adviser console, or book an "
        "appointment at /book.",
        "to": "To",
        "from": "From",
        "received": "Received",
        "attachments": "Attachments",
        "off": "The demo mailbox exists only with `visavis demo`. This server sends e-mail "
        "through its configured mail server (VISAVIS_SMTP_*).",
    },
}

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1b1f24; }
main { max-width: 48rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; }
nav { display: flex; gap: 1rem; flex-wrap: wrap; }
a { color: #0b57a4; }
ol { list-style: none; padding: 0; }
article { background: #fff; border: 1px solid #c9d1da; border-radius: 8px;
  padding: 0.75rem 1rem; margin-bottom: 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 0.5rem; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0.1rem 0.75rem; margin: 0;
  font-size: 0.9rem; color: #4a5563; }
dd { margin: 0; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit;
  background: #f8fafc; padding: 0.5rem; border-radius: 4px; }
"""


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "en" if asked.strip().lower().startswith("en") else "de"


def _linked(text: str) -> str:
    """The text escaped, its web addresses as links (the address escaped too)."""
    out: list[str] = []
    last = 0
    for m in URL.finditer(text):
        url = m.group(0).rstrip(".,;:)")
        end = m.start() + len(url)
        out.append(escape(text[last : m.start()]))
        out.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def _mail(m: CaughtMail, t: dict[str, str], tz: ZoneInfo) -> str:
    when = m.received.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    rows = [(t["to"], m.to), (t["from"], m.sender), (t["received"], when)]
    if m.attachments:
        rows.append((t["attachments"], ", ".join(m.attachments)))
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return (
        f'<li><article data-testid="demo-mail" data-name="{escape(m.name)}">'
        f"<h2>{escape(m.subject)}</h2><dl>{dl}</dl>"
        f"<pre>{_linked(m.text)}</pre></article></li>"
    )


def _page(lang: str, title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/demo/mail.css"></head>'
        f"<body><main>{body}</main></body></html>"
    )


class DemoMailbox:
    """The page, with the catcher's directory (None: not a demo)."""

    def __init__(self, directory: Path | None, timezone: str) -> None:
        self.directory = directory
        self.tz = ZoneInfo(timezone)

    async def page(self, request: Request) -> Response:
        lang = _lang(request)
        t = TEXT[lang]
        if self.directory is None:
            body = f"<h1>{escape(t['title'])}</h1><p>{escape(t['off'])}</p>"
            return HTMLResponse(_page(lang, t["title"], body), status_code=404)
        mails = caught_mails(self.directory)
        items = (
            f'<ol aria-label="{escape(t["title"])}">'
            + "".join(_mail(m, t, self.tz) for m in mails)
            + "</ol>"
            if mails
            else f'<p data-testid="demo-mail-empty">{escape(t["empty"])}</p>'
        )
        body = (
            f"<h1>{escape(t['title'])}</h1><p>{escape(t['intro'])}</p>"
            f'<nav><a href="/demo">{escape(t["back"])}</a>'
            f'<a href="/demo/mail?lang={lang}">{escape(t["reload"])}</a></nav>{items}'
        )
        return HTMLResponse(_page(lang, t["title"], body), headers={"Cache-Control": "no-store"})

    async def css(self, request: Request) -> Response:
        return Response(CSS, media_type="text/css")
