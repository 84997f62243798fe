"""The consultation room and screen sharing in real Chromium (two contexts, fake
media): the adviser shares a screen and the customer's stage decodes it, and stopping
it leaves the video call running; the customer shares a screen without a camera call,
and stopping that share (the browser's own bar, or Stop) ends the call; the room opens large from the widget (overlay,
foldable chat) and in its own window (same conversation, no second start); full screen
on a phone.

getDisplayMedia works headless with the flags every browser test starts Chromium
with (browser.py): `--use-fake-ui-for-media-stream` accepts the picker and
`--use-fake-device-for-media-stream` delivers a fake 1280x720 "window" surface.
"""

from __future__ import annotations

import pytest
from conftest import LiveServer
from playwright.sync_api import Frame, FrameLocator, Page, expect

from .browser import TIMEOUT_MS, Users, chat_frame, message, send, start_chat
from .calls import chat_pair, frames_rising, panel, start_video_call, status

pytestmark = pytest.mark.e2e

# Frames the stage's <video> has shown, and its size (what the person sees).
STAGE_VIDEO = """
(testid) => {
  const find = (root) => {
    const hit = root.querySelector(`[data-testid="${testid}"]`);
    if (hit) return hit;
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const v = find(document);
  if (!v) return null;
  const q = v.getVideoPlaybackQuality();
  return {w: v.videoWidth, h: v.videoHeight, frames: q.totalVideoFrames};
}
"""


def stage_frames(app: Page | Frame, testid: str, what: str) -> dict[str, int]:
    """The stage video decodes: a picture, and more frames a moment later."""
    app.wait_for_function(
        f"() => {{ const s = ({STAGE_VIDEO})({testid!r}); return s && s.w > 0 && s.frames > 0; }}",
        timeout=TIMEOUT_MS,
    )
    first: dict[str, int] = app.evaluate(STAGE_VIDEO, testid)
    app.wait_for_function(
        f"() => ({STAGE_VIDEO})({testid!r}).frames > {first['frames'] + 5}",
        timeout=TIMEOUT_MS,
    )
    assert first["w"] > 0 and first["h"] > 0, (what, first)
    return first


def test_adviser_shares_a_screen_in_a_video_call(live_server: LiveServer, users: Users) -> None:
    customer, console, _ = chat_pair(live_server, users, "Lea")
    start_video_call(customer, console)
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "connected")
    frames_rising(customer, "camera before the share")

    # Only the adviser's click starts it; the sharer sees the indicator with Stop.
    # (an ordinary button, not red like "off" and hang-up)
    expect(console.get_by_test_id("call-screen")).to_have_class("ctl")
    console.get_by_test_id("call-screen").click()
    indicator = console.get_by_test_id("screen-indicator")
    expect(indicator).to_contain_text("Sie teilen Ihren Bildschirm")
    expect(console.get_by_test_id("call-screen")).to_have_attribute("aria-pressed", "true")

    # The customer's stage shows the screen (an extra video line), not the camera.
    room = customer.get_by_test_id("room")
    expect(room).to_have_attribute("data-stage", "screen")
    size = stage_frames(customer, "stage-screen", "customer: the adviser's screen")
    # the fake window is 16:9 (1280x720), the fake camera 4:3 (640x480): scaled or not
    assert abs(size["w"] / size["h"] - 16 / 9) < 0.05, size
    expect(customer.get_by_test_id("remote-video")).to_be_visible()  # the camera goes on
    # The camera video makes room: the shared screen is in view, below it.
    expect(customer.get_by_test_id("stage-screen")).to_be_in_viewport(ratio=0.9)
    expect(message(customer, "Bildschirm geteilt")).to_have_count(1)

    # Stop: the stage goes away, the call goes on.
    console.get_by_test_id("screen-stop").click()
    expect(indicator).to_have_count(0)
    expect(customer.get_by_test_id("stage-screen")).to_have_count(0)
    expect(room).to_be_hidden()
    expect(panel(customer)).to_have_attribute("data-phase", "active")
    frames_rising(customer, "camera after the share")


def test_customer_shares_a_screen_without_a_camera_call(
    live_server: LiveServer, users: Users
) -> None:
    page, console, app = chat_pair(live_server, users, "Tom", widget=True)
    frame = chat_frame(page)

    # In the widget's iframe (allow="display-capture"): the picker, then the request.
    frame.get_by_test_id("call-screen-start").click()
    incoming = console.get_by_test_id("incoming-call")
    expect(incoming).to_contain_text("Bildschirmfreigabe")
    # Accepting a screen share turns on neither camera nor microphone.
    # (the line naming what accepting turns on is there only when it turns on something)
    expect(console.get_by_test_id("precheck")).to_be_visible()
    expect(console.get_by_test_id("precheck")).to_contain_text(
        "Beim Annehmen sehen Sie den Bildschirm von Kunde Tom. Ihre Kamera und Ihr Mikrofon bleiben aus."
    )
    expect(console.get_by_test_id("precheck-video")).to_have_count(0)
    expect(console.get_by_test_id("want-media")).to_have_count(0)
    console.get_by_test_id("call-accept").click()
    for ui in (frame, console):
        expect(status(ui)).to_have_attribute("data-state", "connected")
    expect(frame.get_by_test_id("screen-indicator")).to_be_visible()
    expect(console.get_by_test_id("call-camera")).to_have_attribute("data-state", "off")
    expect(console.get_by_test_id("call-mic")).to_have_attribute("data-state", "off")

    expect(console.get_by_test_id("room")).to_have_attribute("data-stage", "screen")
    stage_frames(console, "stage-screen", "adviser: the customer's screen")

    # The browser's own "stop sharing" bar ends the track (the event it fires): the
    # share stops on both sides, and with it the call, which was nothing but the share.
    app.evaluate(
        """() => {
          for (const t of window.__visavisCall.pc.getTransceivers())
            if (t.direction === "sendonly" && t.sender.track)
              t.sender.track.dispatchEvent(new Event("ended"));
        }"""
    )
    expect(frame.get_by_test_id("screen-indicator")).to_have_count(0)
    expect(console.get_by_test_id("stage-screen")).to_have_count(0)
    for ui in (frame, console):
        expect(panel(ui)).to_have_count(0)
    expect(frame.get_by_test_id("call-screen-start")).to_be_enabled()


def test_stop_ends_a_screen_only_call_but_not_one_with_a_camera(
    live_server: LiveServer, users: Users
) -> None:
    customer, console, _ = chat_pair(live_server, users, "Ina")

    # A screen-only call: Stop (the sharing bar's button) hangs up.
    customer.get_by_test_id("call-screen-start").click()
    console.get_by_test_id("call-accept").click()
    for ui in (customer, console):
        expect(status(ui)).to_have_attribute("data-state", "connected")
    stage_frames(console, "stage-screen", "adviser: the customer's screen")
    customer.get_by_test_id("screen-stop").click()
    for ui in (customer, console):
        expect(panel(ui)).to_have_count(0)
    expect(console.get_by_test_id("room")).to_be_hidden()

    # Again, but the adviser turns the camera on during the share: now the call is more
    # than the share, and stopping it only takes the screen away.
    customer.get_by_test_id("call-screen-start").click()
    console.get_by_test_id("call-accept").click()
    for ui in (customer, console):
        expect(status(ui)).to_have_attribute("data-state", "connected")
    console.get_by_test_id("call-camera").click()
    expect(console.get_by_test_id("call-camera")).to_have_attribute("data-state", "on")
    expect(panel(customer)).to_have_attribute("data-remote-video", "on")
    customer.get_by_test_id("screen-stop").click()
    expect(customer.get_by_test_id("screen-indicator")).to_have_count(0)
    expect(console.get_by_test_id("stage-screen")).to_have_count(0)
    for ui in (customer, console):
        expect(panel(ui)).to_have_attribute("data-phase", "active")
    frames_rising(customer, "the adviser's camera after the share")


def open_widget_chat(page: Page, base_url: str, name: str) -> FrameLocator:
    page.goto(base_url + "/demo")
    page.get_by_test_id("visavis-launcher").click()
    frame = chat_frame(page)
    start_chat(frame, name, None, "Bitte groß")
    return frame


def test_room_opens_large_from_the_widget_and_in_its_own_window(
    live_server: LiveServer, users: Users
) -> None:
    page = users.page(viewport={"width": 1280, "height": 800})
    frame = open_widget_chat(page, live_server.base_url, "Gross")
    launcher = page.get_by_test_id("visavis-launcher")
    # While the conversation runs, the button shows the customer's own chat.
    expect(launcher).to_contain_text("Ihr Chat")

    frame.get_by_test_id("room-open").click()
    expect(frame.get_by_test_id("room-open")).to_have_attribute("aria-pressed", "true")
    room = frame.get_by_test_id("room")
    expect(room).to_have_attribute("data-mode", "large")
    # The loader grew the panel into an overlay over most of the page.
    page.wait_for_function(
        """() => {
          const r = document.getElementById('visavis-widget').shadowRoot
            .querySelector('.p').getBoundingClientRect();
          return r.width > innerWidth * 0.8 && r.height > innerHeight * 0.8;
        }""",
        timeout=TIMEOUT_MS,
    )
    # The chat is the room's side panel; it folds away and back (aria-expanded).
    fold = frame.get_by_test_id("chat-fold")
    expect(fold).to_have_attribute("aria-expanded", "true")
    send(frame, "Im großen Raum")
    expect(message(frame, "Im großen Raum")).to_be_visible()
    fold.click()
    expect(fold).to_have_attribute("aria-expanded", "false")
    expect(frame.get_by_test_id("room-chat")).to_be_hidden()
    fold.click()
    expect(frame.get_by_test_id("room-chat")).to_be_visible()
    frame.get_by_test_id("room-open").click()
    expect(frame.get_by_test_id("room")).to_be_hidden()
    page.wait_for_function(
        """() => document.getElementById('visavis-widget').shadowRoot
          .querySelector('.p').getBoundingClientRect().width < 500""",
        timeout=TIMEOUT_MS,
    )

    # Its own window: the same conversation, no second start, no token in the URL.
    with page.context.expect_page() as opened:
        frame.get_by_test_id("room-window").click()
    win = opened.value
    expect(message(win, "Im großen Raum")).to_be_visible()
    expect(win.get_by_test_id("room")).to_have_attribute("data-mode", "large")
    assert "token" not in win.url and "#" not in win.url, win.url
    send(win, "Aus dem eigenen Fenster")
    # (the widget's panel closed when the window opened: the chat is still there)
    expect(message(frame, "Aus dem eigenen Fenster")).to_have_count(1)
    # It keeps the conversation for a reload (its own, first-party storage).
    win.reload()
    expect(message(win, "Aus dem eigenen Fenster")).to_be_visible()


def test_phone_room_is_full_screen(live_server: LiveServer, users: Users) -> None:
    page = users.page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    frame = open_widget_chat(page, live_server.base_url, "Handy")
    frame.get_by_test_id("room-open").tap()
    room = frame.get_by_test_id("room")
    expect(room).to_have_attribute("data-mode", "large")
    box = room.bounding_box()
    # the whole width, and the height below the chat's header
    assert box is not None and box["width"] >= 380 and box["height"] >= 844 * 0.7, box
    expect(frame.get_by_test_id("composer")).to_be_in_viewport()
    expect(frame.get_by_test_id("chat-fold")).to_be_in_viewport()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
