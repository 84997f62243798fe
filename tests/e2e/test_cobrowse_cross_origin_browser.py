"""Co-browsing from a company's own website on another origin than visavis — the way
it is deployed: the shop's pages (served here by a small server of their own, with the
Content-Security-Policy docs/operations.md tells sites to send) embed the loader from
the visavis origin. Consent loads the recorder across origins, the mirror reaches the
adviser with the masked field hidden, and co-browsing goes on on the site's next page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, free_port, make_server
from playwright.sync_api import expect

from .browser import PASSWORD, Users, chat_frame
from .cobrowse import ADVISER_EMAIL, adviser_and_customer, node_id

CARD_TYPED = "4111 1111 1111 1111"


def site_csp(visavis: str) -> str:
    """The site's own policy plus exactly what docs/operations.md says to allow."""
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        f"script-src 'self' {visavis}; connect-src 'self' {visavis}; frame-src {visavis}"
    )


class Site:
    """The shop's two pages on their own origin, as a site embeds the loader: by the
    visavis server's absolute URL."""

    def __init__(self, app_dir: Path, visavis: str, port: int) -> None:
        self.pages = {
            path: (app_dir / name)
            .read_text()
            .replace('src="/widget.js"', f'src="{visavis}/widget.js"')
            .replace('href="/console"', f'href="{visavis}/console"')
            .encode()
            for path, name in (("/demo", "demo.html"), ("/demo/konto", "demo-konto.html"))
        }
        self.css = (app_dir / "demo.css").read_bytes()
        self.csp = site_csp(visavis)
        self.port = port
        self.origin = f"http://127.0.0.1:{self.port}"
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/static/app/demo.css":
                    body, kind = site.css, "text/css"
                elif path in site.pages:
                    body, kind = site.pages[path], "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Security-Policy", site.csp)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site_and_server(tmp_path: Path) -> Iterator[tuple[Site, LiveServer]]:
    site_port = free_port()
    # the mirror page may load the site's styles and images
    server = make_server(tmp_path, VISAVIS_COBROWSE_ORIGINS=f"http://127.0.0.1:{site_port}")
    server.start()
    app_dir = Path(__file__).resolve().parents[2] / "src" / "visavis" / "static" / "app"
    site = Site(app_dir, server.base_url, site_port)
    try:
        yield site, server
    finally:
        site.close()
        server.stop()


def test_co_browsing_a_site_on_another_origin(
    site_and_server: tuple[Site, LiveServer], users_for: Any
) -> None:
    site, server = site_and_server
    users: Users = users_for(server)
    users.allowed_origins.append(site.origin)
    server.add_adviser(ADVISER_EMAIL, PASSWORD, "Dana Wolf")
    adviser, customer = adviser_and_customer(users, server.base_url, "/demo/konto", site.origin)
    page = customer.page
    assert page.url.startswith(site.origin)

    # consent: the recorder comes from the visavis origin into the site's page
    assert adviser.request("cobrowse.request")["type"] == "ack"
    chat_frame(page).get_by_test_id("cobrowse-accept").click()
    expect(page.get_by_test_id("cobrowse-stop")).to_be_visible()
    snapshot = adviser.wait_mirror(lambda ev: any(e.get("type") == 2 for e in ev))
    meta = next(e for e in snapshot if e.get("type") == 4)
    assert meta["data"]["href"] == site.origin + "/demo/konto"

    # the masked card number: typed on the site, never sent
    full = next(e for e in snapshot if e.get("type") == 2)
    card = node_id(full, "f-card")
    page.get_by_test_id("demo-card").press_sequentially(CARD_TYPED)
    adviser.wait_mirror(
        lambda ev: any(
            e.get("type") == 3 and e["data"].get("source") == 5 and e["data"].get("id") == card
            for e in ev
        )
    )
    assert CARD_TYPED not in customer.sent_text()
    assert CARD_TYPED.replace(" ", "") not in customer.sent_text()

    # the site's next page: the loader resumes co-browsing there
    before = len(adviser.snapshots())
    page.get_by_role("link", name="Zurück zur Startseite").click()
    page.wait_for_url(site.origin + "/demo")
    expect(page.get_by_test_id("cobrowse-stop")).to_be_visible()
    adviser.wait_mirror(lambda ev: len([e for e in ev if e.get("type") == 2]) > before)
    assert any(
        e.get("type") == 4 and e["data"]["href"] == site.origin + "/demo"
        for e in adviser.mirror_events()
    )

    # the customer ends it on the page
    page.get_by_test_id("cobrowse-stop").click()
    expect(page.get_by_test_id("cobrowse-stop")).to_be_hidden()
    adviser.page.wait_for_function(
        """() => window.__cb.frames.some(f => f.type === 'event' && f.kind === 'cobrowse.ended')"""
    )
