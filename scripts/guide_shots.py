"""The adviser's guide's screenshots (docs/guide/img/), made from the real UI.

A real `visavis serve` on a temporary data directory (the tests' LiveServer from
tests/conftest.py), an adviser and a library seeded through the CLI (the demo's
product sheet and product video), and real Chromium with fake camera, microphone and
screen (the flags of the browser tests, tests/e2e/browser.py): a customer (the demo
shop's widget or /chat) and an adviser (/console) go through each feature the guide
describes, and the script saves what each of them sees at that moment. Every page
checks what the browser tests check too: no request to another origin, no CSP
violation, no uncaught error.

    .venv/bin/python scripts/guide_shots.py            # all pictures
    .venv/bin/python scripts/guide_shots.py room docs  # only some scenes

The pictures are palette PNGs (Pillow), 1280 x 800 for a desktop and 390 x 844 for a
phone, so the whole guide stays small in the repository. The fake camera shows a
moving test pattern and the fake screen a coloured surface: that is what a real
camera or screen would be in the pictures.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import (
    FilePayload,
    Frame,
    FrameLocator,
    Page,
    expect,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "tests"))  # the live server and the browser of the tests
from conftest import LiveServer, make_server  # noqa: E402
from e2e.browser import (  # noqa: E402
    PASSWORD,
    Users,
    chat_frame,
    chromium,
    login,
    message,
    queue_entry,
    send,
    start_chat,
)

from visavis.collab.samples import (  # noqa: E402
    PRODUCT_SHEET_NAME,
    PRODUCT_VIDEO_NAME,
    product_sheet_pdf,
    product_video_webm,
)

IMG = ROOT / "docs" / "guide" / "img"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ADVISER_EMAIL = "anna.berger@musterbank.example"
ADVISER = "Anna Berger"


@dataclass
class Guide:
    """The server and the browser contexts of one scene."""

    server: LiveServer
    users: Users

    def console(self) -> Page:
        """The adviser, signed in and available."""
        page = self.users.page(viewport=DESKTOP)
        login(page, self.server.base_url, ADVISER_EMAIL, available=True)
        return page

    def widget_customer(self, name: str, text: str) -> tuple[Page, FrameLocator]:
        """A customer who starts a chat from the demo shop's button."""
        page = self.users.page(viewport=DESKTOP)
        page.goto(self.server.base_url + "/demo")
        page.get_by_test_id("visavis-launcher").click()
        frame = chat_frame(page)
        start_chat(frame, name, None, text)
        return page, frame

    def chat_customer(self, name: str, text: str, **kwargs: object) -> Page:
        """A customer on the standalone chat page (/chat)."""
        kwargs.setdefault("viewport", DESKTOP)
        page = self.users.page(**kwargs)
        page.goto(self.server.base_url + "/chat")
        start_chat(page, name, None, text)
        return page


def accept(console: Page, name: str, text: str) -> None:
    queue_entry(console, name).get_by_test_id("accept").click()
    expect(message(console, text, "customer")).to_be_visible()


def end(console: Page) -> None:
    console.get_by_test_id("end-conversation").click()
    console.get_by_test_id("confirm-end").click()


def shot(page: Page, name: str) -> None:
    """Saves what the page shows as img/<name>.png."""
    raw = page.screenshot(animations="disabled")
    img = Image.open(io.BytesIO(raw)).convert("RGB")
    # 256 colours: UI pictures lose nothing visible and shrink to about a third
    small = img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = IMG / f"{name}.png"
    small.save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}  {img.width}x{img.height}  {path.stat().st_size // 1024} KiB")


# ------------------------------------------------------------------ scenes
def scene_console(g: Guide) -> None:
    """The console: the queue with a waiting customer, then the conversation."""
    console = g.console()
    customer, frame = g.widget_customer("Erika Muster", "Hallo, ich habe eine Frage zum Girokonto.")
    expect(queue_entry(console, "Erika Muster")).to_be_visible()
    shot(customer, "customer-widget-waiting")
    shot(console, "console-queue")
    accept(console, "Erika Muster", "Frage zum Girokonto")
    send(console, "Guten Tag Frau Muster, ich bin Anna Berger. Wie kann ich helfen?")
    expect(message(frame, "Wie kann ich helfen", "adviser")).to_be_visible()
    shot(console, "console-conversation")
    end(console)


def video_call(customer: Page | FrameLocator, console: Page) -> None:
    """The customer starts a video call with camera and microphone; the adviser takes it."""
    customer.get_by_test_id("call-video").click()
    customer.get_by_test_id("call-camera").click()
    customer.get_by_test_id("call-mic").click()
    expect(customer.get_by_test_id("call-mic")).to_have_attribute("data-state", "on")
    console.get_by_test_id("call-accept").click()
    for side in (customer, console):
        expect(side.get_by_test_id("call-status")).to_have_attribute("data-state", "connected")
    playing(console, "remote-video")


# Every element with a test id, through the shadow roots (a function: strict CSP).
FIND_ALL = """
const findAll = (root, testid, out = []) => {
  out.push(...root.querySelectorAll(`[data-testid="${testid}"]`));
  for (const el of root.querySelectorAll("*"))
    if (el.shadowRoot) findAll(el.shadowRoot, testid, out);
  return out;
};
"""


def playing(app: Page | Frame, testid: str) -> None:
    """A shown <video> with this test id has frames, not a black box."""
    app.wait_for_function(
        f"""(testid) => {{ {FIND_ALL}
          return findAll(document, testid).some((v) => v.offsetWidth > 0 && v.videoWidth > 0
            && v.getVideoPlaybackQuality().totalVideoFrames > 3);
        }}""",
        arg=testid,
    )


def video_time(app: Page | Frame, check: str) -> None:
    """The shared product video (doc-video) fulfils `check` on `v`."""
    app.wait_for_function(
        f"""() => {{ {FIND_ALL}
          return findAll(document, "doc-video").some((v) => {check});
        }}"""
    )


def widget_app(page: Page) -> Frame:
    """The chat app's frame inside the widget (for waiting on what it shows)."""
    return next(f for f in page.frames if "/chat" in f.url)


def scene_room(g: Guide) -> None:
    """A video call in the large room, its own window; the adviser shares the screen."""
    console = g.console()
    customer, frame = g.widget_customer("Erika Muster", "Können wir uns kurz sehen?")
    accept(console, "Erika Muster", "kurz sehen")
    video_call(frame, console)
    shot(console, "console-video-call")
    frame.get_by_test_id("room-open").click()
    expect(frame.get_by_test_id("room")).to_have_attribute("data-mode", "large")
    app = widget_app(customer)
    playing(app, "stage-video")
    playing(app, "tile-self")
    shot(customer, "room-large")

    # The adviser shares the screen: the indicator with Stop, the customer's stage.
    console.get_by_test_id("call-screen").click()
    expect(console.get_by_test_id("screen-indicator")).to_be_visible()
    expect(frame.get_by_test_id("room")).to_have_attribute("data-stage", "screen")
    playing(app, "stage-screen")
    shot(console, "screen-adviser-sharing")
    shot(customer, "screen-customer-sees")
    console.get_by_test_id("screen-stop").click()
    expect(console.get_by_test_id("screen-indicator")).to_have_count(0)

    frame.get_by_test_id("call-hangup").click()
    expect(console.get_by_test_id("call-status")).to_have_count(0)

    # Its own window: the same conversation; a call started there runs there.
    with customer.context.expect_page() as opened:
        frame.get_by_test_id("room-window").click()
    window = opened.value
    expect(window.get_by_test_id("room")).to_have_attribute("data-mode", "large")
    video_call(window, console)
    playing(window, "stage-video")
    playing(window, "tile-self")
    shot(window, "room-window")
    window.get_by_test_id("call-hangup").click()
    window.close()
    end(console)


def scene_phone(g: Guide) -> None:
    """The room on a phone: full screen, the chat folded below."""
    console = g.console()
    page = g.users.page(**PHONE)
    page.goto(g.server.base_url + "/demo")
    page.get_by_test_id("visavis-launcher").tap()
    frame = chat_frame(page)
    start_chat(frame, "Erika Muster", None, "Ich bin unterwegs.")
    accept(console, "Erika Muster", "unterwegs")
    video_call(frame, console)
    frame.get_by_test_id("room-open").tap()
    expect(frame.get_by_test_id("room")).to_have_attribute("data-mode", "large")
    shot(page, "room-phone")
    console.get_by_test_id("call-hangup").click()
    end(console)


def scene_screen(g: Guide) -> None:
    """The customer shares the screen without a call; the adviser accepts."""
    console = g.console()
    customer, frame = g.widget_customer("Erika Muster", "Ich zeige Ihnen mein Online-Banking.")
    accept(console, "Erika Muster", "Online-Banking")
    frame.get_by_test_id("call-screen-start").click()
    expect(console.get_by_test_id("incoming-call")).to_contain_text("Bildschirmfreigabe")
    shot(console, "screen-request")
    console.get_by_test_id("call-accept").click()
    expect(console.get_by_test_id("room")).to_have_attribute("data-stage", "screen")
    playing(console, "stage-screen")
    expect(frame.get_by_test_id("screen-indicator")).to_be_visible()
    shot(console, "screen-adviser-sees")
    shot(customer, "screen-customer-sharing")
    frame.get_by_test_id("screen-stop").click()
    expect(console.get_by_test_id("stage-screen")).to_have_count(0)
    end(console)


def loaded_page(app: Page | FrameLocator, page: int) -> None:
    """The document's page `page` (from 0) is on the stage with its pixels."""
    img = app.locator(f'[data-testid="doc-page"][data-page="{page}"][data-loaded="yes"]')
    expect(img).to_be_visible()


def stroke(app: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A drag across the shown page, in fractions of it (pen, arrow, highlighter)."""
    box = app.get_by_test_id("doc-surface").bounding_box()
    assert box is not None
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    app.mouse.move(x0, y0)
    app.mouse.down()
    for i in range(1, 11):
        app.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
    app.mouse.up()


def point(app: Page, x: float, y: float) -> None:
    """The mouse comes to rest over the shown page at (x, y), fractions of it (moved
    by coordinates: a locator's hover would scroll the page first)."""
    box = app.get_by_test_id("doc-surface").bounding_box()
    assert box is not None
    app.mouse.move(box["x"] + box["width"] * x * 0.8, box["y"] + box["height"] * y * 0.8)
    app.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y, steps=5)


def share_from_library(console: Page, name: str) -> None:
    if console.get_by_test_id("library").count() == 0:
        console.get_by_test_id("library-open").click()
    entry = console.get_by_test_id("library-entry").filter(has_text=name)
    entry.get_by_test_id("library-share").click()


def meter_photo() -> bytes:
    """A customer's picture to upload: a (drawn) electricity bill."""
    img = Image.new("RGB", (1200, 900), (250, 250, 246))
    draw = ImageDraw.Draw(img)
    big, small = ImageFont.load_default(size=56), ImageFont.load_default(size=34)
    draw.rectangle((0, 0, 1200, 120), fill=(40, 120, 70))
    draw.text((50, 30), "Stadtwerke Musterstadt", font=big, fill=(255, 255, 255))
    lines = ["Jahresabrechnung 2025", "", "Verbrauch: 2.840 kWh", "Abschlag neu: 78,00 EUR",
             "Nachzahlung: 112,40 EUR", "Fällig am 15.02.2026"]  # fmt: skip
    for i, line in enumerate(lines):
        draw.text((60, 180 + i * 70), line, font=small, fill=(30, 30, 30))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def scene_documents(g: Guide) -> None:
    """The library, presenting and following, pointer and pen, the customer's upload,
    the product video in step, and what the conversation keeps."""
    console = g.console()
    customer, frame = g.widget_customer("Erika Muster", "Was kostet das Girokonto Plus?")
    accept(console, "Erika Muster", "Girokonto Plus")
    frame.get_by_test_id("room-open").click()
    expect(frame.get_by_test_id("room")).to_have_attribute("data-mode", "large")

    console.get_by_test_id("shelf-toggle").click()
    console.get_by_test_id("library-open").click()
    expect(console.get_by_test_id("library-entry")).to_have_count(2)
    shot(console, "docs-library")

    share_from_library(console, PRODUCT_SHEET_NAME)
    loaded_page(console, 0)
    loaded_page(frame, 0)
    expect(frame.get_by_test_id("follow-status")).to_have_attribute("data-state", "following")
    # The adviser sees the whole page beside the chat ("Verkleinern" below 100 %).
    console.get_by_test_id("zoom-out").click()
    expect(console.get_by_test_id("zoom-label")).to_have_attribute("data-zoom", "fit")
    console.get_by_test_id("tool-highlighter").click()
    stroke(console, (0.08, 0.235), (0.62, 0.235))
    expect(frame.locator('[data-testid="annotation"]')).to_have_count(1)
    console.get_by_test_id("tool-point").click()
    point(console, 0.66, 0.2)
    expect(frame.get_by_test_id("remote-pointer")).to_be_visible()
    shot(console, "docs-presenting")
    shot(customer, "docs-customer-follows")

    # The customer uploads a picture of a bill: now the adviser follows the customer.
    frame.get_by_test_id("doc-file").set_input_files(
        files=[FilePayload(name="Stromrechnung.jpg", mimeType="image/jpeg", buffer=meter_photo())]
    )
    expect(console.get_by_test_id("stage-doc-name")).to_have_text("Stromrechnung.jpg")
    expect(console.get_by_test_id("follow-status")).to_have_text("Sie folgen Erika Muster.")
    # the photo's own page image (4:3), not the product sheet's still fading out
    console.wait_for_function(
        f"""() => {{ {FIND_ALL}
          return findAll(document, "doc-page").some((i) => i.dataset.loaded === "yes"
            && i.complete && Math.abs(i.naturalWidth / i.naturalHeight - 4 / 3) < 0.02);
        }}"""
    )
    expect(frame.get_by_test_id("upload-progress")).to_have_count(0)
    shot(console, "docs-customer-upload")

    # The product video: played in step on both sides.
    share_from_library(console, PRODUCT_VIDEO_NAME)
    app = widget_app(customer)
    for side in (console, app):
        video_time(side, "v.readyState >= 2")
    console.get_by_test_id("video-toggle").click()
    expect(frame.get_by_test_id("doc-video")).to_have_attribute("data-playing", "yes")
    video_time(app, "v.currentTime > 3")
    console.get_by_test_id("video-toggle").click()
    expect(frame.get_by_test_id("doc-video")).to_have_attribute("data-playing", "no")
    shot(customer, "video-in-step")

    # Ended: the history keeps what was shared, by whom, to open again.
    end(console)
    console.get_by_test_id("history-tab").click()
    # the newest first: this conversation
    console.get_by_test_id("history-entry").filter(has_text="Erika Muster").first.click()
    expect(console.get_by_test_id("history-document")).to_have_count(3)
    shot(console, "history-documents")


def scene_photo(g: Guide) -> None:
    """The adviser asks for a photo; the customer takes it on the phone; both mark it."""
    console = g.console()
    phone = g.users.page(**PHONE)
    phone.goto(g.server.base_url + "/chat")
    start_chat(phone, "Erika Muster", None, "Mein Kartenleser zeigt einen Fehler.")
    accept(console, "Erika Muster", "Kartenleser")
    console.get_by_test_id("shelf-toggle").click()
    console.get_by_test_id("request-photo").click()
    expect(console.get_by_test_id("photo-requested")).to_be_visible()
    request = phone.get_by_test_id("snapshot-request")
    expect(request).to_be_visible()
    shot(phone, "photo-request")
    phone.get_by_test_id("snapshot-open").tap()
    expect(phone.get_by_test_id("snapshot-preview")).to_be_visible()
    playing(phone, "snapshot-preview")
    phone.get_by_test_id("snapshot-take").tap()
    expect(phone.get_by_test_id("snapshot-photo")).to_be_visible()
    shot(phone, "photo-preview")
    phone.get_by_test_id("snapshot-send").tap()
    expect(request).to_have_count(0)
    loaded_page(console, 0)
    loaded_page(phone, 0)
    console.get_by_test_id("tool-arrow").click()
    stroke(console, (0.15, 0.2), (0.45, 0.5))
    expect(phone.locator('[data-testid="annotation"][data-tool="arrow"]')).to_have_count(1)
    shot(console, "photo-adviser-marks")
    shot(phone, "photo-customer-sees-mark")
    end(console)


SCENES: dict[str, Callable[[Guide], None]] = {
    "console": scene_console,
    "room": scene_room,
    "phone": scene_phone,
    "screen": scene_screen,
    "documents": scene_documents,
    "photo": scene_photo,
}


@contextmanager
def seeded_server() -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="visavis-guide-") as tmp:
        server = make_server(Path(tmp))
        server.add_adviser(ADVISER_EMAIL, PASSWORD, ADVISER, max_chats=3)
        sheet = Path(tmp) / PRODUCT_SHEET_NAME
        sheet.write_bytes(product_sheet_pdf())
        server.cli("library", "add", str(sheet), "--name", PRODUCT_SHEET_NAME, "--downloadable")
        video = Path(tmp) / PRODUCT_VIDEO_NAME
        video.write_bytes(product_video_webm())
        server.cli("library", "add", str(video), "--name", PRODUCT_VIDEO_NAME)
        server.start()
        try:
            yield server
        except BaseException:
            print(server.log()[-4000:], file=sys.stderr)
            raise
        finally:
            server.stop()


def keep_failure(users: Users, scene: str) -> None:
    """What every page showed when a scene failed, to see why (in the temp folder)."""
    folder = Path(tempfile.gettempdir()) / "visavis-guide-failed"
    folder.mkdir(exist_ok=True)
    for i, page in enumerate(p for ctx in users.contexts for p in ctx.pages):
        page.screenshot(path=folder / f"{scene}-{i}.png")
    print(f"{scene} failed: the pages are in {folder}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", nargs="*", help=f"some of {', '.join(SCENES)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.scenes) - set(SCENES)
    if unknown:
        parser.error(f"no such scene: {', '.join(sorted(unknown))}")
    IMG.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with seeded_server() as server, sync_playwright() as p, chromium(p) as browser:
        for name in args.scenes or list(SCENES):
            print(f"== {name}")
            users = Users(browser, server.base_url)
            try:
                SCENES[name](Guide(server, users))
            except BaseException:
                keep_failure(users, name)
                raise
            finally:
                users.close()
    print(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
