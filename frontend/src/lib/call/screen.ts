// Own screen share: getDisplayMedia only on the sharer's own click, a picker that
// prefers a window or a tab (never silently the whole screen), stopped at any time —
// also by the browser's own "stop sharing" bar (the track ends).
//
// On the wire the screen is an extra video line (transceiver) of the call's peer
// connection, sent with a stream id in its `a=msid` (the camera line has none): the
// receiver tells a screen from a camera by that (tracks.ts `isScreenTrack`), and
// `call.media` {screen: true|false} says whether a share is on (docs/protocol.md).
import { deviceErrorOf } from "./devices";
import type { DeviceError, Media, MediaFlags } from "./types";

/** The picker's wishes (browsers ignore what they do not know). `displaySurface`
 * "window" preselects windows; the own tab is left out (a mirror of a mirror);
 * switching the shared tab is allowed; no system sound. */
export const DISPLAY_OPTIONS = {
  video: { displaySurface: "window" },
  selfBrowserSurface: "exclude",
  surfaceSwitching: "include",
  systemAudio: "exclude",
  preferCurrentTab: false,
  audio: false,
} as DisplayMediaStreamOptions;

export interface DisplayMediaLike {
  getDisplayMedia?(options: DisplayMediaStreamOptions): Promise<MediaStream>;
}

/** Whether this browser can share a screen at all (not on phones, not on insecure
 * origins): the button is hidden otherwise. */
export function canShareScreen(
  media: DisplayMediaLike | undefined = typeof navigator === "undefined"
    ? undefined
    : navigator.mediaDevices,
): boolean {
  return typeof media?.getDisplayMedia === "function";
}

export interface ScreenHooks {
  /** The track came or went (onto the peer connection, tell the other side). */
  changed(): void;
  /** The share was stopped (a click, the browser's own bar; not the call's end). */
  stopped?(): void;
}

/** Whether the own share was all the call was: a call of media "screen" in which this
 * side has neither camera nor microphone on and the other side sends neither sound,
 * picture nor a screen of its own. Stopping the share ends such a call (hang up)
 * instead of leaving an empty one running; any other call goes on without the screen. */
export function shareWasTheCall(
  media: Media,
  own: { mic: boolean; cam: boolean },
  other: MediaFlags,
): boolean {
  return (
    media === "screen" && !own.mic && !own.cam && !other.audio && !other.video && !other.screen
  );
}

export class ScreenShare {
  track: MediaStreamTrack | null = null;
  /** The own screen as the sharer sees it (a small preview). */
  preview: MediaStream | null = null;
  /** Why the last try failed ("denied": the picker was cancelled). */
  error: DeviceError = "";
  private starting = false;

  constructor(
    private readonly hooks: ScreenHooks,
    private readonly media: () => DisplayMediaLike | undefined = () => navigator.mediaDevices,
    private readonly stream: (t: MediaStreamTrack) => MediaStream = (t) => new MediaStream([t]),
  ) {}

  get on(): boolean {
    return !!this.track;
  }

  /** Ask the browser for a window, tab or screen (call this from a click). True when
   * the user picked one. */
  async start(): Promise<boolean> {
    if (this.track) return true;
    const md = this.media();
    if (this.starting || !md?.getDisplayMedia) {
      if (!md?.getDisplayMedia) this.error = "unsupported";
      return false;
    }
    this.starting = true;
    this.error = "";
    try {
      const s = await md.getDisplayMedia(DISPLAY_OPTIONS);
      const track = s.getVideoTracks()[0] ?? null;
      for (const t of s.getAudioTracks()) t.stop();
      if (!track) return false;
      // Text and slides: sharp rather than smooth (the encoder keeps the resolution).
      track.contentHint = "detail";
      track.addEventListener("ended", () => {
        if (this.track === track) this.stop();
      });
      this.track = track;
      this.preview = this.stream(track);
      this.hooks.changed();
      return true;
    } catch (err) {
      this.error = deviceErrorOf(err);
      this.hooks.changed();
      return false;
    } finally {
      this.starting = false;
    }
  }

  /** Stop sharing (a click, the browser's own bar, the call's end: `quiet`, the
   * call goes away with its peer connection anyway). */
  stop(quiet = false): void {
    const track = this.track;
    if (!track) return;
    this.track = null;
    this.preview = null;
    track.stop();
    if (quiet) return;
    this.hooks.changed();
    this.hooks.stopped?.();
  }
}
