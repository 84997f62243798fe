// "Invite by e-mail" (R5.1): POST /api/v1/invitations; the server mails a signed,
// expiring link and the new conversation arrives in the console as assigned.
import { html, nothing } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import type { ConversationSummary } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { dialogStyles } from "./dialog-styles";
import { strings, tw } from "./ways-strings";
import { fieldText } from "../lib/form";

interface Invited {
  conversation: ConversationSummary;
  link: string;
  expires_in_s: number;
}

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export class InviteDialog extends I18nElement {
  static override properties = {
    csrf: { type: String },
    busy: { state: true },
    notice: { state: true },
    sent: { state: true },
  };
  declare csrf: string;
  declare busy: boolean;
  declare notice: { code: string; text: string } | null;
  declare sent: { email: string; days: number } | null;

  private readonly dialog = createRef<HTMLDialogElement>();

  constructor() {
    super();
    this.csrf = "";
    this.busy = false;
    this.notice = null;
    this.sent = null;
  }

  static override styles = [base, dialogStyles];

  open(): void {
    this.sent = null;
    this.notice = null;
    this.dialog.value?.showModal();
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLInputElement>("#inv-email")?.focus(),
    );
  }

  close(): void {
    this.dialog.value?.close();
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const email = fieldText(data, "email").trim();
    const name = fieldText(data, "name").trim();
    const language = fieldText(data, "language", lang());
    if (!EMAIL_RE.test(email)) {
      this.notice = { code: "bad_request", text: tw("inviteBadEmail") };
      this.renderRoot.querySelector<HTMLInputElement>("#inv-email")?.focus();
      return;
    }
    this.busy = true;
    this.notice = null;
    try {
      const body: Record<string, unknown> = { email, language };
      if (name) body["customer_name"] = name.slice(0, 80);
      const res = await api<Invited>("POST", "/api/v1/invitations", body, {
        "X-CSRF-Token": this.csrf,
      });
      this.sent = { email, days: Math.max(1, Math.round(res.expires_in_s / 86400)) };
      form.reset();
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>(".ok")?.focus(),
      );
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      const key = `err_invite_${code}` as keyof typeof strings;
      this.notice = { code, text: key in strings ? tw(key) : errorText(code) };
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<dialog ${ref(this.dialog)} aria-labelledby="inv-h" data-testid="invite-dialog">
      <h2 id="inv-h">${tw("inviteTitle")}</h2>
      ${
        this.sent
          ? html`<p class="ok" role="status" tabindex="-1" data-testid="invite-sent">
                ${tw("inviteSent", this.sent)}
              </p>
              <div class="row">
                <button type="button" data-testid="invite-another" @click=${() => this.open()}>
                  ${tw("inviteAnother")}
                </button>
                <button
                  type="button"
                  class="secondary"
                  data-testid="invite-close"
                  @click=${this.close}
                >
                  ${tw("close")}
                </button>
              </div>`
          : html`<p>${tw("inviteIntro")}</p>
              <form @submit=${this.submit} novalidate>
                <div class="field">
                  <label for="inv-email">${tw("inviteEmail")}</label>
                  <input
                    id="inv-email"
                    name="email"
                    type="email"
                    autocomplete="off"
                    maxlength="254"
                    required
                    data-testid="invite-email"
                  />
                </div>
                <div class="field">
                  <label for="inv-name">${tw("inviteName")}</label>
                  <input
                    id="inv-name"
                    name="name"
                    type="text"
                    autocomplete="off"
                    maxlength="80"
                    data-testid="invite-name"
                  />
                </div>
                <div class="field">
                  <label for="inv-lang">${tw("inviteLanguage")}</label>
                  <select id="inv-lang" name="language" data-testid="invite-language">
                    <option value="de" ?selected=${lang() === "de"}>${tw("langDe")}</option>
                    <option value="en" ?selected=${lang() === "en"}>${tw("langEn")}</option>
                  </select>
                </div>
                ${
                  this.notice
                    ? html`<p
                        class="status-line"
                        role="alert"
                        data-testid="invite-error"
                        data-code=${this.notice.code}
                      >
                        ${this.notice.text}
                      </p>`
                    : nothing
                }
                <div class="row">
                  <button type="submit" data-testid="invite-send" ?disabled=${this.busy}>
                    ${this.busy ? tw("inviteSending") : tw("inviteSend")}
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
customElements.define("vv-invite-dialog", InviteDialog);
