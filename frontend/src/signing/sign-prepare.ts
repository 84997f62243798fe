// <vv-sign-prepare>: the adviser places where each signer signs — drags a box on a
// page of the shown PDF (pointer: mouse, pen, touch), or uses the PDF's own signature
// fields. Keyboard: each box is focusable; arrow keys move it, Shift+arrows resize it.
// It says `vv-sign-request` with the spots; `vv-sign-close` to leave.
import { css, html, nothing } from "lit";
import { I18nElement } from "../lib/base";
import type { SpotIn } from "../lib/protocol.gen";
import type { DocumentInfo } from "../room/stage-state";
import { base } from "../lib/styles";
import { cspStyle } from "../room/csp-style";
import type { Side } from "./sign-state";
import { ts } from "./strings";

export interface RequestDetail {
  adviserSigns: boolean;
  usePdfFields: boolean;
  spots: SpotIn[];
}

const STEP = 0.01;
const MIN_W = 0.08;
const MIN_H = 0.03;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
const r4 = (v: number) => Math.round(v * 10000) / 10000;

export function defaultBox(signer: Side, page: number): SpotIn {
  return {
    signer,
    page,
    x: signer === "customer" ? 0.08 : 0.54,
    y: 0.8,
    width: 0.38,
    height: 0.08,
  };
}

export class SignPrepare extends I18nElement {
  static override properties = {
    doc: { attribute: false },
    page: { type: Number },
    urlFor: { attribute: false },
    busy: { type: Boolean },
    adviserSigns: { state: true },
    usePdfFields: { state: true },
    placing: { state: true },
    boxes: { state: true },
    src: { state: true },
    drag: { state: true },
  };
  declare doc: DocumentInfo | null;
  declare page: number;
  declare urlFor: ((page: number, width: number, fresh: boolean) => Promise<string>) | null;
  declare busy: boolean;
  declare adviserSigns: boolean;
  declare usePdfFields: boolean;
  declare placing: Side;
  declare boxes: readonly SpotIn[];
  declare src: string;
  declare drag: { x0: number; y0: number; x1: number; y1: number } | null;

  private shownPage = -1;

  constructor() {
    super();
    this.doc = null;
    this.page = 0;
    this.urlFor = null;
    this.busy = false;
    this.adviserSigns = false;
    this.usePdfFields = false;
    this.placing = "customer";
    this.boxes = [];
    this.src = "";
    this.drag = null;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .sheet {
        position: relative;
        width: min(100%, 32rem);
        background: #fff;
        box-shadow: 0 1px 4px rgb(0 0 0 / 0.25);
        touch-action: none;
        cursor: crosshair;
        user-select: none;
      }
      .sheet img {
        display: block;
        width: 100%;
        pointer-events: none;
      }
      .box {
        position: absolute;
        border: 2px solid #0b57a4;
        background: rgb(11 87 164 / 0.15);
        font-size: 0.75rem;
        color: #0b3d73;
        overflow: hidden;
        box-sizing: border-box;
      }
      .box.adviser {
        border-color: #8a4b00;
        background: rgb(138 75 0 / 0.15);
        color: #5c3200;
      }
      .box:focus-visible {
        outline: 3px solid #000;
      }
      .drag {
        position: absolute;
        border: 2px dashed #000;
        pointer-events: none;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: center;
        margin: 0.4rem 0;
      }
      [aria-pressed="true"] {
        outline: 2px solid #0b57a4;
      }
    `,
  ];

  override willUpdate(): void {
    if (this.boxes.length === 0 && this.doc) this.boxes = [defaultBox("customer", this.page)];
    if (this.shownPage !== this.page && this.urlFor) {
      this.shownPage = this.page;
      const page = this.page;
      this.urlFor(page, 800, false).then(
        (u) => {
          if (this.page === page) this.src = u;
        },
        () => (this.src = ""),
      );
    }
  }

  private get signers(): Side[] {
    return this.adviserSigns ? ["customer", "adviser"] : ["customer"];
  }

  private who(s: Side): string {
    return ts(s);
  }

  private frac(e: PointerEvent): [number, number] {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return [clamp((e.clientX - r.left) / Math.max(1, r.width), 0, 1),
            clamp((e.clientY - r.top) / Math.max(1, r.height), 0, 1)]; // prettier-ignore
  }

  private onDown(e: PointerEvent): void {
    if (e.button > 0 || this.usePdfFields || (e.target as HTMLElement).classList.contains("box"))
      return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    const [x, y] = this.frac(e);
    this.drag = { x0: x, y0: y, x1: x, y1: y };
  }

  private onMove(e: PointerEvent): void {
    if (!this.drag) return;
    const [x, y] = this.frac(e);
    this.drag = { ...this.drag, x1: x, y1: y };
  }

  private onUp(): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    let width = Math.abs(d.x1 - d.x0);
    let height = Math.abs(d.y1 - d.y0);
    // a click (no drag) places a box of the usual size there
    if (width < 0.03 && height < 0.02) {
      width = 0.38;
      height = 0.08;
    }
    width = clamp(width, MIN_W, 0.9);
    height = clamp(height, MIN_H, 0.9);
    const x = clamp(Math.min(d.x0, d.x1), 0, 1 - width);
    const y = clamp(Math.min(d.y0, d.y1), 0, 1 - height);
    this.setBox({
      signer: this.placing,
      page: this.page,
      x: r4(x),
      y: r4(y),
      width: r4(width),
      height: r4(height),
    });
  }

  private setBox(b: SpotIn): void {
    this.boxes = [...this.boxes.filter((x) => x.signer !== b.signer), b];
  }

  private onBoxKey(e: KeyboardEvent, b: SpotIn): void {
    const dx = e.key === "ArrowLeft" ? -STEP : e.key === "ArrowRight" ? STEP : 0;
    const dy = e.key === "ArrowUp" ? -STEP : e.key === "ArrowDown" ? STEP : 0;
    if (!dx && !dy) return;
    e.preventDefault();
    const next = { ...b };
    if (e.shiftKey) {
      next.width = r4(clamp(b.width + dx, MIN_W, 0.9 - 0));
      next.height = r4(clamp(b.height + dy, MIN_H, 0.9));
      next.width = Math.min(next.width, r4(1 - b.x));
      next.height = Math.min(next.height, r4(1 - b.y));
    } else {
      next.x = r4(clamp(b.x + dx, 0, 1 - b.width));
      next.y = r4(clamp(b.y + dy, 0, 1 - b.height));
    }
    this.setBox(next);
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>(`.box.${b.signer}`)?.focus(),
    );
  }

  private toggleAdviser(on: boolean): void {
    this.adviserSigns = on;
    if (on && !this.boxes.some((b) => b.signer === "adviser"))
      this.setBox(defaultBox("adviser", this.page));
    if (!on) {
      this.boxes = this.boxes.filter((b) => b.signer !== "adviser");
      this.placing = "customer";
    }
  }

  private turn(d: number): void {
    const pages = this.doc?.pages.length ?? 1;
    this.page = clamp(this.page + d, 0, pages - 1);
  }

  private send(): void {
    const spots = this.usePdfFields
      ? []
      : this.boxes.filter((b) => this.signers.includes(b.signer));
    const detail: RequestDetail = {
      adviserSigns: this.adviserSigns,
      usePdfFields: this.usePdfFields,
      spots,
    };
    this.dispatchEvent(
      new CustomEvent("vv-sign-request", { detail, bubbles: true, composed: true }),
    );
  }

  private renderBox(b: SpotIn) {
    if (b.page !== this.page) return nothing;
    const label = ts("boxOf", { who: this.who(b.signer) });
    return html`<div
      class="box ${b.signer}"
      tabindex="0"
      role="img"
      aria-label=${label}
      data-testid="sign-box-${b.signer}"
      style=${cspStyle({ left: `${b.x * 100}%`, top: `${b.y * 100}%`, width: `${b.width * 100}%`, height: `${b.height * 100}%` })}
      @keydown=${(e: KeyboardEvent) => this.onBoxKey(e, b)}
    >
      ${this.who(b.signer)}
    </div>`;
  }

  override render() {
    const doc = this.doc;
    if (!doc) return nothing;
    const pages = doc.pages.length;
    const size = doc.pages[this.page] ?? { w: 595, h: 842 };
    const d = this.drag;
    return html`<section aria-label=${ts("prepareTitle")} data-testid="sign-prepare">
      <h3>${ts("prepareTitle")}</h3>
      <div class="row">
        <label
          ><input
            type="checkbox"
            data-testid="sign-adviser-too"
            .checked=${this.adviserSigns}
            @change=${(e: Event) => this.toggleAdviser((e.target as HTMLInputElement).checked)}
          />
          ${ts("adviserSigns")}</label
        >
        <label
          ><input
            type="checkbox"
            data-testid="sign-pdf-fields"
            .checked=${this.usePdfFields}
            @change=${(e: Event) => (this.usePdfFields = (e.target as HTMLInputElement).checked)}
          />
          ${ts("usePdfFields")}</label
        >
      </div>
      ${
        this.usePdfFields
          ? nothing
          : html`<p class="muted" id="place-hint">${ts("placeHint")}</p>
              <div class="row" role="group" aria-label=${ts("placeFor", { who: "" })}>
                ${this.signers.map(
                  (s) =>
                    html`<button
                      type="button"
                      class="secondary"
                      aria-pressed=${this.placing === s ? "true" : "false"}
                      @click=${() => (this.placing = s)}
                    >
                      ${ts("placeFor", { who: this.who(s) })}
                    </button>`,
                )}
              </div>
              <div class="row">
                <button
                  type="button"
                  class="secondary"
                  ?disabled=${this.page <= 0}
                  @click=${() => this.turn(-1)}
                  aria-label="◀"
                >
                  ◀
                </button>
                <span aria-live="polite">${ts("pageOf", { page: this.page + 1, pages })}</span>
                <button
                  type="button"
                  class="secondary"
                  ?disabled=${this.page >= pages - 1}
                  @click=${() => this.turn(1)}
                  aria-label="▶"
                >
                  ▶
                </button>
              </div>
              <div
                class="sheet"
                data-testid="sign-sheet"
                aria-describedby="place-hint"
                style=${cspStyle({ "aspect-ratio": `${size.w} / ${size.h}` })}
                @pointerdown=${this.onDown}
                @pointermove=${this.onMove}
                @pointerup=${this.onUp}
                @pointercancel=${() => (this.drag = null)}
              >
                ${this.src ? html`<img src=${this.src} alt="" />` : nothing}
                ${this.boxes.map((b) => this.renderBox(b))}
                ${
                  d
                    ? html`<div
                        class="drag"
                        style=${cspStyle({
                          left: `${Math.min(d.x0, d.x1) * 100}%`,
                          top: `${Math.min(d.y0, d.y1) * 100}%`,
                          width: `${Math.abs(d.x1 - d.x0) * 100}%`,
                          height: `${Math.abs(d.y1 - d.y0) * 100}%`,
                        })}
                      ></div>`
                    : nothing
                }
              </div>`
      }
      <div class="row">
        <button
          type="button"
          data-testid="sign-send"
          ?disabled=${this.busy}
          aria-busy=${this.busy ? "true" : "false"}
          @click=${this.send}
        >
          ${ts("send")}
        </button>
        <button
          type="button"
          class="secondary"
          @click=${() => this.dispatchEvent(new CustomEvent("vv-sign-close", { bubbles: true, composed: true }))}
        >
          ${ts("cancel")}
        </button>
      </div>
    </section>`;
  }
}
customElements.define("vv-sign-prepare", SignPrepare);

declare global {
  interface HTMLElementTagNameMap {
    "vv-sign-prepare": SignPrepare;
  }
}
