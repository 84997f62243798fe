"""Pointing on the live video in real Chromium (two contexts, fake media): the adviser
moves the mouse over the customer's camera video and the customer sees the mark on
their own self-view, at the same place in the picture — mirrored like the self-view —
in the call panel and in the large room's own tile.

Places are compared as fractions of the picture each side sees (the <video>'s content
box under its object-fit: the adviser's "contain" with black bars, the self-view's
"cover").
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import LiveServer
from playwright.sync_api import Locator, Page, expect

from .browser import Users
from .calls import chat_pair, start_video_call, status
from .test_room_browser import stage_frames

pytestmark = pytest.mark.e2e

# The picture's box in page coordinates (object-fit contain or cover), and whether the
# video is shown mirrored.
PICTURE_BOX = """
(v) => {
  const r = v.getBoundingClientRect();
  const cs = getComputedStyle(v);
  const fit = cs.objectFit === "cover" ? Math.max : Math.min;
  const s = fit(r.width / v.videoWidth, r.height / v.videoHeight);
  const w = v.videoWidth * s, h = v.videoHeight * s;
  return {
    x: r.left + (r.width - w) / 2, y: r.top + (r.height - h) / 2, w, h,
    mirrored: cs.transform.startsWith("matrix(-1"),
  };
}
"""

TOLERANCE = 0.03


def picture(video: Locator) -> dict[str, Any]:
    box: dict[str, Any] = video.evaluate(PICTURE_BOX)
    return box


def point_at(console: Page, video: Locator, fx: float, fy: float) -> None:
    """The adviser's mouse at a place in the customer's picture (fractions)."""
    b = picture(video)
    console.mouse.move(b["x"] + fx * b["w"], b["y"] + fy * b["h"], steps=4)


def mark_on(self_view: Locator, mark: Locator) -> tuple[float, float]:
    """Where the mark is drawn on the self-view, as fractions of the picture shown."""
    expect(mark).to_be_visible()
    b = picture(self_view)
    m = mark.bounding_box()
    assert m is not None
    return (
        (m["x"] + m["width"] / 2 - b["x"]) / b["w"],
        (m["y"] + m["height"] / 2 - b["y"]) / b["h"],
    )


def wait_mark(self_view: Locator, mark: Locator, want: tuple[float, float]) -> None:
    """The mark arrives (it may first show an older place of a burst)."""
    expect(mark).to_be_visible()
    self_view.page.wait_for_function(
        """([el, want, tol]) => {
          const find = (root) => {
            const hit = root.querySelector('[data-testid="video-pointer"]');
            if (hit) return hit;
            for (const e of root.querySelectorAll("*"))
              if (e.shadowRoot) { const h = find(e.shadowRoot); if (h) return h; }
            return null;
          };
          const dot = find(el.getRootNode());
          if (!dot) return false;
          const r = el.getBoundingClientRect();
          const fit = getComputedStyle(el).objectFit === "cover" ? Math.max : Math.min;
          const s = fit(r.width / el.videoWidth, r.height / el.videoHeight);
          const w = el.videoWidth * s, h = el.videoHeight * s;
          const d = dot.getBoundingClientRect();
          const x = (d.left + d.width / 2 - r.left - (r.width - w) / 2) / w;
          const y = (d.top + d.height / 2 - r.top - (r.height - h) / 2) / h;
          return Math.abs(x - want[0]) < tol && Math.abs(y - want[1]) < tol;
        }""",
        arg=[self_view.element_handle(), list(want), TOLERANCE],
    )
    x, y = mark_on(self_view, mark)
    assert abs(x - want[0]) < TOLERANCE and abs(y - want[1]) < TOLERANCE, (x, y, want)


def test_adviser_points_on_the_customers_camera(live_server: LiveServer, users: Users) -> None:
    customer, console, _ = chat_pair(live_server, users, "Zeiger")
    start_video_call(customer, console)
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "connected")
    stage_frames(console, "remote-video", "adviser: the customer's camera")
    stage_frames(customer, "local-video", "customer: own camera")

    # The adviser is told what to do; the customer has nothing to send with.
    hint = console.get_by_test_id("video-point-hint")
    expect(hint).to_have_text("Zeigen Sie mit der Maus auf das Video")
    expect(customer.get_by_test_id("video-pointer-send")).to_have_count(0)
    expect(console.get_by_test_id("video-pointer-show")).to_have_count(0)

    remote = console.get_by_test_id("remote-video")
    own = customer.get_by_test_id("local-video")
    mark = customer.get_by_test_id("video-pointer")
    # The customer's self-view is a mirror: what is left in the picture shows right.
    assert picture(own)["mirrored"] is True
    point_at(console, remote, 0.25, 0.3)
    expect(hint).to_have_count(0)
    wait_mark(own, mark, (0.75, 0.3))
    expect(mark).to_have_attribute("aria-label", "Beraterin Zeiger zeigt hierhin")

    point_at(console, remote, 0.8, 0.65)
    wait_mark(own, mark, (0.2, 0.65))

    # Off the picture (the black bar beside the 4:3 camera in the 16:9 stage) the mark
    # goes, and the hint comes back.
    b = picture(remote)
    r = remote.bounding_box()
    assert r is not None and b["x"] - r["x"] > 20, (b, r)
    console.mouse.move(r["x"] + 5, b["y"] + b["h"] / 2)
    expect(mark).to_have_count(0)
    expect(hint).to_be_visible()

    # The customer opens the conversation large: the mark lands on the room's own tile.
    customer.get_by_test_id("room-open").click()
    expect(customer.get_by_test_id("room")).to_have_attribute("data-mode", "large")
    tile = customer.get_by_test_id("tile-self")
    stage_frames(customer, "tile-self", "customer: own tile")
    expect(customer.get_by_test_id("local-video")).to_have_count(0)
    assert picture(tile)["mirrored"] is True
    point_at(console, remote, 0.4, 0.2)
    wait_mark(tile, mark, (0.6, 0.2))

    # The mouse leaves the video: gone on the customer's side.
    console.mouse.move(1, 1)
    expect(mark).to_have_count(0)
