// <vv-sign-pad>: the signer's panel — draw (pointer events: touch, pen, mouse) or
// type the name (rendered to a PNG here, in the browser), tick the consent with the
// server's versioned text, then "Unterschreiben". It says `vv-sign` with the PNG; the
// panel sends it. Black strokes on a transparent background, at most 800x300 px.
import { css, html, nothing } from "lit";
import { api } from "../lib/api";
import { I18nElement } from "../lib/base";
import { lang } from "../lib/i18n";
import type { ConsentText } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { ts } from "./strings";

export interface SignDetail {
  method: "drawn" | "typed";
  pngBase64: string;
  typedName: string | null;
  consentVersion: string;
}

const OUT_W = 800;
const OUT_H = 300;

let consentLoad: Promise<ConsentText> | null = null;
function loadConsent(): Promise<ConsentText> {
  consentLoad ??= api<ConsentText>("GET", "/api/v1/signing/consent").catch((err: unknown) => {
    consentLoad = null;
    throw err;
  });
  return consentLoad;
}

function toBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () =>
      resolve((typeof r.result === "string" ? r.result : "").replace(/^data:[^,]*,/u, ""));
    r.onerror = () => reject(new Error("read"));
    r.readAsDataURL(blob);
  });
}

function canvasPng(c: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    c.toBlob((b) => (b ? resolve(b) : reject(new Error("png"))), "image/png"),
  );
}

export class SignPad extends I18nElement {
  static override properties = {
    busy: { type: Boolean },
    docName: { type: String },
    method: { state: true },
    consent: { state: true },
    consentOk: { state: true },
    typed: { state: true },
    drawn: { state: true },
    problem: { state: true },
  };
  declare busy: boolean;
  declare docName: string;
  declare method: "drawn" | "typed";
  declare consent: ConsentText | null;
  declare consentOk: boolean;
  declare typed: string;
  declare drawn: boolean;
  declare problem: string;

  private strokes: [number, number][][] = [];
  private current: [number, number][] | null = null;

  constructor() {
    super();
    this.busy = false;
    this.docName = "";
    this.method = "drawn";
    this.consent = null;
    this.consentOk = false;
    this.typed = "";
    this.drawn = false;
    this.problem = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .tabs {
        display: flex;
        gap: 0.4rem;
        margin: 0.4rem 0;
      }
      .tabs button[aria-pressed="true"] {
        outline: 2px solid #0b57a4;
      }
      canvas {
        display: block;
        width: 100%;
        max-width: 40rem;
        aspect-ratio: 8 / 3;
        background: #fff;
        border: 2px dashed #5b6b7b;
        border-radius: 6px;
        touch-action: none; /* drawing, not scrolling */
        cursor: crosshair;
      }
      canvas:focus-visible {
        outline: 3px solid #0b57a4;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        margin-top: 0.5rem;
        align-items: center;
      }
      input[type="text"] {
        width: 100%;
        max-width: 40rem;
        font-size: 1.2rem;
      }
      .consent {
        display: flex;
        gap: 0.5rem;
        align-items: flex-start;
        margin-top: 0.6rem;
        max-width: 40rem;
      }
      .consent input {
        margin-top: 0.25rem;
        width: 1.3rem;
        height: 1.3rem;
        flex: none;
      }
      .kind {
        font-size: 0.85rem;
        color: #4a5560;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    loadConsent().then(
      (c) => (this.consent = c),
      () => (this.problem = "network"),
    );
  }

  private get canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector("canvas");
  }

  /** Where a pointer event is on the canvas, as fractions (coalesced events have no
   * currentTarget: the canvas's box is taken once per event batch). */
  private point(e: PointerEvent, r: DOMRect): [number, number] {
    return [
      Math.min(1, Math.max(0, (e.clientX - r.left) / Math.max(1, r.width))),
      Math.min(1, Math.max(0, (e.clientY - r.top) / Math.max(1, r.height))),
    ];
  }

  private onDown(e: PointerEvent): void {
    if (this.busy || e.button > 0) return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    const canvas = e.currentTarget as HTMLCanvasElement;
    this.current = [this.point(e, canvas.getBoundingClientRect())];
    this.strokes.push(this.current);
    this.paint();
  }

  private onMove(e: PointerEvent): void {
    if (!this.current) return;
    e.preventDefault();
    // coalesced events: a fast finger gives a smooth line
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const events = e.getCoalescedEvents?.() ?? [e];
    for (const ev of events.length ? events : [e]) this.current.push(this.point(ev, r));
    this.paint();
  }

  private onUp(): void {
    if (!this.current) return;
    this.current = null;
    this.drawn = this.strokes.some((s) => s.length > 1);
  }

  private clear(): void {
    this.strokes = [];
    this.current = null;
    this.drawn = false;
    this.paint();
  }

  /** Draw the strokes into a canvas of w x h pixels. */
  private drawInto(c: HTMLCanvasElement, w: number, h: number): void {
    c.width = w;
    c.height = h;
    const g = c.getContext("2d");
    if (!g) return;
    g.clearRect(0, 0, w, h);
    g.strokeStyle = "#0a1a3a";
    g.lineWidth = Math.max(2, w / 180);
    g.lineCap = "round";
    g.lineJoin = "round";
    for (const s of this.strokes) {
      g.beginPath();
      s.forEach(([x, y], i) => (i === 0 ? g.moveTo(x * w, y * h) : g.lineTo(x * w, y * h)));
      if (s.length === 1) g.lineTo((s[0]?.[0] ?? 0) * w + 0.5, (s[0]?.[1] ?? 0) * h);
      g.stroke();
    }
  }

  private paint(): void {
    const c = this.canvas;
    if (!c) return;
    const r = c.getBoundingClientRect();
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    this.drawInto(
      c,
      Math.max(1, Math.round(r.width * dpr)),
      Math.max(1, Math.round(r.height * dpr)),
    );
  }

  private async png(): Promise<string> {
    const out = document.createElement("canvas");
    if (this.method === "drawn") this.drawInto(out, OUT_W, OUT_H);
    else {
      out.width = OUT_W;
      out.height = OUT_H;
      const g = out.getContext("2d");
      if (g) {
        const name = this.typed.trim();
        let size = 110;
        g.font = `italic ${size}px "Segoe Script", "Brush Script MT", cursive, serif`;
        while (size > 24 && g.measureText(name).width > OUT_W - 40) {
          size -= 6;
          g.font = `italic ${size}px "Segoe Script", "Brush Script MT", cursive, serif`;
        }
        g.fillStyle = "#0a1a3a";
        g.textBaseline = "middle";
        g.fillText(name, 20, OUT_H / 2);
      }
    }
    return toBase64(await canvasPng(out));
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const consent = this.consent;
    if (this.busy || !consent) return;
    if (this.method === "drawn" ? !this.drawn : this.typed.trim().length < 2) {
      this.problem = "needSignature";
      return;
    }
    if (!this.consentOk) {
      this.problem = "needConsent";
      return;
    }
    this.problem = "";
    const detail: SignDetail = {
      method: this.method,
      pngBase64: await this.png(),
      typedName: this.method === "typed" ? this.typed.trim().slice(0, 100) : null,
      consentVersion: consent.version,
    };
    this.dispatchEvent(new CustomEvent("vv-sign", { detail, bubbles: true, composed: true }));
  }

  private onCanvasKey(e: KeyboardEvent): void {
    // Keyboard users type their name instead (drawing needs a pointer).
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.method = "typed";
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLInputElement>("#typed")?.focus(),
      );
    }
  }

  override render() {
    const c = this.consent;
    const text = c ? (lang() === "en" ? c.en : c.de) : "";
    const problem =
      this.problem === "needSignature" || this.problem === "needConsent"
        ? ts(this.problem)
        : this.problem
          ? ts("failed", { code: this.problem })
          : "";
    return html`<form @submit=${this.submit} data-testid="sign-pad" novalidate>
      <div class="tabs" role="group" aria-label=${ts("sign")}>
        <button
          type="button"
          class="secondary"
          aria-pressed=${this.method === "drawn" ? "true" : "false"}
          data-testid="sign-method-draw"
          @click=${() => {
            this.method = "drawn";
            void this.updateComplete.then(() => this.paint());
          }}
        >
          ${ts("draw")}
        </button>
        <button
          type="button"
          class="secondary"
          aria-pressed=${this.method === "typed" ? "true" : "false"}
          data-testid="sign-method-type"
          @click=${() => (this.method = "typed")}
        >
          ${ts("type")}
        </button>
      </div>
      ${
        this.method === "drawn"
          ? html`<p class="muted" id="draw-hint">${ts("drawHere")}</p>
              <canvas
                tabindex="0"
                role="img"
                aria-label=${ts("drawLabel")}
                aria-describedby="draw-hint"
                data-testid="sign-canvas"
                data-drawn=${this.drawn ? "true" : "false"}
                @pointerdown=${this.onDown}
                @pointermove=${this.onMove}
                @pointerup=${this.onUp}
                @pointercancel=${this.onUp}
                @keydown=${this.onCanvasKey}
              ></canvas>
              <div class="row">
                <button
                  type="button"
                  class="secondary"
                  @click=${this.clear}
                  ?disabled=${!this.drawn}
                >
                  ${ts("clear")}
                </button>
              </div>`
          : html`<label for="typed">${ts("typedName")}</label>
              <input
                id="typed"
                type="text"
                autocomplete="name"
                maxlength="100"
                data-testid="sign-typed"
                .value=${this.typed}
                @input=${(e: Event) => (this.typed = (e.target as HTMLInputElement).value)}
              />`
      }
      <div class="consent">
        <input
          id="consent"
          type="checkbox"
          data-testid="sign-consent"
          .checked=${this.consentOk}
          ?disabled=${!c}
          @change=${(e: Event) => (this.consentOk = (e.target as HTMLInputElement).checked)}
        />
        <label for="consent">
          <span data-testid="sign-consent-text">${text}</span>
          ${c ? html`<br /><span class="kind">${ts("consentLabel", { version: c.version })}</span>` : nothing}
        </label>
      </div>
      <p class="kind">${ts("kind")}</p>
      <p class="status-line" role="alert">${problem}</p>
      <div class="row">
        <button
          type="submit"
          data-testid="sign-submit"
          ?disabled=${this.busy || !c}
          aria-busy=${this.busy ? "true" : "false"}
        >
          ${this.busy ? ts("sending") : ts("sign")}
        </button>
        <slot></slot>
      </div>
    </form>`;
  }
}
customElements.define("vv-sign-pad", SignPad);

declare global {
  interface HTMLElementTagNameMap {
    "vv-sign-pad": SignPad;
  }
}
