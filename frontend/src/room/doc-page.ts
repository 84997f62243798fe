// One page of a document on the stage: the rendered page image in a scrollable,
// zoomable viewport, its annotations drawn over it in page fractions (so they match at
// any size), the other side's pointers as labelled dots, and drawing with the chosen
// tool. It says what the user does (`vv-scroll`, `vv-pointer`, `vv-draw`); what follows
// from it (sending, following) is the stage's business (doc-stage.ts).
import { css, html, nothing, svg, type PropertyValues } from "lit";
import { cspStyle } from "./csp-style";
import { I18nElement } from "../lib/base";
import { base } from "../lib/styles";
import { td } from "./doc-strings";
import { clamp01, scrollFraction, snapWidth, thinPoints } from "./pace";
import type { Annotation, Color, DocumentInfo, Tool } from "./stage-state";

export type Mode = Tool | "point";
export type Point = [number, number];

export interface RemotePointer {
  key: string;
  name: string;
  role: string;
  x: number;
  y: number;
}

export interface SignBox {
  signer: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DrawDetail {
  tool: Tool;
  color: Color;
  points: Point[];
  text: string | null;
}

export interface ScrollTarget {
  x: number;
  y: number;
}

/** Drawn in a viewBox 1000 wide, so widths are in thousandths of the page width. */
const VIEW_W = 1000;
export const COLOR_VALUES: Record<Color, string> = {
  red: "#d62828",
  yellow: "#f2b705",
  blue: "#1f6feb",
  green: "#2a9d3f",
  black: "#111111",
};
/** A scroll within this long after the user touched the viewport is theirs. */
const INTENT_MS = 800;

export class DocPage extends I18nElement {
  static override properties = {
    doc: { attribute: false },
    page: { type: Number },
    zoom: { type: Number },
    fit: { type: Boolean },
    scrollTarget: { attribute: false },
    annotations: { attribute: false },
    pointers: { attribute: false },
    boxes: { attribute: false },
    mode: { type: String },
    color: { type: String },
    urlFor: { attribute: false },
    src: { state: true },
    failed: { state: true },
    loaded: { state: true },
    width: { state: true },
    height: { state: true },
    stroke: { state: true },
    textAt: { state: true },
  };
  declare doc: DocumentInfo | null;
  declare page: number;
  declare zoom: number;
  /** The whole page in view (smaller than the width allows when the page is tall). */
  declare fit: boolean;
  /** Where to scroll to (a new object each time it should be applied). */
  declare scrollTarget: ScrollTarget | null;
  declare annotations: readonly Annotation[];
  declare pointers: readonly RemotePointer[];
  /** Signature boxes to highlight (fractions of the page, top-left origin). */
  declare boxes: readonly SignBox[];
  declare mode: Mode;
  declare color: Color;
  /** The page image's URL (with a fresh access token when `fresh`). */
  declare urlFor: ((page: number, width: number, fresh: boolean) => Promise<string>) | null;
  declare src: string;
  declare failed: boolean;
  declare loaded: boolean;
  /** The viewport's inner width (CSS px). */
  declare width: number;
  /** The viewport's inner height (CSS px), for "whole page". */
  declare height: number;
  /** The stroke being drawn. */
  declare stroke: Point[] | null;
  /** Where the text being typed goes. */
  declare textAt: Point | null;

  private wanted = "";
  private retried = false;
  private intentAt = 0;
  private observer: ResizeObserver | null = null;

  constructor() {
    super();
    this.doc = null;
    this.page = 0;
    this.zoom = 1;
    this.fit = false;
    this.scrollTarget = null;
    this.annotations = [];
    this.pointers = [];
    this.boxes = [];
    this.mode = "point";
    this.color = "red";
    this.urlFor = null;
    this.src = "";
    this.failed = false;
    this.loaded = false;
    this.width = 0;
    this.height = 0;
    this.stroke = null;
    this.textAt = null;
  }

  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        position: relative;
      }
      .viewport {
        overflow: auto;
        flex: 1 1 0;
        min-height: 0;
        background: #5b6470;
        overscroll-behavior: contain;
      }
      .page {
        position: relative;
        margin: 0 auto;
        background: #fff;
        touch-action: pan-x pan-y;
        user-select: none;
      }
      .page.drawing {
        touch-action: none;
        cursor: crosshair;
      }
      .page.texting {
        cursor: text;
      }
      img,
      svg.marks {
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
      }
      img {
        display: block;
      }
      img.stale {
        opacity: 0.5;
      }
      svg.marks {
        pointer-events: none;
      }
      .sign-box {
        position: absolute;
        box-sizing: border-box;
        border: 3px solid #f4a100;
        background: rgb(255 214 0 / 0.3);
        color: #5c3a00;
        font-size: 0.8rem;
        font-weight: 600;
        padding: 0.1rem 0.3rem;
        pointer-events: none;
      }
      .dot {
        position: absolute;
        width: 16px;
        height: 16px;
        margin: -8px 0 0 -8px;
        border-radius: 50%;
        background: #e63946;
        border: 2px solid #fff;
        box-shadow: 0 0 0 2px rgb(0 0 0 / 0.35);
        pointer-events: none;
        transition:
          left 60ms linear,
          top 60ms linear;
      }
      .dot.adviser {
        background: #1f6feb;
      }
      .dot span {
        position: absolute;
        left: 14px;
        top: 10px;
        white-space: nowrap;
        font-size: 0.8rem;
        background: rgb(0 0 0 / 0.75);
        color: #fff;
        padding: 0.1rem 0.35rem;
        border-radius: 4px;
      }
      form.text {
        position: absolute;
        display: flex;
        gap: 0.25rem;
        z-index: 2;
        background: #fff;
        padding: 0.25rem;
        border-radius: 6px;
        box-shadow: 0 2px 8px rgb(0 0 0 / 0.3);
      }
      form.text input {
        width: 14rem;
      }
      .failed {
        position: absolute;
        inset: 0;
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
        align-items: center;
        justify-content: center;
        background: rgb(255 255 255 / 0.9);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.observer = new ResizeObserver(() => this.measure());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
    this.observer = null;
  }

  protected override firstUpdated(): void {
    const vp = this.viewport;
    if (vp) this.observer?.observe(vp);
    this.measure();
  }

  private get viewport(): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>(".viewport");
  }

  private measure(): void {
    const w = this.viewport?.clientWidth ?? 0;
    if (w > 0 && Math.abs(w - this.width) >= 1) this.width = w;
    const h = this.viewport?.clientHeight ?? 0;
    if (h > 0 && Math.abs(h - this.height) >= 1) this.height = h;
  }

  private get ratio(): number {
    const size = this.doc?.pages[this.page];
    return size ? size.h / size.w : 1.4142;
  }

  private get pageWidth(): number {
    if (this.fit && this.height > 0)
      return Math.max(1, Math.min(this.width, Math.floor(this.height / this.ratio)));
    return Math.max(1, Math.round(this.width * this.zoom));
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("doc") || changed.has("page")) {
      this.stroke = null;
      this.textAt = null;
    }
    if (!this.doc || this.width <= 0 || !this.urlFor) return;
    const w = snapWidth(this.pageWidth, window.devicePixelRatio);
    const key = `${this.doc.id}#${this.page}@${w}`;
    if (key === this.wanted) return;
    const samePage = this.wanted.startsWith(`${this.doc.id}#${this.page}@`);
    this.wanted = key;
    this.retried = false;
    this.failed = false;
    // A sharper copy of the same page replaces it when loaded; another page shows as loading.
    if (!samePage) this.loaded = false;
    void this.load(key, w, false);
  }

  private async load(key: string, width: number, fresh: boolean): Promise<void> {
    const urlFor = this.urlFor;
    if (!urlFor) return;
    const page = this.page;
    try {
      const url = await urlFor(page, width, fresh);
      if (this.wanted === key) this.src = url;
    } catch {
      if (this.wanted === key) this.failed = true;
    }
  }

  private onLoad(): void {
    this.loaded = true;
    this.failed = false;
    // The next page is likely next: fetch it into the browser's cache now.
    const doc = this.doc;
    const urlFor = this.urlFor;
    if (doc && urlFor && this.page + 1 < doc.pages.length) {
      const w = snapWidth(this.pageWidth, window.devicePixelRatio);
      void urlFor(this.page + 1, w, false).then(
        (u) => void (new Image().src = u),
        () => undefined,
      );
    }
  }

  private onError(): void {
    // Most likely an expired token (a tab asleep for a while): once more with a new one.
    if (!this.retried) {
      this.retried = true;
      const w = snapWidth(this.pageWidth, window.devicePixelRatio);
      void this.load(this.wanted, w, true);
      return;
    }
    this.failed = true;
  }

  private retry(): void {
    this.wanted = "";
    this.requestUpdate();
  }

  protected override updated(changed: PropertyValues<this>): void {
    const vp = this.viewport;
    const target = this.scrollTarget;
    if (vp && target && (changed.has("scrollTarget") || changed.has("zoom"))) {
      vp.scrollLeft = target.x * Math.max(0, vp.scrollWidth - vp.clientWidth);
      vp.scrollTop = target.y * Math.max(0, vp.scrollHeight - vp.clientHeight);
    }
    if (changed.has("textAt") && this.textAt)
      this.renderRoot.querySelector<HTMLInputElement>("form.text input")?.focus();
  }

  /** The viewport's scroll position as fractions (what `doc.view` carries). */
  scrollPosition(): ScrollTarget {
    const vp = this.viewport;
    if (!vp) return { x: 0, y: 0 };
    return {
      x: scrollFraction(vp.scrollLeft, vp.scrollWidth, vp.clientWidth),
      y: scrollFraction(vp.scrollTop, vp.scrollHeight, vp.clientHeight),
    };
  }

  /** Focus the page (keyboard: arrows scroll, the stage turns pages). */
  override focus(): void {
    this.viewport?.focus();
  }

  // ------------------------------------------------------------------ input
  private readonly intent = (): void => {
    this.intentAt = performance.now();
  };

  private onScroll(): void {
    // Scrolls the stage made (following the presenter) are not the user's.
    if (performance.now() - this.intentAt > INTENT_MS) return;
    this.emit("vv-scroll", this.scrollPosition());
  }

  private onViewportKey(e: KeyboardEvent): void {
    this.intent();
    if (e.key === "Enter" && this.mode === "text" && !this.textAt && e.target === this.viewport) {
      // Keyboard users put text in the middle of what they see.
      e.preventDefault();
      const vp = this.viewport;
      if (!vp) return;
      const pageH = this.pageWidth * this.ratio;
      this.textAt = [
        clamp01((vp.scrollLeft + vp.clientWidth / 2) / this.pageWidth),
        clamp01((vp.scrollTop + vp.clientHeight / 2) / pageH),
      ];
    }
  }

  private frac(e: PointerEvent): Point {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return [
      clamp01((e.clientX - rect.left) / Math.max(1, rect.width)),
      clamp01((e.clientY - rect.top) / Math.max(1, rect.height)),
    ];
  }

  private onDown(e: PointerEvent): void {
    this.intent();
    if (this.mode === "point" || this.mode === "text" || e.button > 0) return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this.stroke = [this.frac(e)];
  }

  private onMove(e: PointerEvent): void {
    const p = this.frac(e);
    this.emit("vv-pointer", { x: p[0], y: p[1], visible: true });
    const s = this.stroke;
    if (!s) return;
    const last = s[s.length - 1];
    if (last && Math.hypot(p[0] - last[0], p[1] - last[1]) < 0.002) return;
    this.stroke = this.mode === "arrow" ? [s[0] ?? p, p] : [...s, p];
  }

  private onUp(e: PointerEvent): void {
    if (this.mode === "text") {
      if (e.button === 0 && !this.textAt) this.textAt = this.frac(e);
      return;
    }
    const s = this.stroke;
    this.stroke = null;
    if (!s || this.mode === "point") return;
    const tool = this.mode;
    const points = tool === "arrow" ? [s[0] ?? [0, 0], s[s.length - 1] ?? [0, 0]] : thinPoints(s);
    // A click without a move still marks a spot (a dot, or an arrow of no length).
    this.emit<DrawDetail>("vv-draw", {
      tool,
      color: this.color,
      points: points.map(round),
      text: null,
    });
  }

  private onLeave(): void {
    this.emit("vv-pointer", { x: 0, y: 0, visible: false });
  }

  private submitText(e: SubmitEvent): void {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).querySelector("input");
    const text = input?.value.trim().slice(0, 200) ?? "";
    const at = this.textAt;
    this.textAt = null;
    if (!text || !at) return;
    this.emit<DrawDetail>("vv-draw", {
      tool: "text",
      color: this.color,
      points: [round(at)],
      text,
    });
    this.focus();
  }

  private onTextKey(e: KeyboardEvent): void {
    if (e.key === "Escape") {
      e.stopPropagation();
      this.textAt = null;
      this.focus();
    }
  }

  // ------------------------------------------------------------------ drawing
  private renderMark(a: Pick<Annotation, "tool" | "color" | "points" | "text">, h: number) {
    const c = COLOR_VALUES[a.color];
    const pts = a.points.map(([x, y]) => `${(x * VIEW_W).toFixed(1)},${(y * h).toFixed(1)}`);
    switch (a.tool) {
      case "pen":
      case "highlighter": {
        const hl = a.tool === "highlighter";
        const line = pts.length === 1 ? [pts[0], pts[0]] : pts;
        return svg`<polyline points=${line.join(" ")} fill="none" stroke=${c}
          stroke-width=${hl ? 22 : 4} stroke-opacity=${hl ? 0.35 : 1}
          stroke-linecap="round" stroke-linejoin="round"></polyline>`;
      }
      case "arrow": {
        const [x1, y1] = a.points[0] ?? [0, 0];
        const [x2, y2] = a.points[a.points.length - 1] ?? [0, 0];
        const ax = x1 * VIEW_W;
        const ay = y1 * h;
        const bx = x2 * VIEW_W;
        const by = y2 * h;
        const len = Math.hypot(bx - ax, by - ay) || 1;
        const ux = (bx - ax) / len;
        const uy = (by - ay) / len;
        const head = `${bx},${by} ${bx - 22 * ux + 10 * uy},${by - 22 * uy - 10 * ux} ${bx - 22 * ux - 10 * uy},${by - 22 * uy + 10 * ux}`;
        return svg`<line x1=${ax} y1=${ay} x2=${bx} y2=${by} stroke=${c} stroke-width="5"
          stroke-linecap="round"></line><polygon points=${head} fill=${c}></polygon>`;
      }
      case "text": {
        const [x, y] = a.points[0] ?? [0, 0];
        return svg`<text x=${x * VIEW_W} y=${y * h} fill=${c} font-size="28" font-weight="600"
          dominant-baseline="middle" stroke="#fff" stroke-width="5" paint-order="stroke"
          font-family="system-ui, sans-serif">${a.text ?? ""}</text>`;
      }
    }
  }

  private renderMarks() {
    const h = VIEW_W * this.ratio;
    const live = this.stroke;
    const mode = this.mode;
    return svg`<svg class="marks" viewBox="0 0 ${VIEW_W} ${h}" aria-hidden="true">
      ${this.annotations.map(
        (a) =>
          svg`<g data-testid="annotation" data-id=${a.id} data-tool=${a.tool}>${this.renderMark(a, h)}</g>`,
      )}
      ${live && mode !== "point" && mode !== "text" ? this.renderMark({ tool: mode, color: this.color, points: live, text: null }, h) : nothing}
    </svg>`;
  }

  override render() {
    const doc = this.doc;
    if (!doc) return nothing;
    const w = this.pageWidth;
    const h = Math.round(w * this.ratio);
    const mode = this.mode;
    const label = td("pagePicture", { name: doc.name, page: this.page + 1 });
    return html`<div
      class="viewport"
      tabindex="0"
      role="region"
      aria-label=${label}
      @scroll=${this.onScroll}
      @wheel=${this.intent}
      @touchstart=${this.intent}
      @pointerdown=${this.intent}
      @keydown=${this.onViewportKey}
    >
      <div
        class="page ${mode === "point" ? "" : mode === "text" ? "texting" : "drawing"}"
        style=${cspStyle({ width: `${w}px`, height: `${h}px` })}
        data-testid="doc-surface"
        @pointerdown=${this.onDown}
        @pointermove=${this.onMove}
        @pointerup=${this.onUp}
        @pointercancel=${() => (this.stroke = null)}
        @pointerleave=${this.onLeave}
      >
        ${
          this.src
            ? html`<img
                src=${this.src}
                alt=${label}
                draggable="false"
                class=${this.loaded ? "" : "stale"}
                data-testid="doc-page"
                data-document-id=${doc.id}
                data-page=${this.page}
                data-loaded=${this.loaded ? "yes" : "no"}
                @load=${this.onLoad}
                @error=${this.onError}
              />`
            : nothing
        }
        ${this.renderMarks()}
        ${this.boxes.map(
          (b) =>
            html`<div
              class="sign-box ${b.signer}"
              data-testid="sign-spot"
              style=${cspStyle({
                left: `${b.x * 100}%`,
                top: `${b.y * 100}%`,
                width: `${b.width * 100}%`,
                height: `${b.height * 100}%`,
              })}
              role="img"
              aria-label=${td("signHere")}
            >
              <span aria-hidden="true">${td("signHere")}</span>
            </div>`,
        )}
        ${this.pointers.map(
          (p) =>
            html`<div
              class="dot ${p.role}"
              data-testid="remote-pointer"
              data-x=${p.x.toFixed(3)}
              data-y=${p.y.toFixed(3)}
              style=${cspStyle({ left: `${p.x * 100}%`, top: `${p.y * 100}%` })}
              role="img"
              aria-label=${td("pointerOf", { name: p.name })}
            >
              <span aria-hidden="true">${p.name}</span>
            </div>`,
        )}
        ${
          this.textAt
            ? html`<form
                class="text"
                style=${cspStyle({
                  left: `${Math.min(this.textAt[0], 0.6) * 100}%`,
                  top: `${this.textAt[1] * 100}%`,
                })}
                @submit=${this.submitText}
                @keydown=${this.onTextKey}
                @pointerdown=${(e: Event) => e.stopPropagation()}
                @pointerup=${(e: Event) => e.stopPropagation()}
              >
                <input
                  aria-label=${td("textLabel")}
                  maxlength="200"
                  required
                  data-testid="annotation-text"
                />
                <button type="submit">${td("textAdd")}</button>
              </form>`
            : nothing
        }
        ${
          this.failed
            ? html`<div class="failed" role="alert">
                <p>${td("loadFailed")}</p>
                <button type="button" @click=${this.retry}>${td("retry")}</button>
              </div>`
            : nothing
        }
      </div>
    </div>`;
  }
}

function round(p: readonly [number, number]): Point {
  return [Math.round(p[0] * 10000) / 10000, Math.round(p[1] * 10000) / 10000];
}

customElements.define("vv-doc-page", DocPage);
