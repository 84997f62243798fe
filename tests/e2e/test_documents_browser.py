"""Documents together, in real Chromium with two contexts (a customer on /chat, an
adviser in the console): a library PDF shared and followed page by page, pointers and
annotations both ways (kept over a reload), a customer's upload (and a refusal in the
customer's words), the adviser's decision whether the customer may download, the photo
an adviser asks for (fake camera), and a product video played and paused in step.

The stage (frontend/src/room/doc-stage.ts) is mounted where the conversation is shown
until the room layout takes it over; its elements carry the test ids used here.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import pytest
import sample_files
from conftest import LiveServer
from playwright.sync_api import FilePayload, Locator, Page, expect

from .browser import PASSWORD, Users, login, queue_entry, start_chat

pytestmark = pytest.mark.e2e


def long_video(seconds: int) -> bytes:
    """A real WebM long enough to watch drift (sample_files.video makes a few frames)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=10)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i in range(seconds * 10):
            frame = av.VideoFrame(64, 48, "rgb24")
            frame.planes[0].update(bytes([i % 250, 80, 160]) * (64 * 48))
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def room(server: LiveServer, users: Users) -> tuple[Page, Page]:
    """An active conversation: Erika on /chat, Anna in the console, both on it."""
    base = server.base_url
    server.add_adviser("anna@bank.test", PASSWORD, "Anna Berger")
    customer = users.page()
    console = users.page()
    customer.goto(base + "/chat")
    start_chat(customer, "Erika Muster", None, "Hallo, ich habe eine Frage.")
    login(console, base, "anna@bank.test", available=True)
    queue_entry(console, "Erika Muster").get_by_test_id("accept").click()
    expect(customer.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
    expect(console.get_by_test_id("doc-stage")).to_be_visible()
    expect(customer.get_by_test_id("doc-stage")).to_be_visible()
    return customer, console


def add_library(server: LiveServer, tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    server.cli("library", "add", str(path), "--name", name, "--downloadable")


def share(console: Page, name: str) -> None:
    console.get_by_test_id("shelf-toggle").click()
    console.get_by_test_id("library-open").click()
    entry = console.get_by_test_id("library-entry").filter(has_text=name)
    entry.get_by_test_id("library-share").click()


def page_image(app: Page, page: int) -> Locator:
    """The shown page image once it has loaded (and really has pixels)."""
    img = app.locator(f'[data-testid="doc-page"][data-page="{page}"][data-loaded="yes"]')
    expect(img).to_be_visible()
    assert img.evaluate("i => i.naturalWidth") > 0
    return img


def draw(app: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A pen stroke across the page, in fractions of the shown page."""
    box = app.get_by_test_id("doc-surface").bounding_box()
    assert box is not None
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    app.mouse.move(x0, y0)
    app.mouse.down()
    for i in range(1, 11):
        app.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
    app.mouse.up()


def test_shared_pdf_is_followed_pointed_at_and_annotated(
    live_server: LiveServer, users: Users, tmp_path: Path
) -> None:
    add_library(live_server, tmp_path, "Preisliste.pdf", sample_files.pdf(4))
    customer, console = room(live_server, users)
    # No empty strips: the console's notice line and the stage's notice take no room.
    assert console.get_by_test_id("console-error").evaluate("e => e.offsetHeight") <= 1
    for app in (customer, console):
        assert app.get_by_test_id("stage-notice").evaluate("e => e.offsetHeight") == 0

    # The adviser shares a library PDF: it is on both stages at page 1, the adviser leads.
    share(console, "Preisliste.pdf")
    page_image(console, 0)
    page_image(customer, 0)
    expect(console.get_by_test_id("follow-status")).to_have_attribute("data-state", "presenting")
    status = customer.get_by_test_id("follow-status")
    expect(status).to_have_attribute("data-state", "following")
    expect(status).to_have_text("Sie folgen Anna Berger.")
    # The image's width suits the element (snapped to a rendered width).
    src = customer.get_by_test_id("doc-page").get_attribute("src") or ""
    assert any(f"w={w}&" in src for w in (480, 800, 1200, 1600)), src

    # Page 3 on the adviser's side (a button, then the keyboard): the customer follows.
    console.get_by_test_id("page-next").click()
    console.get_by_test_id("doc-surface").click()
    console.keyboard.press("PageDown")
    expect(console.get_by_test_id("page-label")).to_have_attribute("data-page", "2")
    page_image(customer, 2)
    expect(customer.get_by_test_id("page-label")).to_have_text("Seite 3 von 4")

    # The adviser's pointer shows on the customer's page, where it is.
    surface = console.get_by_test_id("doc-surface")
    surface.hover(position={"x": 40, "y": 40})
    box = surface.bounding_box()
    assert box is not None
    surface.hover(position={"x": box["width"] / 2, "y": box["height"] / 4})
    dot = customer.get_by_test_id("remote-pointer")
    expect(dot).to_have_attribute("data-x", "0.500", timeout=5000)
    expect(dot).to_have_attribute("aria-label", "Anna Berger zeigt hierhin")
    # ... and the customer's on the adviser's.
    customer.get_by_test_id("doc-surface").hover(position={"x": 30, "y": 30})
    customer.get_by_test_id("doc-surface").hover(position={"x": 60, "y": 60})
    expect(console.get_by_test_id("remote-pointer")).to_be_visible()

    # The customer draws on page 3: the adviser sees the stroke.
    customer.get_by_test_id("tool-pen").click()
    expect(customer.get_by_test_id("tool-pen")).to_have_attribute("aria-pressed", "true")
    draw(customer, (0.2, 0.1), (0.6, 0.2))
    stroke = console.locator('[data-testid="annotation"][data-tool="pen"]')
    expect(stroke).to_have_count(1)
    expect(customer.locator('[data-testid="annotation"]')).to_have_count(1)

    # Scrolling on one's own detaches; "follow again" returns to the adviser's page.
    customer.get_by_test_id("page-prev").click()
    expect(status).to_have_attribute("data-state", "detached")
    page_image(customer, 1)
    customer.get_by_test_id("follow-again").click()
    page_image(customer, 2)

    # Annotations are kept: after a reload both sides have the stroke on page 3.
    console.reload()
    expect(console.get_by_test_id("page-label")).to_have_attribute("data-page", "2")
    expect(console.locator('[data-testid="annotation"][data-tool="pen"]')).to_have_count(1)
    customer.reload()
    page_image(customer, 2)
    expect(customer.locator('[data-testid="annotation"]')).to_have_count(1)

    # The customer takes over and turns back a page; the adviser follows now.
    customer.get_by_test_id("take-over").click()
    expect(status).to_have_attribute("data-state", "presenting")
    customer.get_by_test_id("page-prev").click()
    page_image(console, 1)
    expect(console.get_by_test_id("follow-status")).to_have_text("Sie folgen Erika Muster.")

    # The console's stage keeps to its share of the window: the messages and the input
    # stay in view; "Verkleinern" below 100 % shows the whole page.
    expect(console.locator("vv-composer")).to_be_in_viewport()
    assert console.locator("vv-doc-stage").evaluate(
        "e => e.getBoundingClientRect().height <= innerHeight * 0.6 + 1"
    )
    console.get_by_test_id("zoom-out").click()
    expect(console.get_by_test_id("zoom-label")).to_have_attribute("data-zoom", "fit")
    expect(console.get_by_test_id("zoom-out")).to_be_disabled()
    console.wait_for_function(
        "() => { const p = document.querySelector('vv-console-app').shadowRoot"
        ".querySelector('vv-chat-pane').shadowRoot.querySelector('vv-doc-stage').shadowRoot"
        ".querySelector('vv-doc-page').shadowRoot; const v = p.querySelector('.viewport');"
        " const s = p.querySelector('.page'); return s.offsetHeight <= v.clientHeight"
        " && s.offsetWidth <= v.clientWidth && v.scrollHeight <= v.clientHeight; }"
    )

    # Every document and drawing event has a readable line in both histories.
    for app in (customer, console):
        shared = app.locator('[data-testid="message"][data-kind="document.shared"]')
        expect(shared).to_contain_text("Dokument geteilt – „Preisliste.pdf“")
        expect(app.locator('[data-kind="annotation.added"]')).to_contain_text("Seite 3")
        texts = app.locator('[data-testid="message"][data-author="system"]').all_inner_texts()
        assert all(not t.strip().startswith("·") for t in texts), texts


def test_customer_uploads_a_photo_and_a_refusal_is_explained(
    live_server: LiveServer, users: Users
) -> None:
    customer, console = room(live_server, users)
    # A file that is no document: refused, in the customer's words, nothing shared.
    customer.get_by_test_id("doc-file").set_input_files(
        files=[FilePayload(name="notiz.txt", mimeType="text/plain", buffer=b"nur Text")]
    )
    expect(customer.get_by_test_id("upload-error")).to_contain_text(
        "Es können nur PDF-, JPEG- und PNG-Dateien geteilt werden."
    )
    # A JPEG: uploaded, on the customer's stage and the adviser's.
    jpeg = sample_files.image("jpeg", size=(1200, 900))
    customer.get_by_test_id("doc-file").set_input_files(
        files=[FilePayload(name="zaehler.jpg", mimeType="image/jpeg", buffer=jpeg)]
    )
    page_image(console, 0)
    expect(console.get_by_test_id("stage-doc-name")).to_have_text("zaehler.jpg")
    expect(console.get_by_test_id("follow-status")).to_have_text("Sie folgen Erika Muster.")
    page_image(customer, 0)
    expect(customer.get_by_test_id("upload-progress")).to_have_count(0)
    # The refusal stays until read.
    customer.get_by_test_id("upload-error").get_by_role("button").click()
    expect(customer.get_by_test_id("uploads")).to_have_count(0)
    console.get_by_test_id("shelf-toggle").click()
    expect(console.get_by_test_id("doc-entry")).to_have_attribute("data-source", "upload")
    expect(console.get_by_test_id("doc-entry")).to_have_count(1)

    # Ended, the conversation's history lists what was shared, by whom, and opens it.
    console.get_by_test_id("end-conversation").click()
    console.get_by_test_id("confirm-end").click()
    # the end is written (the customer sees it) before the history is opened and read
    expect(customer.get_by_test_id("ended-banner")).to_be_visible()
    console.get_by_test_id("history-tab").click()
    console.get_by_test_id("history-entry").filter(has_text="Erika Muster").click()
    shared = console.get_by_test_id("history-document")
    expect(shared).to_have_count(1)
    expect(shared).to_have_attribute("data-source", "upload")
    expect(shared).to_contain_text("zaehler.jpg")
    expect(shared).to_contain_text("von Erika Muster")
    with console.expect_download() as download:
        shared.get_by_role("button").click()
    assert download.value.suggested_filename == "zaehler.jpg"


def test_adviser_decides_whether_the_customer_may_download(
    live_server: LiveServer, users: Users
) -> None:
    customer, console = room(live_server, users)
    customer.get_by_test_id("doc-file").set_input_files(
        files=[FilePayload(name="vertrag.png", mimeType="image/png",
                           buffer=sample_files.image("png"))]
    )  # fmt: skip
    page_image(console, 0)
    page_image(customer, 0)
    download = customer.get_by_test_id("doc-download")
    expect(download).to_be_visible()  # an upload: downloadable until the adviser says no
    console.get_by_test_id("shelf-toggle").click()
    entry = console.get_by_test_id("doc-entry")
    rights = entry.get_by_role("checkbox", name="Kundin oder Kunde darf herunterladen")
    expect(rights).to_be_checked()
    expect(rights).to_have_accessible_description("vertrag.png")
    # The customer has no such box.
    customer.get_by_test_id("shelf-toggle").click()
    expect(customer.get_by_test_id("doc-entry")).to_have_count(1)
    expect(customer.get_by_test_id("doc-rights")).to_have_count(0)

    # Revoked: the customer's button goes at once; the adviser's box says so.
    rights.click()
    expect(download).to_have_count(0)
    expect(rights).not_to_be_checked()
    expect(entry).to_have_attribute("data-downloadable", "false")
    expect(console.get_by_test_id("doc-download")).to_be_visible()  # advisers always
    # It is in the log: after a reload both still say so.
    console.reload()
    console.get_by_test_id("shelf-toggle").click()
    expect(rights).not_to_be_checked()
    customer.reload()
    page_image(customer, 0)
    expect(download).to_have_count(0)

    # Granted again, by keyboard: the button is back and downloads the file.
    rights.focus()
    console.keyboard.press("Space")
    expect(download).to_be_visible()
    expect(rights).to_be_checked()
    expect(entry).to_have_attribute("data-downloadable", "true")
    with customer.expect_download() as got:
        download.click()
    assert got.value.suggested_filename == "vertrag.png"


def test_admin_keeps_the_library(live_server: LiveServer, users: Users) -> None:
    live_server.add_adviser("root@bank.test", PASSWORD, "Root", role="admin")
    console = users.page()
    login(console, live_server.base_url, "root@bank.test")
    console.get_by_test_id("library-tab").click()
    console.locator("#lib-file").set_input_files(
        files=[
            FilePayload(name="blatt.pdf", mimeType="application/pdf", buffer=sample_files.pdf(2))
        ]
    )
    console.locator("#lib-name").fill("Produktblatt")
    console.get_by_test_id("library-add").click()
    entry = console.get_by_test_id("library-admin-entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Produktblatt")
    expect(entry).to_contain_text("nur ansehen")
    entry.get_by_test_id("library-remove").click()
    console.get_by_test_id("library-remove-yes").click()
    expect(entry).to_have_count(0)


def test_adviser_asks_for_a_photo_and_gets_it(live_server: LiveServer, users: Users) -> None:
    customer, console = room(live_server, users)
    console.get_by_test_id("shelf-toggle").click()
    console.get_by_test_id("request-photo").click()
    expect(console.get_by_test_id("photo-requested")).to_be_visible()

    request = customer.get_by_test_id("snapshot-request")
    expect(request).to_contain_text("Anna Berger bittet Sie um ein Foto")
    expect(customer.get_by_test_id("snapshot-back")).to_be_checked()
    customer.get_by_test_id("snapshot-open").click()
    expect(customer.get_by_test_id("snapshot-preview")).to_be_visible()
    customer.wait_for_function(
        "() => { const s = document.querySelector('vv-chat-app').shadowRoot"
        ".querySelector('vv-doc-stage').shadowRoot.querySelector('vv-snapshot-taker')"
        ".shadowRoot.querySelector('video'); return s && s.videoWidth > 0; }"
    )
    customer.get_by_test_id("snapshot-take").click()
    photo = customer.get_by_test_id("snapshot-photo")
    expect(photo).to_be_visible()
    # The still has the camera's own resolution (the fake camera's 640 x 480 or more).
    assert int(photo.get_attribute("data-width") or 0) >= 640
    assert request.get_attribute("data-method") in ("imagecapture", "canvas")
    customer.get_by_test_id("snapshot-send").click()

    expect(request).to_have_count(0)
    page_image(console, 0)
    page_image(customer, 0)
    expect(console.get_by_test_id("photo-requested")).to_have_count(0)
    expect(console.get_by_test_id("doc-entry")).to_have_attribute("data-source", "snapshot")
    # Both can draw on it: the adviser marks the spot, the customer sees it.
    console.get_by_test_id("tool-arrow").click()
    # at the page's top: a 1280 x 720 console shows only its first lines beside the
    # conversation's other tools (a known squeeze)
    draw(console, (0.1, 0.01), (0.5, 0.04))
    expect(customer.locator('[data-testid="annotation"][data-tool="arrow"]')).to_have_count(1)


def test_adviser_asks_for_a_photo_and_the_customer_declines(
    live_server: LiveServer, users: Users
) -> None:
    customer, console = room(live_server, users)
    console.get_by_test_id("shelf-toggle").click()
    console.get_by_test_id("request-photo").click()
    customer.get_by_test_id("snapshot-decline").click()
    expect(customer.get_by_test_id("snapshot-request")).to_have_count(0)
    expect(console.get_by_test_id("photo-declined")).to_have_text(
        "Erika Muster möchte gerade kein Foto senden."
    )


# The stage's <video>, found through the shadow roots (a function: strict CSP).
FIND_VIDEO = (
    "const find = (root) => { for (const el of root.querySelectorAll('*')) {"
    " if (el.tagName === 'VIDEO' && el.dataset.testid === 'doc-video') return el;"
    " if (el.shadowRoot) { const v = find(el.shadowRoot); if (v) return v; } } return null; };"
    " const v = find(document);"
)


def positions(a: Page, b: Page) -> tuple[float, float]:
    """Both videos' positions at one moment (b's is moved back to when a's was read)."""
    get = f"() => {{ {FIND_VIDEO} return [v.currentTime, Date.now(), !v.paused]; }}"
    ta, at, _ = a.evaluate(get)
    tb, bt, playing = b.evaluate(get)
    return ta, tb - ((bt - at) / 1000 if playing else 0)


def video_ready(app: Page, condition: str = "v.readyState >= 1") -> None:
    app.wait_for_function(f"() => {{ {FIND_VIDEO} return !!v && {condition}; }}")


def test_product_video_plays_and_pauses_in_step(
    live_server: LiveServer, users: Users, tmp_path: Path
) -> None:
    add_library(live_server, tmp_path, "Produktfilm.webm", long_video(20))
    customer, console = room(live_server, users)
    share(console, "Produktfilm.webm")
    for app in (console, customer):
        expect(app.get_by_test_id("doc-video")).to_be_visible()
        video_ready(app)
    console.get_by_test_id("video-toggle").click()
    expect(customer.get_by_test_id("doc-video")).to_have_attribute("data-playing", "yes")
    a, b = positions(console, customer)
    assert abs(a - b) <= 0.5, (a, b)
    console.get_by_test_id("video-toggle").click()
    expect(customer.get_by_test_id("doc-video")).to_have_attribute("data-playing", "no")
    expect(console.get_by_test_id("doc-video")).to_have_attribute("data-playing", "no")
    a, b = positions(console, customer)
    assert abs(a - b) <= 0.5, (a, b)
    # The customer seeks: the adviser jumps there too.
    customer.get_by_test_id("video-seek").fill("12")
    customer.get_by_test_id("video-seek").dispatch_event("change")
    video_ready(console, "Math.abs(v.currentTime - 12) < 0.5")
