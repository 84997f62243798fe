// <vv-video-pointer>: pointing on a live video (the hotline case: "this screw here").
// The room's video tile lays it over a <video> (position: absolute; inset: 0) and sets:
// - `mode` "send" over the other side's video (the adviser over the customer's camera):
//   the pointer's place in the picture goes out as `pointer` with surface "video"
//   (≤ 30/s, coalesced on animation frames; `visible: false` when it leaves);
// - `mode` "show" over one's own self-view (the customer): the other side's video
//   pointer is drawn there, mirrored when the self-view is.
// `video` is the <video> below, so the point is a place in the picture (object-fit),
// not in the tile. The sender sees a short hint ("Point at the video") until the mouse
// is over the picture; it comes back when the mouse leaves.
import { css, html, nothing } from "lit";
import { I18nElement } from "../lib/base";
import { tc } from "../lib/i18n";
import type { ServerMessage } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { VisavisClient } from "../lib/ws";
import { cspStyle } from "./csp-style";
import { td } from "./doc-strings";
import { clamp01, Coalescer, contentBox, type Box } from "./pace";

interface Shown {
  x: number;
  y: number;
  name: string;
}

const IDLE_MS = 10_000;

export class VideoPointer extends I18nElement {
  static override properties = {
    client: { attribute: false },
    conversationId: { type: String },
    mode: { type: String, reflect: true },
    video: { attribute: false },
    mirrored: { type: Boolean },
    shown: { state: true },
    pointing: { state: true },
  };
  declare client: VisavisClient | null;
  declare conversationId: string;
  declare mode: "send" | "show";
  declare video: HTMLVideoElement | null;
  declare mirrored: boolean;
  declare shown: Shown | null;
  /** The sender's mouse is over the picture (the hint steps aside). */
  declare pointing: boolean;

  private off: (() => void) | null = null;
  private listening: VisavisClient | null = null;
  private idle = 0;
  private readonly out = new Coalescer<{ x: number; y: number; visible: boolean }>(33, (p) =>
    this.client?.send({
      type: "pointer",
      conversation_id: this.conversationId,
      surface: "video",
      document_id: null,
      page: null,
      x: Math.round(p.x * 10000) / 10000,
      y: Math.round(p.y * 10000) / 10000,
      visible: p.visible,
    }),
  );

  constructor() {
    super();
    this.client = null;
    this.conversationId = "";
    this.mode = "show";
    this.video = null;
    this.mirrored = false;
    this.shown = null;
    this.pointing = false;
  }

  static override styles = [
    base,
    css`
      :host {
        position: absolute;
        inset: 0;
        pointer-events: none;
      }
      :host([mode="send"]) {
        pointer-events: auto;
        cursor: crosshair;
      }
      .dot {
        position: absolute;
        width: 22px;
        height: 22px;
        margin: -11px 0 0 -11px;
        border-radius: 50%;
        border: 3px solid #fff;
        background: #e63946;
        box-shadow: 0 0 0 2px rgb(0 0 0 / 0.4);
      }
      .hint {
        position: absolute;
        left: 0.5rem;
        bottom: 0.5rem;
        margin: 0;
        max-width: calc(100% - 1rem);
        font-size: 0.8rem;
        background: rgb(0 0 0 / 0.75);
        color: #fff;
        padding: 0.15rem 0.45rem;
        border-radius: 4px;
        pointer-events: none;
      }
      .dot span {
        position: absolute;
        left: 18px;
        top: 14px;
        white-space: nowrap;
        font-size: 0.8rem;
        background: rgb(0 0 0 / 0.75);
        color: #fff;
        padding: 0.1rem 0.35rem;
        border-radius: 4px;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener("pointermove", this.onMove);
    this.addEventListener("pointerleave", this.onLeave);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener("pointermove", this.onMove);
    this.removeEventListener("pointerleave", this.onLeave);
    // Taken away under the mouse (the video went, the call ended): the mark goes too.
    if (this.pointing) this.onLeave();
    this.off?.();
    this.off = null;
    this.listening = null;
    this.out.cancel();
    window.clearTimeout(this.idle);
  }

  protected override willUpdate(): void {
    if (this.client !== this.listening) {
      this.off?.();
      this.listening = this.client;
      this.off = this.client?.listen((f) => this.onFrame(f)) ?? null;
    }
  }

  private box(): Box {
    const r = this.getBoundingClientRect();
    const v = this.video;
    const fit = v ? getComputedStyle(v).objectFit : "contain";
    return contentBox(r.width, r.height, v?.videoWidth ?? 0, v?.videoHeight ?? 0, fit);
  }

  private readonly onMove = (e: PointerEvent): void => {
    if (this.mode !== "send") return;
    const r = this.getBoundingClientRect();
    const b = this.box();
    const x = (e.clientX - r.left - b.x) / Math.max(1, b.w);
    const y = (e.clientY - r.top - b.y) / Math.max(1, b.h);
    const inside = x >= 0 && x <= 1 && y >= 0 && y <= 1;
    this.pointing = inside;
    this.out.push({ x: clamp01(x), y: clamp01(y), visible: inside });
  };

  private readonly onLeave = (): void => {
    if (this.mode !== "send") return;
    this.pointing = false;
    this.out.push({ x: 0, y: 0, visible: false });
    this.out.flush();
  };

  private onFrame(f: ServerMessage): void {
    if (this.mode !== "show" || f.type !== "pointer") return;
    if (f.conversation_id !== this.conversationId || f.surface !== "video") return;
    window.clearTimeout(this.idle);
    if (!f.visible) {
      this.shown = null;
      return;
    }
    this.shown = { x: f.x, y: f.y, name: f.from.name || tc(f.from.role) };
    this.idle = window.setTimeout(() => (this.shown = null), IDLE_MS);
  }

  override render() {
    if (this.mode === "send")
      return this.pointing
        ? nothing
        : html`<p class="hint" data-testid="video-point-hint">${td("videoPointHint")}</p>`;
    const s = this.shown;
    if (!s) return nothing;
    const b = this.box();
    const x = this.mirrored ? 1 - s.x : s.x;
    return html`<div
      class="dot"
      role="img"
      data-testid="video-pointer"
      aria-label=${td("pointerOf", { name: s.name })}
      style=${cspStyle({ left: `${b.x + x * b.w}px`, top: `${b.y + s.y * b.h}px` })}
    >
      <span aria-hidden="true">${s.name}</span>
    </div>`;
  }
}
customElements.define("vv-video-pointer", VideoPointer);

declare global {
  interface HTMLElementTagNameMap {
    "vv-video-pointer": VideoPointer;
  }
}
