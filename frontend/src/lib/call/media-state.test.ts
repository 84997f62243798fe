import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EventMsg } from "../protocol.gen";
import { HOLD_MS, MediaState } from "./media-state";
import type { MediaFlags } from "./types";

function mediaEvent(role: string, audio: boolean, video: boolean): EventMsg {
  return {
    type: "event",
    conversation_id: "c1",
    seq: 1,
    kind: "call.media",
    author: { role: "system" },
    at: "2030-01-01T00:00:00Z",
    body: { call_id: "k1", role, audio, video },
  };
}

function setup() {
  const sent: MediaFlags[] = [];
  const state = { due: 0 };
  const media = new MediaState("customer", {
    send: (_callId, flags) => sent.push(flags),
    due: () => (state.due += 1),
  });
  return { sent, state, media };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("MediaState", () => {
  it("reads who sends what from call.media events", () => {
    const { media } = setup();
    expect(media.record(mediaEvent("adviser", true, false))).toBe("k1");
    expect(media.record(mediaEvent("nobody", true, true))).toBeNull();
    expect(media.flagsOf("k1", "adviser")).toEqual({ audio: true, video: false });
    expect(media.flagsOf("k1", "customer")).toEqual({ audio: false, video: false });
  });

  it("sends each change of our flags once", () => {
    const { sent, media } = setup();
    media.update("k1", { audio: false, video: false });
    media.update("k1", { audio: true, video: false });
    media.update("k1", { audio: true, video: false });
    media.record(mediaEvent("customer", true, false)); // the confirmation
    media.update("k1", { audio: true, video: true });
    expect(sent).toEqual([
      { audio: true, video: false },
      { audio: true, video: true },
    ]);
  });

  it("sends every quick toggle although the confirmations come later", () => {
    const { sent, media } = setup();
    media.update("k1", { audio: true, video: false });
    media.update("k1", { audio: false, video: false });
    media.record(mediaEvent("customer", true, false)); // the first one's confirmation
    media.update("k1", { audio: true, video: false });
    media.record(mediaEvent("customer", false, false));
    media.update("k1", { audio: false, video: false });
    expect(sent.map((f) => f.audio)).toEqual([true, false, true, false]);
  });

  it("compares with the log again when a session begins (a take-over)", () => {
    const { sent, media } = setup();
    media.update("k1", { audio: true, video: false });
    media.record(mediaEvent("customer", true, false));
    // another tab took the call and turned the microphone off; this one takes it back
    media.record(mediaEvent("customer", false, false));
    media.hold();
    media.release();
    media.update("k1", { audio: true, video: false });
    expect(sent.map((f) => f.audio)).toEqual([true, true]);
  });

  it("tells a screen share apart from the camera", () => {
    const { sent, media } = setup();
    const shared = mediaEvent("adviser", false, false);
    shared.body["screen"] = true;
    media.record(shared);
    expect(media.flagsOf("k1", "adviser")).toEqual({ audio: false, video: false, screen: true });
    media.update("k1", { audio: false, video: false });
    media.update("k1", { audio: false, video: false, screen: true });
    media.update("k1", { audio: false, video: false, screen: false });
    expect(sent).toEqual([
      { audio: false, video: false, screen: true },
      { audio: false, video: false, screen: false },
    ]);
  });

  it("holds our flags back while connecting, at most 3 s", async () => {
    const { sent, state, media } = setup();
    media.hold();
    media.update("k1", { audio: true, video: false });
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(HOLD_MS);
    expect(state.due).toBe(1);
    media.update("k1", { audio: true, video: false });
    expect(sent).toHaveLength(1);

    media.hold();
    media.release();
    await vi.advanceTimersByTimeAsync(HOLD_MS);
    expect(state.due).toBe(1);
  });
});
