// The customer app's start screen: the chat form (name, topic, first message) with
// availability and the other ways in around it, or one of those ways (a message, a
// call-back, "I have a code"). Starting creates the conversation over HTTP and hands it
// to the app (`vv-started`); a redeemed code comes as `vv-redeemed` (from code-entry).
import { css, html, nothing } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError, type Availability, type CreatedConversation, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import { fieldText } from "../lib/form";
import { errorText, lang } from "../lib/i18n";
import { base } from "../lib/styles";
import { newClientId, type OutboxItem } from "../lib/ws";
import type { StartMode } from "./start-options";
import { t } from "./strings";
import { tw } from "./ways-strings";

export interface Started {
  created: CreatedConversation;
  /** The first message, stored with the conversation (shown until its event comes). */
  first: OutboxItem | null;
}

/** The topics, fetched once per page (they are optional: the form works without). */
let topicsLoad: Promise<Topic[]> | null = null;
function loadTopics(): Promise<Topic[]> {
  topicsLoad ??= api<{ topics: Topic[] }>("GET", "/api/v1/topics").then(
    (res) => (Array.isArray(res.topics) ? res.topics : []),
    () => [],
  );
  void topicsLoad.then((topics) => {
    if (topics.length === 0) topicsLoad = null; // try again next time
  });
  return topicsLoad;
}

export class StartScreen extends I18nElement {
  static override properties = {
    notice: { type: String },
    topic: { type: String },
    adviserId: { type: String, attribute: "adviser-id" },
    topics: { state: true },
    submitting: { state: true },
    mode: { state: true },
    offlineNow: { state: true },
    waysFirst: { state: true },
  };
  /** Why the customer is here again (an invitation that failed, a token gone). */
  declare notice: string;
  declare topic: string;
  /** The adviser picked in the portal (?adviser=…). */
  declare adviserId: string;
  declare topics: Topic[];
  declare submitting: boolean;
  /** The chat form, or another way in. */
  declare mode: "chat" | StartMode;
  /** Nobody can chat now (closed or no adviser available): the other ways stand out. */
  declare offlineNow: boolean;
  /** The other ways stand above the form: while nobody can chat, unless the customer
   * had begun to fill the form in when that became known. Inserted above it then, they
   * would push the form (a whole screen on a phone) away under the customer's finger. */
  declare waysFirst: boolean;
  /** The customer has begun to fill the form in (typed, or tapped into it; not the
   * focus the name field gets at the start): the ways stay where they are. */
  private touched = false;
  private readonly touch = (): void => {
    this.touched = true;
  };

  private readonly nameInput = createRef<HTMLInputElement>();
  /** What the customer had typed, carried into the message form. */
  private prefill = { name: "", text: "" };

  constructor() {
    super();
    this.notice = "";
    this.topic = "";
    this.adviserId = "";
    this.topics = [];
    this.submitting = false;
    this.mode = "chat";
    this.offlineNow = false;
    this.waysFirst = false;
  }

  private onAvailability(a: Availability): void {
    this.offlineNow = !a.available || a.open === false;
    if (!this.touched) this.waysFirst = this.offlineNow;
  }

  static override styles = [
    base,
    css`
      :host {
        flex: 1;
        display: flex;
        flex-direction: column;
        min-height: 0;
      }
      main {
        flex: 1;
        display: flex;
        flex-direction: column;
        min-height: 0;
        overflow-y: auto;
        padding: 1rem;
        max-width: 34rem;
        width: 100%;
        margin: 0 auto;
      }
      .field {
        margin-bottom: 0.9rem;
      }
      textarea {
        min-height: 6rem;
        resize: vertical;
      }
      .note {
        font-size: 0.8rem;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    // Availability and the other ways in: right after the form (not in the first load).
    void import("./start-options");
    void loadTopics().then((topics) => (this.topics = topics));
  }

  protected override firstUpdated(): void {
    this.nameInput.value?.focus();
  }

  private setMode(mode: "chat" | StartMode): void {
    if (mode === "code") void import("./code-entry");
    else if (mode !== "chat") void import("./offline");
    if (mode !== "chat" && this.mode === "chat") {
      const form = this.renderRoot.querySelector<HTMLFormElement>("form.start-form");
      if (form) {
        const data = new FormData(form);
        this.prefill = {
          name: fieldText(data, "name").trim(),
          text: fieldText(data, "message").trim(),
        };
      }
    }
    this.mode = mode;
    this.notice = mode === "chat" ? "" : this.notice;
    if (mode === "chat") void this.updateComplete.then(() => this.nameInput.value?.focus());
  }

  private async onStart(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.submitting) return;
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = fieldText(data, "name").trim();
    const topic = fieldText(data, "topic").trim();
    const text = fieldText(data, "message").trim();
    const body: Record<string, unknown> = { language: lang() };
    if (name) body["customer_name"] = name.slice(0, 80);
    if (topic) body["topic"] = topic;
    if (this.adviserId) body["adviser_id"] = this.adviserId;
    const clientId = newClientId();
    if (text) body["message"] = { client_id: clientId, text: text.slice(0, 4000) };
    this.submitting = true;
    this.notice = "";
    let created: CreatedConversation;
    try {
      created = await api<CreatedConversation>("POST", "/api/v1/conversations", body);
    } catch (err) {
      this.submitting = false;
      const code = err instanceof ApiError ? err.code : "network";
      if (code === "closed") {
        // The team is outside its hours: keep what was typed for a message.
        this.prefill = { name, text };
        this.mode = "message";
        void import("./offline");
        this.notice = tw("closedChat");
        return;
      }
      this.notice = errorText(code);
      return;
    }
    form.reset();
    this.submitting = false;
    const first: OutboxItem | null = text
      ? {
          conversation_id: created.conversation.id,
          client_id: clientId,
          text,
          at: new Date().toISOString(),
        }
      : null;
    this.emit<Started>("vv-started", { created, first });
  }

  private renderWay() {
    const back = () => this.setMode("chat");
    return html`<main>
      ${this.notice ? html`<p class="status-line" role="alert">${this.notice}</p>` : nothing}
      ${
        this.mode === "code"
          ? html`<vv-code-entry backable @vv-back=${back}></vv-code-entry>`
          : html`<vv-offline-form
              kind=${this.mode}
              topic=${this.topic}
              name=${this.prefill.name}
              text=${this.prefill.text}
              @vv-back=${back}
            ></vv-offline-form>`
      }
    </main>`;
  }

  override render() {
    if (this.mode !== "chat") return this.renderWay();
    const ways = html`<vv-start-ways
      topic=${this.topic}
      ?prominent=${this.offlineNow}
      @vv-choose=${(e: CustomEvent<{ mode: StartMode }>) => this.setMode(e.detail.mode)}
    ></vv-start-ways>`;
    return html`<main>
      <p>${t("startIntro")}</p>
      ${this.notice ? html`<p class="status-line" role="alert">${this.notice}</p>` : nothing}
      <vv-start-options
        topic=${this.topic}
        adviser-id=${this.adviserId}
        @vv-availability=${(e: CustomEvent<Availability>) => this.onAvailability(e.detail)}
      ></vv-start-options>
      ${this.waysFirst ? ways : nothing}
      <form
        class="start-form"
        @submit=${this.onStart}
        @input=${this.touch}
        @pointerdown=${this.touch}
        aria-label=${t("title")}
      >
        <div class="field">
          <label for="name">${t("nameLabel")}</label>
          <input
            id="name"
            name="name"
            type="text"
            autocomplete="name"
            maxlength="80"
            data-testid="start-name"
            ${ref(this.nameInput)}
          />
        </div>
        <div class="field">
          <label for="topic">${t("topicLabel")}</label>
          <select
            id="topic"
            name="topic"
            data-testid="start-topic"
            @change=${(e: Event) => {
              this.topic = (e.target as HTMLSelectElement).value;
              this.emit("vv-topic", this.topic);
            }}
          >
            <option value="">${t("topicNone")}</option>
            ${this.topics.map(
              (tp) =>
                html`<option value=${tp.id} ?selected=${tp.id === this.topic}>
                  ${lang() === "de" ? tp.label_de : tp.label_en}
                </option>`,
            )}
          </select>
        </div>
        <div class="field">
          <label for="message">${t("firstMessageLabel")}</label>
          <textarea
            id="message"
            name="message"
            maxlength="4000"
            placeholder=${t("firstMessagePlaceholder")}
            data-testid="start-message"
            @keydown=${(e: KeyboardEvent) => {
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                (e.target as HTMLTextAreaElement).form?.requestSubmit();
              }
            }}
          ></textarea>
        </div>
        <button type="submit" data-testid="start-submit" ?disabled=${this.submitting}>
          ${this.submitting ? t("starting") : t("startSubmit")}
        </button>
        <p class="note muted">
          ${t("privacyNote")}
          <a
            href=${`/privacy?lang=${lang()}`}
            target="_blank"
            rel="noopener"
            data-testid="privacy-link"
            >${t("privacyLink")}</a
          >
        </p>
      </form>
      ${this.waysFirst ? nothing : ways}
    </main>`;
  }
}
customElements.define("vv-start-screen", StartScreen);
