// "Leave a message" and "request a call-back" (R5.2): stored as a conversation in the
// team's offline queue, which advisers work later. Loaded only when chosen.
import { css, html, nothing } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError, type CreatedConversation } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang, translator, type Strings } from "../lib/i18n";
import { base } from "../lib/styles";
import { newClientId } from "../lib/ws";
import { carriedParams } from "./params";
import { fieldText } from "../lib/form";

const strings = {
  messageTitle: ["Nachricht hinterlassen", "Leave a message"],
  callbackTitle: ["Rückruf anfordern", "Request a call-back"],
  messageIntro: [
    "Schreiben Sie uns Ihr Anliegen. Wir melden uns so bald wie möglich – per E-Mail oder Telefon, wie Sie möchten.",
    "Tell us what it is about. We will get back to you as soon as possible – by e-mail or phone, as you prefer.",
  ],
  callbackIntro: [
    "Hinterlassen Sie Ihre Telefonnummer – wir rufen Sie zurück, sobald jemand frei ist.",
    "Leave your phone number – we will call you back as soon as someone is free.",
  ],
  name: ["Ihr Name (freiwillig)", "Your name (optional)"],
  contactMessage: ["E-Mail-Adresse oder Telefonnummer", "E-mail address or phone number"],
  contactCallback: ["Telefonnummer", "Phone number"],
  text: ["Ihr Anliegen", "What is it about?"],
  textCallbackHint: [
    "z. B. Thema und wann wir Sie am besten erreichen",
    "e.g. the topic and when best to reach you",
  ],
  send: ["Absenden", "Send"],
  sending: ["Sende …", "Sending…"],
  back: ["Zurück", "Back"],
  badContactMessage: [
    "Bitte geben Sie eine E-Mail-Adresse oder Telefonnummer an.",
    "Please give an e-mail address or phone number.",
  ],
  badContactCallback: [
    "Bitte geben Sie eine Telefonnummer an, z. B. +49 30 1234567.",
    "Please give a phone number, e.g. +49 30 1234567.",
  ],
  emptyText: ["Bitte schreiben Sie kurz, worum es geht.", "Please write briefly what it is about."],
  sentMessage: [
    "Vielen Dank! Ihre Nachricht ist bei uns angekommen. Wir antworten Ihnen an {contact}.",
    "Thank you! We have received your message and will reply to {contact}.",
  ],
  sentCallback: [
    "Vielen Dank! Wir rufen Sie unter {contact} zurück.",
    "Thank you! We will call you back at {contact}.",
  ],
  alsoBook: ["Lieber einen festen Termin?", "Prefer a fixed appointment?"],
  book: ["Termin buchen", "Book an appointment"],
  done: ["Fertig", "Done"],
} as const satisfies Strings;
const t = translator(strings);

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE_RE = /^\+?[0-9][0-9 ()/-]{4,30}$/;

export class OfflineForm extends I18nElement {
  static override properties = {
    kind: { type: String },
    topic: { type: String },
    name: { type: String },
    text: { type: String },
    notice: { state: true },
    submitting: { state: true },
    sent: { state: true },
  };
  declare kind: "message" | "callback";
  declare topic: string;
  declare name: string;
  declare text: string;
  declare notice: string;
  declare submitting: boolean;
  declare sent: string | null;

  private readonly first = createRef<HTMLInputElement>();

  constructor() {
    super();
    this.kind = "message";
    this.topic = "";
    this.name = "";
    this.text = "";
    this.notice = "";
    this.submitting = false;
    this.sent = null;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      h2 {
        font-size: 1.1rem;
        margin: 0 0 0.5rem;
      }
      .field {
        margin-bottom: 0.9rem;
      }
      textarea {
        min-height: 6rem;
        resize: vertical;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .sent {
        padding: 0.8rem;
        border-radius: 8px;
        background: #e8f3ea;
        border: 1px solid #b9d9c0;
      }
      a {
        color: var(--vv-primary, #0b57a4);
        font-weight: 600;
      }
    `,
  ];

  override firstUpdated(): void {
    this.first.value?.focus();
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.submitting) return;
    const data = new FormData(e.target as HTMLFormElement);
    const name = fieldText(data, "name").trim();
    const contact = fieldText(data, "contact").trim();
    const text = fieldText(data, "text").trim();
    const callback = this.kind === "callback";
    if (callback ? !PHONE_RE.test(contact) : !(EMAIL_RE.test(contact) || PHONE_RE.test(contact))) {
      this.notice = t(callback ? "badContactCallback" : "badContactMessage");
      this.renderRoot.querySelector<HTMLInputElement>("#contact")?.focus();
      return;
    }
    if (!text) {
      this.notice = t("emptyText");
      this.renderRoot.querySelector<HTMLTextAreaElement>("#text")?.focus();
      return;
    }
    const body: Record<string, unknown> = {
      kind: this.kind,
      contact,
      language: lang(),
      message: { client_id: newClientId(), text: text.slice(0, 4000) },
    };
    if (name) body["customer_name"] = name.slice(0, 80);
    if (this.topic) body["topic"] = this.topic;
    this.submitting = true;
    this.notice = "";
    try {
      // The customer gets no token to keep: an adviser answers by e-mail or phone.
      await api<CreatedConversation>("POST", "/api/v1/conversations", body);
      this.sent = contact;
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>(".sent")?.focus(),
      );
    } catch (err) {
      this.notice = errorText(err instanceof ApiError ? err.code : "network");
    } finally {
      this.submitting = false;
    }
  }

  override render() {
    const callback = this.kind === "callback";
    if (this.sent !== null) {
      return html`<div class="sent" role="status" tabindex="-1" data-testid="offline-sent">
          <p>${t(callback ? "sentCallback" : "sentMessage", { contact: this.sent })}</p>
          <p>
            ${t("alsoBook")}
            <a href=${`/book?${carriedParams({ topic: this.topic })}`}>${t("book")}</a>
          </p>
        </div>
        <p>
          <button type="button" data-testid="offline-done" @click=${() => this.emit("vv-back")}>
            ${t("done")}
          </button>
        </p>`;
    }
    return html`<h2 id="offline-h">${t(callback ? "callbackTitle" : "messageTitle")}</h2>
      <p>${t(callback ? "callbackIntro" : "messageIntro")}</p>
      <form
        @submit=${this.submit}
        aria-labelledby="offline-h"
        novalidate
        data-testid="offline-form"
        data-kind=${this.kind}
      >
        <div class="field">
          <label for="name">${t("name")}</label>
          <input
            id="name"
            name="name"
            type="text"
            autocomplete="name"
            maxlength="80"
            .value=${this.name}
            data-testid="offline-name"
            ${ref(this.first)}
          />
        </div>
        <div class="field">
          <label for="contact">${t(callback ? "contactCallback" : "contactMessage")}</label>
          <input
            id="contact"
            name="contact"
            type=${callback ? "tel" : "text"}
            inputmode=${callback ? "tel" : "email"}
            autocomplete=${callback ? "tel" : "email"}
            maxlength="254"
            required
            data-testid="offline-contact"
          />
        </div>
        <div class="field">
          <label for="text">${t("text")}</label>
          <textarea
            id="text"
            name="text"
            maxlength="4000"
            required
            placeholder=${callback ? t("textCallbackHint") : ""}
            .value=${this.text}
            data-testid="offline-text"
          ></textarea>
        </div>
        ${this.notice ? html`<p class="status-line" role="alert" data-testid="offline-error">${this.notice}</p>` : nothing}
        <div class="row">
          <button type="submit" data-testid="offline-submit" ?disabled=${this.submitting}>
            ${this.submitting ? t("sending") : t("send")}
          </button>
          <button
            type="button"
            class="secondary"
            data-testid="offline-back"
            @click=${() => this.emit("vv-back")}
          >
            ${t("back")}
          </button>
        </div>
      </form>`;
  }
}
customElements.define("vv-offline-form", OfflineForm);
