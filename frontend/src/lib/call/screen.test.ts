import { describe, expect, it } from "vitest";
import {
  canShareScreen,
  DISPLAY_OPTIONS,
  ScreenShare,
  shareWasTheCall,
  type DisplayMediaLike,
} from "./screen";

class FakeTrack extends EventTarget {
  kind = "video";
  contentHint = "";
  stopped = false;
  stop(): void {
    this.stopped = true;
  }
}

function fakeStream(track: FakeTrack): MediaStream {
  return {
    getVideoTracks: () => [track],
    getAudioTracks: () => [],
  } as unknown as MediaStream;
}

function setup(media: DisplayMediaLike | undefined) {
  const state = { changes: 0, stops: 0 };
  const share = new ScreenShare(
    { changed: () => (state.changes += 1), stopped: () => (state.stops += 1) },
    () => media,
    () => ({}) as MediaStream,
  );
  return { share, state };
}

describe("ScreenShare", () => {
  it("is offered only where the browser can share", () => {
    expect(canShareScreen(undefined)).toBe(false);
    expect(canShareScreen({})).toBe(false);
    expect(canShareScreen({ getDisplayMedia: () => Promise.reject(new Error("x")) })).toBe(true);
  });

  it("asks for a window or tab, never the own tab, and stops when the browser ends it", async () => {
    const track = new FakeTrack();
    const asked: DisplayMediaStreamOptions[] = [];
    const { share, state } = setup({
      getDisplayMedia: (o) => {
        asked.push(o);
        return Promise.resolve(fakeStream(track));
      },
    });
    expect(await share.start()).toBe(true);
    expect(asked[0]).toBe(DISPLAY_OPTIONS);
    expect(asked[0]).toMatchObject({
      video: { displaySurface: "window" },
      selfBrowserSurface: "exclude",
      surfaceSwitching: "include",
      systemAudio: "exclude",
      preferCurrentTab: false,
    });
    expect(share.on).toBe(true);
    expect(track.contentHint).toBe("detail");
    expect(state.changes).toBe(1);
    // The browser's own "stop sharing": the track ends.
    track.dispatchEvent(new Event("ended"));
    expect(share.on).toBe(false);
    expect(track.stopped).toBe(true);
    expect(state.changes).toBe(2);
    expect(state.stops).toBe(1);
  });

  it("reports a cancelled picker and an unsupported browser", async () => {
    const refused = setup({
      getDisplayMedia: () => Promise.reject(new DOMException("no", "NotAllowedError")),
    });
    expect(await refused.share.start()).toBe(false);
    expect(refused.share.error).toBe("denied");
    const none = setup(undefined);
    expect(await none.share.start()).toBe(false);
    expect(none.share.error).toBe("unsupported");
  });

  it("stops quietly when the call ends", async () => {
    const track = new FakeTrack();
    const { share, state } = setup({ getDisplayMedia: () => Promise.resolve(fakeStream(track)) });
    await share.start();
    share.stop(true);
    expect(track.stopped).toBe(true);
    expect(state.changes).toBe(1);
    expect(state.stops).toBe(0);
  });
});

describe("shareWasTheCall", () => {
  const none = { mic: false, cam: false };
  const silent = { audio: false, video: false };

  it("ends a screen-only call without camera or microphone on either side", () => {
    expect(shareWasTheCall("screen", none, silent)).toBe(true);
    expect(shareWasTheCall("screen", none, { ...silent, screen: false })).toBe(true);
  });

  it("keeps a call that is more than the share", () => {
    expect(shareWasTheCall("video", none, silent)).toBe(false);
    expect(shareWasTheCall("audio", none, silent)).toBe(false);
    expect(shareWasTheCall("screen", { mic: true, cam: false }, silent)).toBe(false);
    expect(shareWasTheCall("screen", { mic: false, cam: true }, silent)).toBe(false);
    expect(shareWasTheCall("screen", none, { audio: true, video: false })).toBe(false);
    expect(shareWasTheCall("screen", none, { audio: false, video: true })).toBe(false);
    expect(shareWasTheCall("screen", none, { ...silent, screen: true })).toBe(false);
  });
});
