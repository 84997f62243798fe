// The consultation room (<vv-room>), its own chunk (lib/room-lazy.ts): loaded when a
// call starts, a document is presented, or the customer opens the conversation large.
//
// Two modes (layout.ts decides what shows):
// - "large": the stage (a shared screen, the presented document, else the other's
//   video), small video tiles (own and the other's camera), the call controls (slot
//   "controls") and the chat as a side panel (slot "chat") that folds away — the
//   widget's overlay, the own window, full screen on a phone (CSS below 600 px).
// - "inline": only a screen or a document, above the chat (the small widget panel,
//   the adviser's conversation view); the call panel beside it shows the cameras.
// Whoever shares their screen sees the "you are sharing" bar with Stop in both modes.
// All call state is the CallManager's; srcObject is set after each render.
// Pointing on the live video (video-pointer.ts): the adviser's view of the customer's
// camera (stage or tile) sends, the customer's own tile shows the adviser's mark.
import { css, html, nothing, type PropertyValues } from "lit";
import { I18nElement } from "../lib/base";
import type { CallManager, Role } from "../lib/call";
import type { EventMsg } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { VisavisClient } from "../lib/ws";
import { roomView, type RoomMode, type RoomView } from "./layout";
import { stageOf } from "./stage-state";
import { troom } from "./strings";
import "./video-pointer";

export class Room extends I18nElement {
  static override properties = {
    manager: { attribute: false },
    events: { attribute: false },
    client: { attribute: false },
    conversationId: { type: String, attribute: "conversation-id" },
    side: { type: String },
    otherName: { type: String, attribute: "other-name" },
    mode: { type: String, reflect: true },
    chatOpen: { state: true },
  };
  declare manager: CallManager | null;
  declare events: readonly EventMsg[];
  declare client: VisavisClient | null;
  declare conversationId: string;
  /** "customer" | "adviser" (not `role`: an element's role property is its ARIA role). */
  declare side: Role;
  declare otherName: string;
  declare mode: RoomMode;
  /** The chat side panel is unfolded (large mode). */
  declare chatOpen: boolean;

  private bound: CallManager | null = null;

  constructor() {
    super();
    this.manager = null;
    this.events = [];
    this.client = null;
    this.conversationId = "";
    this.side = "customer";
    this.otherName = "";
    this.mode = "inline";
    this.chatOpen = true;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        min-height: 0;
      }
      :host([hidden]) {
        display: none;
      }
      :host([mode="inline"]) {
        flex: none; /* a column of the chat: not squeezed by the message list */
      }
      :host([mode="large"]) {
        height: 100%;
      }
      .room {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100%;
        background: #1d232a;
        color: #fff;
      }
      .body {
        flex: 1;
        display: flex;
        min-height: 0;
      }
      .main {
        flex: 1;
        display: flex;
        flex-direction: column;
        min-width: 0;
        min-height: 0;
      }
      .stage {
        position: relative;
        flex: 1;
        display: flex;
        align-items: center;
        justify-content: center;
        min-height: 0;
        background: #111;
      }
      .inline .stage {
        flex: none;
        aspect-ratio: 16 / 9;
        max-height: 35vh;
      }
      .stage vv-doc-stage {
        --vv-doc-stage-max: 100%;
        flex: 1;
        align-self: stretch;
      }
      .stage video {
        width: 100%;
        height: 100%;
        object-fit: contain;
      }
      .stage .own {
        width: auto;
        max-width: 45%;
        max-height: 45%;
        border: 2px solid #f0a202;
      }
      .stage p {
        margin: 1rem;
        text-align: center;
        color: #c4cbd3;
      }
      .tiles {
        display: flex;
        gap: 0.5rem;
        padding: 0.5rem;
        justify-content: flex-end;
      }
      .tile {
        position: relative;
        width: 160px;
        aspect-ratio: 4 / 3;
        border-radius: 6px;
        overflow: hidden;
        background: #000;
      }
      .tile video {
        display: block;
        width: 100%;
        height: 100%;
        object-fit: cover;
      }
      .mirror {
        transform: scaleX(-1);
      }
      .controls {
        background: #fff;
        color: inherit;
      }
      aside {
        width: min(380px, 42%);
        display: flex;
        flex-direction: column;
        min-height: 0;
        background: #fff;
        color: #1d232a;
        border-left: 1px solid #d5dbe1;
      }
      aside[hidden] {
        display: none;
      }
      .bar {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        padding: 0.3rem 0.6rem;
        flex-wrap: wrap;
      }
      .bar h2 {
        flex: 1;
        margin: 0;
        font-size: 0.95rem;
      }
      .sharing {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        padding: 0.4rem 0.75rem;
        background: #b3261e;
        color: #fff;
        font-weight: 600;
      }
      .sharing span {
        flex: 1;
      }
      .sharing button,
      .bar button {
        background: #fff;
        color: #1d232a;
        border: 1px solid #fff;
      }
      @media (max-width: 599px) {
        .body {
          flex-direction: column;
        }
        aside {
          width: auto;
          height: 45%;
          border-left: 0;
          border-top: 1px solid #d5dbe1;
        }
        .tile {
          width: 96px;
        }
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.bind(this.manager);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.bind(null);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("manager") && this.isConnected) this.bind(this.manager);
  }

  private readonly onChange = (): void => this.requestUpdate();

  private bind(m: CallManager | null): void {
    if (this.bound === m) return;
    this.bound?.removeEventListener("change", this.onChange);
    this.bound = m;
    m?.addEventListener("change", this.onChange);
  }

  /** What shows now (layout.ts). */
  get view(): RoomView {
    const m = this.manager;
    const active = m?.phase === "active";
    const remoteVideo =
      active && !!m.remoteVideo && m.remoteVideoLive && m.remoteFlags.video !== false;
    return roomView(this.mode, {
      remoteScreen: active && !!m.remoteScreen,
      ownScreen: !!m?.screenTrack,
      presented: stageOf(this.events).presented !== null,
      remoteVideo,
      ownVideo: active && !!m.camTrack,
    });
  }

  protected override updated(): void {
    const m = this.manager;
    for (const v of this.renderRoot.querySelectorAll<HTMLVideoElement>("video[data-src]")) {
      const src = v.dataset["src"];
      const want =
        src === "remote-screen"
          ? (m?.remoteScreen ?? null)
          : src === "own-screen"
            ? (m?.screenPreview ?? null)
            : src === "remote"
              ? (m?.remoteVideo ?? null)
              : (m?.localPreview ?? null);
      if (v.srcObject !== want) {
        v.srcObject = want;
        if (want) void v.play().catch(() => undefined);
      }
    }
    for (const p of this.renderRoot.querySelectorAll("vv-video-pointer"))
      p.video = p.parentElement?.querySelector("video") ?? null;
  }

  /** Over the other side's camera: the adviser points on the customer's video. Over the
   * own camera: the customer sees where (mirrored like the self-view). */
  private pointer(over: "other" | "self") {
    const send = over === "other";
    if (send !== (this.side === "adviser")) return nothing;
    return html`<vv-video-pointer
      mode=${send ? "send" : "show"}
      data-testid=${send ? "video-pointer-send" : "video-pointer-show"}
      .client=${this.client}
      .conversationId=${this.conversationId}
      ?mirrored=${!send && this.manager?.facing === "user"}
    ></vv-video-pointer>`;
  }

  private sharingBar() {
    const m = this.manager;
    if (!m?.screenTrack) return nothing;
    return html`<div class="sharing" role="status" data-testid="screen-indicator">
      <span>${troom("sharing")}</span>
      <button
        type="button"
        data-testid="screen-stop"
        aria-label=${troom("stopLabel")}
        @click=${() => m.stopScreen()}
      >
        ${troom("stop")}
      </button>
    </div>`;
  }

  private stage(view: RoomView) {
    const name = this.otherName || "?";
    switch (view.stage) {
      case "screen":
        return html`<video
          data-src="remote-screen"
          data-testid="stage-screen"
          aria-label=${troom("otherScreen", { name })}
          autoplay
          playsinline
          muted
        ></video>`;
      case "own-screen":
        return html`<video
          class="own"
          data-src="own-screen"
          data-testid="stage-own-screen"
          aria-label=${troom("sharing")}
          autoplay
          playsinline
          muted
        ></video>`;
      case "document":
        void import("./doc-stage");
        return html`<vv-doc-stage
          data-testid="stage-document"
          aria-label=${troom("document")}
          .client=${this.client}
          .conversationId=${this.conversationId}
          .side=${this.side}
          .events=${this.events}
          .lang=${document.documentElement.lang}
        ></vv-doc-stage>`;
      case "video":
        return html`<video
            data-src="remote"
            data-testid="stage-video"
            aria-label=${troom("otherVideo", { name })}
            autoplay
            playsinline
            muted
          ></video>
          ${this.pointer("other")}`;
      default:
        return html`<p data-testid="stage-empty">${troom("empty")}</p>`;
    }
  }

  private tiles(view: RoomView) {
    const m = this.manager;
    if (!view.tiles.self && !view.tiles.other) return nothing;
    const mirror = m?.facing === "user" ? "mirror" : "";
    return html`<div class="tiles">
      ${
        view.tiles.other
          ? html`<div class="tile">
              <video
                data-src="remote"
                data-testid="tile-other"
                aria-label=${troom("otherVideo", { name: this.otherName || "?" })}
                autoplay
                playsinline
                muted
              ></video>
              ${this.pointer("other")}
            </div>`
          : nothing
      }
      ${
        view.tiles.self
          ? html`<div class="tile">
              <video
                class=${mirror}
                data-src="local"
                data-testid="tile-self"
                aria-label=${troom("ownVideo")}
                autoplay
                playsinline
                muted
              ></video>
              ${this.pointer("self")}
            </div>`
          : nothing
      }
    </div>`;
  }

  override render() {
    const view = this.view;
    this.hidden = !view.visible;
    if (!view.visible) return nothing;
    const stage = html`<div
      class="stage"
      data-testid="room-stage"
      data-stage=${view.stage}
      role="region"
      aria-label=${troom("stage")}
    >
      ${this.stage(view)}
    </div>`;
    if (this.mode === "inline")
      return html`<section
        class="room inline"
        data-testid="room"
        data-mode="inline"
        data-stage=${view.stage}
        aria-label=${troom("label")}
      >
        ${this.sharingBar()} ${stage}
      </section>`;
    const open = this.chatOpen;
    return html`<section
      class="room large"
      data-testid="room"
      data-mode="large"
      data-stage=${view.stage}
      aria-label=${troom("label")}
    >
      ${this.sharingBar()}
      <div class="bar">
        <h2>${troom("label")}</h2>
        <slot name="actions"></slot>
        <button
          type="button"
          data-testid="chat-fold"
          aria-expanded=${open ? "true" : "false"}
          aria-controls="room-chat"
          @click=${() => (this.chatOpen = !open)}
        >
          ${open ? troom("chatHide") : troom("chatShow")}
        </button>
      </div>
      <div class="body">
        <div class="main">
          ${stage} ${this.tiles(view)}
          <div class="controls"><slot name="controls"></slot></div>
        </div>
        <aside id="room-chat" data-testid="room-chat" aria-label=${troom("chat")} ?hidden=${!open}>
          <slot name="chat"></slot>
        </aside>
      </div>
    </section>`;
  }
}
customElements.define("vv-room", Room);

declare global {
  interface HTMLElementTagNameMap {
    "vv-room": Room;
  }
}
