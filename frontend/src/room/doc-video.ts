// A product video on the stage, watched together: whoever plays, pauses or seeks says
// so (`vv-video-control`, sent as `video.control` by the stage), and every side plays
// what the events say, correcting drift beyond half a second. Its own buttons rather
// than the browser's controls: only what the user does is sent, never what following
// the other side does.
import { css, html, nothing, type PropertyValues } from "lit";
import { I18nElement } from "../lib/base";
import { base } from "../lib/styles";
import { td } from "./doc-strings";
import { drifted, expectedPosition, type DocumentInfo, type VideoState } from "./stage-state";

export interface VideoControlDetail {
  action: "play" | "pause" | "seek";
  position: number;
}

/** How often a playing video is checked against where it should be. */
const CHECK_MS = 1000;

export class DocVideo extends I18nElement {
  static override properties = {
    doc: { attribute: false },
    state: { attribute: false },
    stateAt: { type: Number },
    src: { type: String },
    time: { state: true },
    duration: { state: true },
    playing: { state: true },
    muted: { state: true },
  };
  declare doc: DocumentInfo | null;
  /** What the events say (null: nobody touched it yet, it waits at 0). */
  declare state: VideoState | null;
  /** When `state` happened on the local clock (ms; 0: use the event's own time). */
  declare stateAt: number;
  declare src: string;
  declare time: number;
  declare duration: number;
  declare playing: boolean;
  /** Muted because the browser refused to play sound without a click here. */
  declare muted: boolean;

  private timer = 0;

  constructor() {
    super();
    this.doc = null;
    this.state = null;
    this.stateAt = 0;
    this.src = "";
    this.time = 0;
    this.duration = 0;
    this.playing = false;
    this.muted = false;
  }

  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        background: #000;
      }
      video {
        flex: 1;
        min-height: 0;
        width: 100%;
        background: #000;
      }
      .controls {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        padding: 0.4rem;
        background: #1b1f24;
        color: #fff;
      }
      .controls input {
        flex: 1;
        padding: 0;
      }
      .time {
        font-variant-numeric: tabular-nums;
        min-width: 6.5rem;
        text-align: right;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.timer = window.setInterval(() => this.follow(), CHECK_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.timer);
  }

  private get video(): HTMLVideoElement | null {
    return this.renderRoot.querySelector("video");
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("state") || changed.has("stateAt")) this.follow();
  }

  /** Play, pause and jump to where the events say. */
  private follow(): void {
    const v = this.video;
    const s = this.state;
    if (!v || !s || v.readyState < HTMLMediaElement.HAVE_METADATA) return;
    const dur = Number.isFinite(v.duration) ? v.duration : Infinity;
    const expected = expectedPosition(s, Date.now(), this.stateAt || s.at, dur);
    if (drifted(v.currentTime, expected)) v.currentTime = expected;
    if (s.playing && v.paused && expected < dur) this.play(v);
    else if (!s.playing && !v.paused) v.pause();
  }

  private play(v: HTMLVideoElement): void {
    v.play().catch((err: unknown) => {
      // Sound needs a click in this tab first: play muted, and offer the sound.
      if (err instanceof DOMException && err.name === "NotAllowedError" && !v.muted) {
        v.muted = true;
        this.muted = true;
        void v.play().catch(() => undefined);
      }
    });
  }

  private send(action: VideoControlDetail["action"], position: number): void {
    this.emit<VideoControlDetail>("vv-video-control", {
      action,
      position: Math.max(0, Math.round(position * 1000) / 1000),
    });
  }

  private toggle(): void {
    const v = this.video;
    if (!v) return;
    if (v.paused) {
      if (v.muted && this.muted) this.unmute();
      this.play(v);
      this.send("play", v.currentTime);
    } else {
      v.pause();
      this.send("pause", v.currentTime);
    }
  }

  private seek(e: Event): void {
    const v = this.video;
    const value = Number((e.target as HTMLInputElement).value);
    if (!v || !Number.isFinite(value)) return;
    v.currentTime = value;
    this.send("seek", value);
  }

  private unmute(): void {
    const v = this.video;
    if (v) v.muted = false;
    this.muted = false;
  }

  private sync(): void {
    const v = this.video;
    if (!v) return;
    this.time = v.currentTime;
    this.duration = Number.isFinite(v.duration) ? v.duration : 0;
    this.playing = !v.paused;
  }

  override render() {
    const doc = this.doc;
    if (!doc) return nothing;
    return html`<video
        src=${this.src}
        playsinline
        preload="auto"
        aria-label=${doc.name}
        data-testid="doc-video"
        data-document-id=${doc.id}
        data-playing=${this.playing ? "yes" : "no"}
        @loadedmetadata=${() => {
          this.sync();
          this.follow();
        }}
        @timeupdate=${this.sync}
        @play=${this.sync}
        @pause=${this.sync}
      ></video>
      <div class="controls">
        <button
          type="button"
          data-testid="video-toggle"
          aria-pressed=${this.playing ? "true" : "false"}
          @click=${this.toggle}
        >
          ${this.playing ? td("pause") : td("play")}
        </button>
        <input
          type="range"
          min="0"
          max=${this.duration || 0}
          step="0.1"
          .value=${String(this.time)}
          aria-label=${td("position")}
          aria-valuetext=${`${clock(this.time)} / ${clock(this.duration)}`}
          data-testid="video-seek"
          @change=${this.seek}
        />
        <span class="time" aria-hidden="true">${clock(this.time)} / ${clock(this.duration)}</span>
        ${
          this.muted
            ? html`<button type="button" class="secondary" @click=${this.unmute}>
                ${td("unmute")}
              </button>`
            : nothing
        }
      </div>`;
  }
}

function clock(s: number): string {
  const t = Math.max(0, Math.floor(s));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
}

customElements.define("vv-doc-video", DocVideo);
