// "Phone code" (R5.5): POST /api/v1/codes gives a 6-digit code to read out on the
// phone, shown big with a countdown to its expiry; the conversation is already the
// adviser's (it arrives as assigned) and the customer joins it at /code.
import { css, html, nothing } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import type { ConversationSummary } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { dialogStyles } from "./dialog-styles";
import { tw } from "./ways-strings";
import { fieldText } from "../lib/form";

interface Created {
  conversation: ConversationSummary;
  code: string;
  expires_at: string;
}

export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class CodeDialog extends I18nElement {
  static override properties = {
    csrf: { type: String },
    busy: { state: true },
    notice: { state: true },
    created: { state: true },
    now: { state: true },
  };
  declare csrf: string;
  declare busy: boolean;
  declare notice: { code: string; text: string } | null;
  declare created: Created | null;
  declare now: number;

  private readonly dialog = createRef<HTMLDialogElement>();
  private timer = 0;

  constructor() {
    super();
    this.csrf = "";
    this.busy = false;
    this.notice = null;
    this.created = null;
    this.now = Date.now();
  }

  static override styles = [
    base,
    dialogStyles,
    css`
      .code {
        font-size: 3rem;
        font-weight: 700;
        letter-spacing: 0.12em;
        font-variant-numeric: tabular-nums;
        font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
        text-align: center;
        margin: 0.4rem 0;
        padding: 0.4rem;
        border: 2px dashed #0b57a4;
        border-radius: 10px;
        background: #f3f8fd;
      }
      .code[data-expired] {
        color: #8a94a0;
        text-decoration: line-through;
        border-color: #8a94a0;
      }
      .left {
        text-align: center;
        font-variant-numeric: tabular-nums;
        font-weight: 600;
      }
    `,
  ];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.timer);
  }

  open(): void {
    this.created = null;
    this.notice = null;
    this.dialog.value?.showModal();
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLInputElement>("#code-name")?.focus(),
    );
  }

  close(): void {
    this.dialog.value?.close();
  }

  private onClosed(): void {
    window.clearInterval(this.timer);
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    const name = fieldText(data, "name").trim();
    const language = fieldText(data, "language", lang());
    this.busy = true;
    this.notice = null;
    try {
      const body: Record<string, unknown> = { language };
      if (name) body["customer_name"] = name.slice(0, 80);
      this.created = await api<Created>("POST", "/api/v1/codes", body, {
        "X-CSRF-Token": this.csrf,
      });
      this.now = Date.now();
      window.clearInterval(this.timer);
      this.timer = window.setInterval(() => {
        this.now = Date.now();
        if (this.created && Date.parse(this.created.expires_at) <= this.now)
          window.clearInterval(this.timer);
      }, 1000);
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>(".code")?.focus(),
      );
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      this.notice = { code, text: errorText(code) };
    } finally {
      this.busy = false;
    }
  }

  private renderCode(c: Created) {
    const left = Date.parse(c.expires_at) - this.now;
    const expired = left <= 0;
    // Read out in two groups of three: "123 456".
    const shown = c.code.length === 6 ? `${c.code.slice(0, 3)} ${c.code.slice(3)}` : c.code;
    return html`<p class="muted">${tw("codeIntro", { url: `${location.origin}/code` })}</p>
      <p
        class="code"
        tabindex="-1"
        aria-label=${`${tw("codeLabel")}: ${c.code.split("").join(" ")}`}
        data-testid="phone-code"
        data-code=${c.code}
        ?data-expired=${expired}
      >
        ${shown}
      </p>
      <p class="left" role="timer" aria-live="off" data-testid="phone-code-left">
        ${expired ? tw("codeExpired") : tw("codeValid", { time: countdown(left) })}
      </p>
      <p class="muted">${tw("codeUsedHint")}</p>
      <div class="row">
        ${expired ? html`<button type="button" @click=${() => this.open()}>${tw("codeNew")}</button>` : nothing}
        <button type="button" class="secondary" data-testid="phone-code-close" @click=${this.close}>
          ${tw("close")}
        </button>
      </div>`;
  }

  override render() {
    return html`<dialog
      ${ref(this.dialog)}
      aria-labelledby="code-h"
      data-testid="code-dialog"
      @close=${this.onClosed}
    >
      <h2 id="code-h">${tw("codeTitle")}</h2>
      ${
        this.created
          ? this.renderCode(this.created)
          : html`<form @submit=${this.submit}>
              <div class="field">
                <label for="code-name">${tw("codeName")}</label>
                <input
                  id="code-name"
                  name="name"
                  type="text"
                  autocomplete="off"
                  maxlength="80"
                  data-testid="phone-code-name"
                />
              </div>
              <div class="field">
                <label for="code-lang">${tw("codeLanguage")}</label>
                <select id="code-lang" name="language">
                  <option value="de" ?selected=${lang() === "de"}>${tw("langDe")}</option>
                  <option value="en" ?selected=${lang() === "en"}>${tw("langEn")}</option>
                </select>
              </div>
              ${this.notice ? html`<p class="status-line" role="alert" data-code=${this.notice.code}>${this.notice.text}</p>` : nothing}
              <div class="row">
                <button type="submit" data-testid="phone-code-create" ?disabled=${this.busy}>
                  ${this.busy ? tw("codeCreating") : tw("codeCreate")}
                </button>
                <button type="button" class="secondary" @click=${this.close}>
                  ${tw("cancel")}
                </button>
              </div>
            </form>`
      }
    </dialog>`;
  }
}
customElements.define("vv-code-dialog", CodeDialog);
