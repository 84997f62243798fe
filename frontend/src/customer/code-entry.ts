// "I have a code" (R5.5): the 6-digit code an adviser read out on the phone opens
// that adviser's conversation. Used by the /code page and (lazily) by the chat app.
import { css, html, nothing } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError, type CreatedConversation } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, translator, type Strings } from "../lib/i18n";
import { base } from "../lib/styles";

const strings = {
  title: ["Code eingeben", "Enter your code"],
  intro: [
    "Ihre Beraterin oder Ihr Berater hat Ihnen am Telefon einen 6-stelligen Code genannt. Geben Sie ihn hier ein – Sie landen direkt im Gespräch.",
    "Your adviser gave you a 6-digit code on the phone. Enter it here to go straight into your conversation.",
  ],
  label: ["6-stelliger Code", "6-digit code"],
  submit: ["Weiter zum Gespräch", "Continue to the conversation"],
  checking: ["Prüfe …", "Checking…"],
  back: ["Zurück", "Back"],
  err_not_found: [
    "Dieser Code ist nicht gültig. Bitte prüfen Sie die Ziffern.",
    "This code is not valid. Please check the digits.",
  ],
  err_expired: [
    "Dieser Code ist abgelaufen. Bitte fragen Sie nach einem neuen.",
    "This code has expired. Please ask for a new one.",
  ],
  err_rate_limited: [
    "Zu viele Versuche. Bitte warten Sie eine Minute.",
    "Too many attempts. Please wait a minute.",
  ],
  err_bad_request: ["Bitte geben Sie die 6 Ziffern ein.", "Please enter the 6 digits."],
  err_invalid_state: [
    "Dieses Gespräch ist bereits beendet.",
    "This conversation has already ended.",
  ],
} as const satisfies Strings;
const t = translator(strings);

export class CodeEntry extends I18nElement {
  static override properties = {
    backable: { type: Boolean },
    notice: { state: true },
    submitting: { state: true },
  };
  declare backable: boolean;
  declare notice: { code: string; text: string } | null;
  declare submitting: boolean;

  private readonly input = createRef<HTMLInputElement>();

  constructor() {
    super();
    this.backable = false;
    this.notice = null;
    this.submitting = false;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      h2 {
        font-size: 1.15rem;
        margin: 0 0 0.5rem;
      }
      input.code {
        font-size: 2.2rem;
        font-variant-numeric: tabular-nums;
        letter-spacing: 0.35em;
        text-align: center;
        max-width: 16rem;
        padding: 0.4rem 0.3rem 0.4rem 0.65rem;
        font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin-top: 0.8rem;
      }
    `,
  ];

  override firstUpdated(): void {
    this.input.value?.focus();
  }

  private onInput(e: InputEvent): void {
    // Digits only (a pasted "123 456" or "123-456" works too).
    const el = e.target as HTMLInputElement;
    const digits = el.value.replace(/\D/g, "").slice(0, 6);
    if (digits !== el.value) el.value = digits;
    this.notice = null;
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.submitting) return;
    const code = (this.input.value?.value ?? "").replace(/\D/g, "");
    if (code.length !== 6) {
      this.notice = { code: "bad_request", text: t("err_bad_request") };
      this.input.value?.focus();
      return;
    }
    this.submitting = true;
    this.notice = null;
    try {
      const res = await api<CreatedConversation>("POST", "/api/v1/codes/redeem", { code });
      this.emit("vv-redeemed", res);
    } catch (err) {
      const c = err instanceof ApiError ? err.code : "network";
      const key = `err_${c}` as keyof typeof strings;
      this.notice = { code: c, text: key in strings ? t(key) : errorText(c) };
      this.input.value?.select();
    } finally {
      this.submitting = false;
    }
  }

  override render() {
    return html`<h2 id="code-h">${t("title")}</h2>
      <p>${t("intro")}</p>
      <form @submit=${this.submit} aria-labelledby="code-h" novalidate>
        <label for="code">${t("label")}</label>
        <input
          id="code"
          class="code"
          name="code"
          type="text"
          inputmode="numeric"
          autocomplete="one-time-code"
          pattern="[0-9]{6}"
          maxlength="7"
          required
          aria-describedby="code-err"
          aria-invalid=${this.notice ? "true" : "false"}
          data-testid="code-input"
          @input=${this.onInput}
          ${ref(this.input)}
        />
        <p
          class="status-line"
          id="code-err"
          role="alert"
          data-testid="code-error"
          data-code=${this.notice?.code ?? ""}
        >
          ${this.notice?.text ?? ""}
        </p>
        <div class="row">
          <button type="submit" data-testid="code-submit" ?disabled=${this.submitting}>
            ${this.submitting ? t("checking") : t("submit")}
          </button>
          ${
            this.backable
              ? html`<button
                  type="button"
                  class="secondary"
                  data-testid="code-back"
                  @click=${() => this.emit("vv-back")}
                >
                  ${t("back")}
                </button>`
              : nothing
          }
        </div>
      </form>`;
  }
}
customElements.define("vv-code-entry", CodeEntry);
