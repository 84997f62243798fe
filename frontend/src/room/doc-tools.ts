// The annotation toolbar: point, pen, arrow, highlighter, text; the five colours; clear
// the page. A toolbar in the ARIA sense (one tab stop, arrow keys move between the
// buttons); each button says whether it is the chosen one (aria-pressed).
import { css, html, unsafeCSS } from "lit";
import { I18nElement } from "../lib/base";
import { base } from "../lib/styles";
import { COLOR_VALUES, type Mode } from "./doc-page";
import { td } from "./doc-strings";
import { COLORS, TOOLS, type Color } from "./stage-state";

const MODES: readonly Mode[] = ["point", ...TOOLS];

export class DocTools extends I18nElement {
  static override properties = {
    mode: { type: String },
    color: { type: String },
    disabled: { type: Boolean },
  };
  declare mode: Mode;
  declare color: Color;
  declare disabled: boolean;

  constructor() {
    super();
    this.mode = "point";
    this.color = "red";
    this.disabled = false;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      div[role="toolbar"] {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem;
        align-items: center;
      }
      button {
        min-height: 2.25rem;
        padding: 0.3rem 0.6rem;
        background: #fff;
        color: #1b1f24;
        border-color: #8a95a3;
      }
      button[aria-pressed="true"] {
        background: var(--vv-primary, #0b57a4);
        border-color: var(--vv-primary, #0b57a4);
        color: #fff;
      }
      button.swatch {
        width: 2.25rem;
        padding: 0;
      }
      button.swatch span {
        display: block;
        width: 1.2rem;
        height: 1.2rem;
        margin: auto;
        border-radius: 50%;
        border: 2px solid #fff;
        box-shadow: 0 0 0 1px #555;
      }
      button.swatch[aria-pressed="true"] {
        background: #fff;
        box-shadow: 0 0 0 3px var(--vv-primary, #0b57a4);
      }
      .c-red {
        background: ${unsafeCSS(COLOR_VALUES.red)};
      }
      .c-yellow {
        background: ${unsafeCSS(COLOR_VALUES.yellow)};
      }
      .c-blue {
        background: ${unsafeCSS(COLOR_VALUES.blue)};
      }
      .c-green {
        background: ${unsafeCSS(COLOR_VALUES.green)};
      }
      .c-black {
        background: ${unsafeCSS(COLOR_VALUES.black)};
      }
      .sep {
        width: 1px;
        align-self: stretch;
        background: #c9d1da;
        margin: 0 0.2rem;
      }
    `,
  ];

  /** Arrow keys move along the toolbar (roving focus; Tab leaves it). */
  private onKey(e: KeyboardEvent): void {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
    const buttons = [...this.renderRoot.querySelectorAll<HTMLButtonElement>("button")];
    const i = buttons.indexOf(e.composedPath()[0] as HTMLButtonElement);
    if (i < 0) return;
    e.preventDefault();
    e.stopPropagation();
    const n = buttons.length;
    const next =
      e.key === "Home"
        ? 0
        : e.key === "End"
          ? n - 1
          : (i + (e.key === "ArrowRight" ? 1 : -1) + n) % n;
    buttons[next]?.focus();
  }

  override render() {
    return html`<div
      role="toolbar"
      aria-label=${td("tools")}
      data-testid="doc-tools"
      @keydown=${this.onKey}
    >
      ${MODES.map(
        (m, i) =>
          html`<button
            type="button"
            tabindex=${i === 0 ? 0 : -1}
            data-testid=${`tool-${m}`}
            aria-pressed=${this.mode === m ? "true" : "false"}
            ?disabled=${this.disabled && m !== "point"}
            @click=${() => this.emit<Mode>("vv-mode", m)}
          >
            ${td(`tool_${m}`)}
          </button>`,
      )}
      <span class="sep" aria-hidden="true"></span>
      ${COLORS.map(
        (c) =>
          html`<button
            type="button"
            class="swatch"
            tabindex="-1"
            data-testid=${`color-${c}`}
            aria-label=${`${td("colors")}: ${td(`color_${c}`)}`}
            title=${td(`color_${c}`)}
            aria-pressed=${this.color === c ? "true" : "false"}
            ?disabled=${this.disabled}
            @click=${() => this.emit<Color>("vv-color", c)}
          >
            <span class="c-${c}" aria-hidden="true"></span>
          </button>`,
      )}
      <span class="sep" aria-hidden="true"></span>
      <button
        type="button"
        tabindex="-1"
        data-testid="clear-page"
        ?disabled=${this.disabled}
        @click=${() => this.emit("vv-clear-page")}
      >
        ${td("clearPage")}
      </button>
    </div>`;
  }
}
customElements.define("vv-doc-tools", DocTools);
