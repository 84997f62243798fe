// Text input + send button. Enter sends, Shift+Enter makes a new line.
// Emits `vv-send` {text} and throttled `vv-typing` {active}: at most one
// active:true every 3 s while typing, active:false after 6 s idle or on send.
import { css, html } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { I18nElement } from "./base";
import { tc } from "./i18n";
import { MAX_TEXT_CHARS } from "./protocol.gen";
import { base } from "./styles";

const TYPING_REFRESH_MS = 3000;
const TYPING_IDLE_MS = 6000;

export class Composer extends I18nElement {
  static override properties = {
    disabled: { type: Boolean },
    value: { state: true },
  };
  declare disabled: boolean;
  declare value: string;

  private readonly area = createRef<HTMLTextAreaElement>();
  private typingSentAt = 0;
  private typingActive = false;
  private idleTimer = 0;

  constructor() {
    super();
    this.disabled = false;
    this.value = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        border-top: 1px solid #d5dbe1;
        background: #fff;
        padding: 0.5rem;
      }
      form {
        display: flex;
        gap: 0.5rem;
        align-items: flex-end;
      }
      textarea {
        flex: 1;
        resize: none;
        min-height: 2.5rem;
        max-height: 8rem;
        line-height: 1.35;
      }
      .hint {
        font-size: 0.72rem;
        margin: 0.25rem 0 0;
      }
    `,
  ];

  override focus(): void {
    this.area.value?.focus();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopTyping();
  }

  private onInput(e: Event): void {
    const area = e.target as HTMLTextAreaElement;
    this.value = area.value;
    this.autosize(area);
    if (!this.value.trim()) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (!this.typingActive || now - this.typingSentAt > TYPING_REFRESH_MS) {
      this.typingActive = true;
      this.typingSentAt = now;
      this.emit("vv-typing", { active: true });
    }
    window.clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private autosize(area: HTMLTextAreaElement): void {
    // CSSOM, not a style attribute: allowed by the CSP (style-src 'self').
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight + 2, 128)}px`;
  }

  private stopTyping(): void {
    window.clearTimeout(this.idleTimer);
    if (this.typingActive) {
      this.typingActive = false;
      this.emit("vv-typing", { active: false });
    }
  }

  private onKeydown(e: KeyboardEvent): void {
    if (
      e.key === "Enter" &&
      !e.shiftKey &&
      !e.isComposing &&
      !e.altKey &&
      !e.ctrlKey &&
      !e.metaKey
    ) {
      e.preventDefault();
      this.submit();
    }
  }

  private submit(e?: Event): void {
    e?.preventDefault();
    if (this.disabled) return;
    const text = this.value.trim();
    if (!text) return;
    this.stopTyping();
    this.emit("vv-send", { text: text.slice(0, MAX_TEXT_CHARS) });
    this.value = "";
    const area = this.area.value;
    if (area) {
      area.value = "";
      this.autosize(area);
      area.focus();
    }
  }

  override render() {
    return html`<form @submit=${this.submit} novalidate>
        <label class="sr-only" for="composer">${tc("messageLabel")}</label>
        <textarea
          id="composer"
          data-testid="composer"
          rows="1"
          maxlength=${MAX_TEXT_CHARS}
          placeholder=${tc("messagePlaceholder")}
          aria-describedby="hint"
          .value=${this.value}
          ?disabled=${this.disabled}
          @input=${this.onInput}
          @keydown=${this.onKeydown}
          ${ref(this.area)}
        ></textarea>
        <button type="submit" data-testid="send" ?disabled=${this.disabled || !this.value.trim()}>
          ${tc("send")}
        </button>
      </form>
      <p id="hint" class="hint muted sr-only">${tc("sendHint")}</p>`;
  }
}
customElements.define("vv-composer", Composer);
