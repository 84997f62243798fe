// The adviser's side of co-browsing (its own chunk, with @rrweb/replay): the status
// line and buttons (ask, ask for control, end), the live mirror of the customer's tab,
// the adviser's pointer and — while the customer granted control — clicks, scrolling
// and typing sent as `cobrowse.input`.
//
// The mirror is drawn inside an iframe of /console/mirror: an empty same-origin page
// with a CSP of its own that allows what the mirrored page needs (inline styles and
// style attributes, the company site's images, styles and fonts;
// VISAVIS_COBROWSE_ORIGINS) and runs no script. The console keeps its strict CSP; the
// replayer's own iframe (about:blank, no scripts) inherits the mirror page's policy.
import { Replayer } from "@rrweb/replay";
import replayCss from "@rrweb/replay/dist/style.css?inline";
import { css, html, nothing, type PropertyValues } from "lit";
import { I18nElement } from "../lib/base";
import { META } from "../cobrowse/events";
import { MirrorUnpacker, fromBase64 } from "../cobrowse/packing";
import type { CobrowseBatchOutMsg, CobrowseInputMsg } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { VisavisClient } from "../lib/ws";
import { fitScale, Throttle, toCustomer, type CobrowseState } from "./cobrowse-state";
import { MirrorClock, type RrEvent } from "./mirror-clock";
import { tcb } from "./cobrowse-strings";

const POINTER_GAP_MS = 34; // ≤ 30 pointer frames a second
const KEYS = new Set([
  "Backspace", "Delete", "Enter", "Tab", "Escape", "ArrowLeft", "ArrowRight", "ArrowUp",
  "ArrowDown", "Home", "End",
]); // prettier-ignore
// Inside the replayed page: what cannot be mirrored is marked (the label comes from
// the overlay), and nothing reacts to the mouse (inputs go through the overlay).
const MIRROR_RULES = [
  "iframe, video, canvas, embed, object { outline: 2px dashed #888 !important; background: #e5e5e5 !important; }",
];

interface Placeholder {
  left: number;
  top: number;
  width: number;
  height: number;
  what: string;
}

export class CobrowseView extends I18nElement {
  static override properties = {
    conversationId: { type: String },
    state: { attribute: false },
    client: { attribute: false },
    name: { type: String },
    live: { state: true },
    scale: { state: true },
    viewport: { state: true },
    placeholders: { state: true },
  };
  declare conversationId: string;
  declare state: CobrowseState;
  declare client: VisavisClient | null;
  declare name: string;
  declare live: boolean;
  declare scale: number;
  declare viewport: { width: number; height: number };
  declare placeholders: Placeholder[];

  private replayer: Replayer | null = null;
  private mirrorDoc: Document | null = null;
  private mount: HTMLElement | null = null;
  private unpacker = new MirrorUnpacker();
  private readonly clock = new MirrorClock();
  private focusedTarget: number | null = null;
  private scanQueued = false;
  private resizeObserver: ResizeObserver | null = null;
  private readonly pointer = new Throttle<{ x: number; y: number; visible: boolean }>(
    POINTER_GAP_MS,
    (p) => this.send({ type: "cobrowse.pointer", conversation_id: this.conversationId, ...p }),
  );

  constructor() {
    super();
    this.live = false;
    this.scale = 1;
    this.viewport = { width: 0, height: 0 };
    this.placeholders = [];
    this.name = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        border-top: 1px solid var(--line, #ccc);
        padding: 0.5rem 0;
      }
      .bar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .status {
        flex: 1 1 12rem;
        margin: 0;
      }
      .stage {
        position: relative;
        overflow: hidden;
        margin-top: 0.5rem;
        background: #f4f4f4;
      }
      iframe {
        border: 0;
        display: block;
      }
      .overlay {
        position: absolute;
        inset: 0;
        cursor: crosshair;
        outline-offset: -3px;
      }
      .overlay.control {
        outline: 3px solid var(--accent, #0a6);
      }
      .placeholder {
        position: absolute;
        display: flex;
        align-items: center;
        justify-content: center;
        font-size: 0.8rem;
        color: #333;
        pointer-events: none;
        text-align: center;
      }
    `,
  ];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.teardown();
    this.resizeObserver?.disconnect();
  }

  // ------------------------------------------------------------------ the stream
  /** A `cobrowse.batch` of this conversation (in the order the server sent them). */
  receive(frame: CobrowseBatchOutMsg): void {
    const batches = this.unpacker.take({ ...frame, data: fromBase64(frame.data) });
    if (batches === null) {
      this.resync(); // joined mid-stream, or a chunk was lost: ask for the page again
      return;
    }
    const now = Date.now();
    for (const batch of batches as RrEvent[][]) {
      // a new page (navigation, resync) begins a new replayer: its events from there
      const meta = batch.findIndex((ev) => ev.type === META);
      if (meta >= 0) this.rebuild(now);
      const events = meta > 0 ? batch.slice(meta) : batch;
      if (!this.replayer) continue; // before the first page: nothing to draw on yet
      this.clock.place(events, now);
      for (const ev of events) this.replayer.addEvent(ev as never);
    }
    this.queueScan();
  }

  /** Ask the customer's recorder for a full snapshot (on opening, after a gap). */
  resync(): void {
    if (this.state.phase === "started")
      this.send({ type: "cobrowse.resync", conversation_id: this.conversationId });
  }

  private rebuild(baseline: number): void {
    this.teardown();
    const doc = this.mirrorDoc;
    if (!doc) return;
    const style = doc.createElement("style");
    style.textContent = `${replayCss}\nbody{margin:0}.replayer-wrapper{transform-origin:0 0}`;
    doc.head.append(style);
    this.mount = doc.createElement("div");
    doc.body.append(this.mount);
    const replayer = new Replayer([], {
      root: this.mount,
      liveMode: true,
      mouseTail: false,
      showWarning: false,
      triggerFocus: false,
      insertStyleRules: MIRROR_RULES,
    });
    replayer.on("resize", (d) => {
      const { width, height } = d as { width: number; height: number };
      this.viewport = { width, height };
      this.fit();
    });
    // The console's clock: events are re-timed as they arrive (mirror-clock.ts).
    replayer.startLive(this.clock.start(baseline));
    this.replayer = replayer;
    this.live = true;
  }

  private teardown(): void {
    this.replayer?.destroy();
    this.replayer = null;
    this.mount?.remove();
    this.mount = null;
    this.mirrorDoc?.head.querySelectorAll("style").forEach((s) => s.remove());
    this.live = false;
    this.placeholders = [];
  }

  private fit(): void {
    const box = this.renderRoot.querySelector<HTMLElement>(".stage-box");
    const width = box?.clientWidth ?? 800;
    this.scale = fitScale(this.viewport, { width, height: window.innerHeight * 0.7 });
    const wrapper = this.mount?.querySelector<HTMLElement>(".replayer-wrapper");
    if (wrapper) wrapper.style.transform = `scale(${this.scale})`;
    this.queueScan();
  }

  /** Label what is not mirrored (iframes of other sites, video, canvas). */
  private queueScan(): void {
    if (this.scanQueued) return;
    this.scanQueued = true;
    requestAnimationFrame(() => {
      this.scanQueued = false;
      const doc = this.replayer?.iframe.contentDocument;
      if (!doc) return;
      const found: Placeholder[] = [];
      for (const el of doc.querySelectorAll("iframe, video, canvas, embed, object")) {
        const r = el.getBoundingClientRect();
        if (r.width < 8 || r.height < 8) continue;
        const tag = el.tagName.toLowerCase();
        const what = tcb(tag === "video" ? "video" : tag === "canvas" ? "canvas" : "iframe");
        found.push({
          left: r.left * this.scale,
          top: r.top * this.scale,
          width: r.width * this.scale,
          height: r.height * this.scale,
          what,
        });
      }
      this.placeholders = found;
    });
  }

  // ------------------------------------------------------------------ the adviser acts
  private send(frame: Parameters<VisavisClient["send"]>[0]): void {
    this.client?.send(frame);
  }

  private async step(
    type: "cobrowse.request" | "cobrowse.control_request" | "cobrowse.end",
  ): Promise<void> {
    await this.client?.request({ type, conversation_id: this.conversationId });
  }

  private at(e: MouseEvent): { x: number; y: number } | null {
    return toCustomer(e.offsetX, e.offsetY, this.scale, this.viewport);
  }

  private readonly onMove = (e: MouseEvent): void => {
    const p = this.at(e);
    this.pointer.push(p ? { ...p, visible: true } : { x: 0, y: 0, visible: false });
  };

  private readonly onLeave = (): void => this.pointer.push({ x: 0, y: 0, visible: false });

  private nodeAt(x: number, y: number): number | null {
    const replayer = this.replayer;
    const el = replayer?.iframe.contentDocument?.elementFromPoint(x, y);
    if (!replayer || !el) return null;
    const id = replayer.getMirror().getId(el);
    return id > 0 ? id : null;
  }

  private input(fields: Omit<CobrowseInputMsg, "type" | "conversation_id" | "v" | "id">): void {
    if (this.state.control !== "granted") return;
    this.send({ type: "cobrowse.input", conversation_id: this.conversationId, ...fields });
  }

  private readonly onClick = (e: MouseEvent): void => {
    const p = this.at(e);
    if (!p) return;
    (e.currentTarget as HTMLElement).focus();
    const target = this.nodeAt(p.x, p.y);
    this.focusedTarget = target;
    this.input({ action: "click", x: p.x, y: p.y, ...(target !== null ? { target } : {}) });
  };

  private readonly onWheel = (e: WheelEvent): void => {
    if (this.state.control !== "granted") return;
    e.preventDefault();
    this.input({ action: "scroll", dx: Math.round(e.deltaX), dy: Math.round(e.deltaY) });
  };

  private readonly onKey = (e: KeyboardEvent): void => {
    const target = this.focusedTarget;
    if (this.state.control !== "granted" || target === null) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return; // no shortcuts into the customer's tab
    if (e.key.length === 1) {
      e.preventDefault();
      this.input({ action: "type", target, text: e.key });
    } else if (KEYS.has(e.key)) {
      e.preventDefault();
      this.input({ action: "key", target, key: e.key as CobrowseInputMsg["key"] & string });
    }
  };

  private readonly onMirrorLoad = (e: Event): void => {
    this.mirrorDoc = (e.target as HTMLIFrameElement).contentDocument;
    this.resync(); // the page so far went by before we could draw it
  };

  // ------------------------------------------------------------------ rendering
  protected override updated(changed: PropertyValues): void {
    if (changed.has("state")) {
      const before = changed.get("state") as CobrowseState | undefined;
      if (this.state.phase !== "started" && before?.phase === "started") this.teardown();
      if (this.state.control !== "granted") this.focusedTarget = null;
    }
    if (!this.resizeObserver) {
      const box = this.renderRoot.querySelector(".stage-box");
      if (box) {
        this.resizeObserver = new ResizeObserver(() => this.fit());
        this.resizeObserver.observe(box);
      }
    }
  }

  private statusText(): string {
    const s = this.state;
    const name = this.name;
    if (s.phase === "requested") return tcb("asked", { name });
    if (s.phase === "started") {
      if (s.control === "granted") return tcb("controlActive", { name });
      if (s.control === "requested") return tcb("controlAsked", { name });
      return this.live ? tcb("live", { name }) : tcb("waiting");
    }
    if (s.last === "declined") return tcb("declined", { name });
    if (s.last === "customer") return tcb("endedCustomer", { name });
    if (s.last === "conversation_ended") return tcb("endedConversation");
    if (s.last === "transferred") return tcb("endedTransferred");
    if (s.last === "adviser") return tcb("endedAdviser");
    return "";
  }

  override render() {
    const s = this.state;
    const started = s.phase === "started";
    const w = Math.round(this.viewport.width * this.scale);
    const h = Math.round(this.viewport.height * this.scale);
    const control = started && s.control === "granted";
    return html`<section aria-label=${tcb("region")} data-testid="cobrowse">
      <div class="bar">
        <p
          class="status"
          role="status"
          aria-live="polite"
          data-testid="cobrowse-status"
          data-phase=${s.phase}
          data-control=${s.control}
        >
          ${this.statusText()}
        </p>
        ${
          s.phase === "idle"
            ? html`<button
                type="button"
                class="secondary"
                data-testid="cobrowse-ask"
                aria-label=${tcb("askLabel", { name: this.name })}
                @click=${() => this.step("cobrowse.request")}
              >
                ${tcb("ask")}
              </button>`
            : nothing
        }
        ${
          started && s.control === "none"
            ? html`<button
                type="button"
                class="secondary"
                data-testid="cobrowse-control"
                @click=${() => this.step("cobrowse.control_request")}
              >
                ${tcb("askControl")}
              </button>`
            : nothing
        }
        ${
          started
            ? html`<button
                type="button"
                class="secondary"
                aria-label=${tcb("resyncLabel")}
                @click=${() => this.resync()}
              >
                ${tcb("resync")}
              </button>`
            : nothing
        }
        ${
          s.phase !== "idle"
            ? html`<button
                type="button"
                class="danger"
                data-testid="cobrowse-end"
                @click=${() => this.step("cobrowse.end")}
              >
                ${s.phase === "requested" ? tcb("withdraw") : tcb("end")}
              </button>`
            : nothing
        }
      </div>
      ${
        started
          ? html`<div class="stage-box">
              <div class="stage" data-testid="cobrowse-stage">
                <iframe
                  src="/console/mirror"
                  title=${tcb("mirrorLabel", { name: this.name })}
                  width=${w || 1}
                  height=${h || 1}
                  @load=${this.onMirrorLoad}
                ></iframe>
                <div
                  class="overlay ${control ? "control" : ""}"
                  tabindex="0"
                  role="application"
                  aria-label=${tcb("mirrorLabel", { name: this.name })}
                  @mousemove=${this.onMove}
                  @mouseleave=${this.onLeave}
                  @click=${this.onClick}
                  @wheel=${this.onWheel}
                  @keydown=${this.onKey}
                >
                  ${this.placeholders.map(
                    (p) =>
                      html`<div
                        class="placeholder"
                        data-testid="cobrowse-placeholder"
                        .style=${`left:${p.left}px;top:${p.top}px;width:${p.width}px;height:${p.height}px`}
                      >
                        ${tcb("notMirrored", { what: p.what })}
                      </div>`,
                  )}
                </div>
              </div>
            </div>`
          : nothing
      }
    </section>`;
  }
}
customElements.define("vv-cobrowse-view", CobrowseView);
