// The customer app (/chat, standalone or in the widget's iframe):
// start form → waiting (queue position and estimated wait, chat already usable) → chat
// → ended. Other ways in: an e-mailed invitation link (#invite=…), a phone code, an
// adviser picked in the portal (?adviser=…), and, when nobody is there or the team is
// closed, a message or call-back request (the offline queue) or an appointment.
import { css, html, nothing, type PropertyValues } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError, type Availability, type CreatedConversation, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import type { CallManager, Media } from "../lib/call";
import { tcall } from "../lib/call-strings";
import { loadCallUi } from "../lib/calls-lazy";
import { icon } from "../lib/icons";
import "../lib/composer";
import "../lib/conn-status";
import { errorText, lang, tc } from "../lib/i18n";
import "../lib/lang-toggle";
import "../lib/messages";
import type { PendingLine } from "../lib/messages";
import type {
  ConversationSummary,
  ErrorMsg,
  EventMsg,
  QueuePositionMsg,
  ServerMessage,
} from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { newClientId, VisavisClient, type ConnState, type OutboxItem } from "../lib/ws";
import { embedded, onLoader, toLoader } from "./embed";
import type { PortalAdviser } from "./params";
import type { StartMode } from "./start-options";
import { clearStored, loadStored, saveStored, type StoredConversation } from "./storage";
import { t } from "./strings";
import { formatEstimate, tw } from "./ways-strings";
import { fieldText } from "../lib/form";

type Screen = "loading" | "start" | "chat";
const TYPING_TIMEOUT_MS = 6000;

export class ChatApp extends I18nElement {
  static override properties = {
    screen: { state: true },
    topics: { state: true },
    submitting: { state: true },
    notice: { state: true },
    summary: { state: true },
    events: { state: true },
    pending: { state: true },
    queue: { state: true },
    conn: { state: true },
    adviserTyping: { state: true },
    marks: { state: true },
    confirmingEnd: { state: true },
    historyLoaded: { state: true },
    mode: { state: true },
    topic: { state: true },
    picked: { state: true },
    offlineNow: { state: true },
  };
  declare screen: Screen;
  declare topics: Topic[];
  declare submitting: boolean;
  declare notice: string;
  declare summary: ConversationSummary | null;
  declare events: EventMsg[];
  declare pending: PendingLine[];
  declare queue: QueuePositionMsg | null;
  declare conn: ConnState;
  declare adviserTyping: string | null;
  declare marks: { delivered: number; read: number };
  declare confirmingEnd: boolean;
  declare historyLoaded: boolean;
  /** On the start screen: the chat form, or another way in. */
  declare mode: "chat" | StartMode;
  declare topic: string;
  /** The adviser picked in the portal (?adviser=…). */
  declare picked: PortalAdviser | null;
  /** Nobody can chat now (closed or no adviser available): the other ways go first. */
  declare offlineNow: boolean;

  private client: VisavisClient | null = null;
  private calls: CallManager | null = null;
  private callsLoading = false;
  private stored: StoredConversation | null = null;
  private failed: PendingLine[] = [];
  private typingTimer = 0;
  private receiptTimer = 0;
  private sentMarks = { delivered: 0, read: 0 };
  private panelOpen = true;
  private lastUnread = -1;
  private endedNotified = false;
  private readonly nameInput = createRef<HTMLInputElement>();
  private readonly adviserId = new URLSearchParams(location.search).get("adviser") ?? "";
  /** What the customer had typed, carried into the message form. */
  private prefill = { name: "", text: "" };
  private readonly composer = createRef<HTMLElement>();

  constructor() {
    super();
    this.screen = "loading";
    this.topics = [];
    this.submitting = false;
    this.notice = "";
    this.summary = null;
    this.events = [];
    this.pending = [];
    this.queue = null;
    this.conn = "idle";
    this.adviserTyping = null;
    this.marks = { delivered: 0, read: 0 };
    this.confirmingEnd = false;
    this.historyLoaded = false;
    this.mode = "chat";
    this.topic = new URLSearchParams(location.search).get("topic") ?? "";
    this.picked = null;
    this.offlineNow = false;
  }

  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: 100%;
        min-height: 0;
        background: #fff;
      }
      header {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        padding: 0.5rem 0.75rem;
        border-bottom: 1px solid #d5dbe1;
        background: var(--vv-header-bg, #0b57a4);
        color: #fff;
        flex-wrap: wrap;
      }
      header h1 {
        font-size: 1.05rem;
        margin: 0;
        flex: 1;
        min-width: 10rem;
      }
      header vv-conn-status {
        color: #fff;
      }
      main {
        flex: 1;
        display: flex;
        flex-direction: column;
        min-height: 0;
      }
      .start {
        overflow-y: auto;
        padding: 1rem;
        max-width: 34rem;
        width: 100%;
        margin: 0 auto;
      }
      .field {
        margin-bottom: 0.9rem;
      }
      .start textarea {
        min-height: 6rem;
        resize: vertical;
      }
      .note {
        font-size: 0.8rem;
      }
      .banner {
        padding: 0.6rem 0.75rem;
        background: #fff7e0;
        border-bottom: 1px solid #ecd9a0;
        font-size: 0.92rem;
      }
      .banner p {
        margin: 0;
      }
      .ended {
        background: #e8f3ea;
        border-color: #b9d9c0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        justify-content: space-between;
      }
      vv-messages {
        flex: 1;
        min-height: 6rem;
      }
      .typing {
        min-height: 1.4rem;
        padding: 0 0.75rem;
        font-size: 0.82rem;
        font-style: italic;
        background: var(--vv-log-bg, #f4f6f8);
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        justify-content: flex-end;
        flex-wrap: wrap;
        padding: 0.4rem 0.5rem;
        background: #fff;
      }
      .actions .status-line {
        flex: 1;
        font-size: 0.85rem;
      }
      .confirm {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .header-lang {
        --vv-primary: #fff;
      }
      .call-buttons {
        display: flex;
        gap: 0.35rem;
      }
      .call-buttons button {
        display: inline-flex;
        align-items: center;
        gap: 0.3rem;
        background: #fff;
        color: var(--vv-header-bg, #0b57a4);
        border-color: #fff;
        padding: 0.35rem 0.6rem;
      }
      .call-buttons button:hover:not(:disabled) {
        background: #e6effa;
      }
      .call-buttons .icon {
        width: 1.2rem;
        height: 1.2rem;
        fill: none;
        stroke: currentColor;
        stroke-width: 1.8;
        stroke-linecap: round;
        stroke-linejoin: round;
      }
      @media (max-width: 420px) {
        .call-buttons .label {
          display: none;
        }
      }
    `,
  ];

  // ------------------------------------------------------------------ lifecycle
  override connectedCallback(): void {
    super.connectedCallback();
    onLoader((msg) => {
      this.panelOpen = msg.open;
      if (msg.open) this.scheduleReceipt();
      this.reportUnread();
    });
    document.addEventListener("visibilitychange", this.onVisibility);
    window.addEventListener("focus", this.onVisibility);
    document.addEventListener("keydown", this.onKeydown);
    toLoader({ type: "ready" });
    const invite = new URLSearchParams(location.hash.slice(1)).get("invite");
    if (invite) {
      void this.redeemInvite(invite);
      return;
    }
    const stored = loadStored();
    if (stored) this.resume(stored);
    else this.showStart();
  }

  /** The e-mailed link (/join/… → /chat#invite=…): exchange it for a token, keep that
   * like a started conversation, and take the secret out of the address bar. */
  private async redeemInvite(invite: string): Promise<void> {
    this.screen = "loading";
    const url = new URL(location.href);
    url.hash = "";
    history.replaceState(history.state, "", url);
    try {
      const res = await api<CreatedConversation>("POST", "/api/v1/invitations/redeem", { invite });
      this.joined(res);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      // An appointment opened too early: the server names its start and when the link opens.
      if (err instanceof ApiError && code === "too_early") {
        const fmt = (v: unknown, style: Intl.DateTimeFormatOptions): string => {
          const d = new Date(typeof v === "string" ? v : "");
          return Number.isNaN(d.getTime())
            ? "?"
            : new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", style).format(d);
        };
        this.showStart(
          tw("invite_too_early", {
            when: fmt(err.details["starts_at"], { dateStyle: "full", timeStyle: "short" }),
            opens: fmt(err.details["opens_at"], { timeStyle: "short" }),
          }),
        );
        return;
      }
      const key = `invite_${code}`;
      const known = ["invite_expired", "invite_unauthorized", "invite_invalid_state"] as const;
      const match = known.find((k) => k === key);
      this.showStart(match ? tw(match) : errorText(code));
    }
  }

  /** A conversation to join (invitation, phone code): store its token, open it. */
  private joined(res: CreatedConversation): void {
    this.client?.stop();
    this.client = null;
    const stored: StoredConversation = {
      token: res.token,
      conversation_id: res.conversation.id,
      outbox: [],
    };
    saveStored(stored);
    this.summary = res.conversation;
    this.mode = "chat";
    this.resume(stored);
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

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("visibilitychange", this.onVisibility);
    window.removeEventListener("focus", this.onVisibility);
    document.removeEventListener("keydown", this.onKeydown);
    this.stopCalls();
    this.client?.stop();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // The summary's `call` drives the call panel (ringing, active, over).
    if (changed.has("summary")) {
      this.calls?.setCall(this.summary?.call);
      if (this.summary?.status === "active" || this.summary?.call) this.ensureCalls();
    }
  }

  /** The call code is loaded once the conversation is active (not on the first load). */
  private ensureCalls(): void {
    const client = this.client;
    const cid = this.stored?.conversation_id;
    if (this.calls || this.callsLoading || !client || !cid) return;
    this.callsLoading = true;
    void loadCallUi().then(
      ({ CallManager }) => {
        this.callsLoading = false;
        if (this.client !== client || this.calls) return; // another conversation by now
        const calls = new CallManager({ client, conversationId: cid, role: "customer" });
        calls.addEventListener("change", this.onCallChange);
        for (const ev of this.events) calls.onEvent(ev);
        if (this.conn !== "open") calls.onConnState(this.conn);
        calls.setCall(this.summary?.call);
        this.calls = calls;
        this.requestUpdate();
      },
      () => {
        this.callsLoading = false; // e.g. offline: tried again with the next summary
      },
    );
  }

  private stopCalls(): void {
    this.calls?.removeEventListener("change", this.onCallChange);
    this.calls?.dispose();
    this.calls = null;
  }

  private readonly onCallChange = (): void => {
    this.requestUpdate();
    this.reportUnread();
  };

  private readonly onVisibility = (): void => this.scheduleReceipt();

  private readonly onKeydown = (e: KeyboardEvent): void => {
    if (e.key === "Escape" && embedded && !this.confirmingEnd) toLoader({ type: "close" });
  };

  private visible(): boolean {
    return document.visibilityState === "visible" && (!embedded || this.panelOpen);
  }

  // ------------------------------------------------------------------ start
  private showStart(notice = ""): void {
    this.screen = "start";
    this.mode = "chat";
    // Availability and the other ways in: right after the form (not in the first load).
    void import("./start-options");
    this.notice = notice;
    this.submitting = false;
    if (this.topics.length === 0) void this.loadTopics();
    void this.updateComplete.then(() => this.nameInput.value?.focus());
  }

  private async loadTopics(): Promise<void> {
    try {
      const res = await api<{ topics: Topic[] }>("GET", "/api/v1/topics");
      this.topics = Array.isArray(res.topics) ? res.topics : [];
    } catch {
      this.topics = []; // topics are optional; the form works without them
    }
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
    // Only now, with a conversation the customer asked for, is anything stored.
    const stored: StoredConversation = {
      token: created.token,
      conversation_id: created.conversation.id,
      outbox: [],
    };
    saveStored(stored);
    form.reset();
    this.submitting = false;
    this.summary = created.conversation;
    const first: OutboxItem | null = text
      ? {
          conversation_id: stored.conversation_id,
          client_id: clientId,
          text,
          at: new Date().toISOString(),
        }
      : null;
    this.resume(stored, first);
  }

  // ------------------------------------------------------------------ conversation
  private resume(stored: StoredConversation, firstMessage: OutboxItem | null = null): void {
    this.stored = stored;
    this.screen = "chat";
    this.events = [];
    this.failed = [];
    this.queue = null;
    this.historyLoaded = false;
    this.confirmingEnd = false;
    this.endedNotified = false;
    this.sentMarks = { delivered: 0, read: 0 };
    this.marks = { delivered: 0, read: 0 };
    this.lastUnread = -1;
    toLoader({ type: "started" });
    const client = new VisavisClient({
      token: stored.token,
      outbox: stored.outbox,
      onState: (s) => this.onConnState(s),
      onWelcome: (w) => {
        if (w.conversation) this.summary = w.conversation;
      },
      onEvent: (ev) => this.onEvent(ev),
      onFrame: (f) => this.onFrame(f),
      onOutbox: (items) => this.onOutbox(items),
      onChatRefused: (item, err) => this.onRefused(item, err),
    });
    this.client = client;
    this.stopCalls();
    if (firstMessage) client.addStored(firstMessage);
    this.pending = client.pending(stored.conversation_id);
    client.subscribe(stored.conversation_id, 0);
    client.start();
    void this.updateComplete.then(() => this.composer.value?.focus());
  }

  private onConnState(state: ConnState): void {
    this.conn = state;
    this.calls?.onConnState(state);
    if (state === "auth_failed") {
      // The token is invalid or expired: nothing to continue; start afresh.
      this.stopCalls();
      this.client?.stop();
      this.client = null;
      clearStored();
      this.stored = null;
      this.summary = null;
      this.events = [];
      this.pending = [];
      toLoader({ type: "ended" });
      this.showStart(t("previousGone"));
    }
  }

  private onOutbox(items: OutboxItem[]): void {
    if (!this.stored) return;
    // Persist unsent messages with the token: a tab closed before the ack sends them
    // on its next start.
    this.stored = { ...this.stored, outbox: items.filter((i) => !i.stored) };
    saveStored(this.stored);
    this.refreshPending();
  }

  private refreshPending(): void {
    const cid = this.stored?.conversation_id;
    this.pending =
      cid && this.client ? [...this.client.pending(cid), ...this.failed] : [...this.failed];
  }

  private onRefused(item: OutboxItem, err: ErrorMsg): void {
    this.failed = [...this.failed, { ...item, failed: true }];
    this.notice = t("refused", { reason: errorText(err.code) });
    this.refreshPending();
  }

  private onEvent(ev: EventMsg): void {
    this.events = [...this.events, ev];
    this.calls?.onEvent(ev);
    if (ev.kind === "chat.message" && ev.author.role === "adviser") this.adviserTyping = null;
    if (ev.kind === "conversation.accepted" && this.summary) {
      const name =
        typeof ev.body["adviser_name"] === "string"
          ? ev.body["adviser_name"]
          : (ev.author.name ?? null);
      this.summary = {
        ...this.summary,
        status: "active",
        adviser: {
          role: "adviser",
          id: typeof ev.body["adviser_id"] === "string" ? ev.body["adviser_id"] : null,
          name,
        },
      };
    }
    if (ev.kind === "conversation.ended") {
      if (this.summary) this.summary = { ...this.summary, status: "ended" };
      this.onEnded();
    }
    this.scheduleReceipt();
    this.refreshPending();
  }

  private onFrame(f: ServerMessage): void {
    switch (f.type) {
      case "subscribed":
        this.summary = f.conversation;
        this.historyLoaded = true;
        this.marks = {
          delivered: f.conversation.adviser_delivered_seq,
          read: f.conversation.adviser_read_seq,
        };
        this.sentMarks = {
          delivered: Math.max(this.sentMarks.delivered, f.conversation.customer_delivered_seq),
          read: Math.max(this.sentMarks.read, f.conversation.customer_read_seq),
        };
        if (f.conversation.status === "ended") this.onEnded();
        this.calls?.onSubscribed(f.conversation.call);
        this.scheduleReceipt();
        this.reportUnread();
        break;
      case "rtc.signal":
        this.calls?.onSignal(f);
        break;
      case "call.moved":
        this.calls?.onMoved(f);
        break;
      case "conversation.update":
        if (f.conversation.id === this.stored?.conversation_id) {
          this.summary = f.conversation;
          if (f.conversation.status === "ended") this.onEnded();
        }
        break;
      case "queue.position":
        this.queue = f;
        break;
      case "typing":
        if (f.author.role === "adviser") {
          window.clearTimeout(this.typingTimer);
          if (f.active) {
            this.adviserTyping = f.author.name || this.summary?.adviser?.name || tc("adviser");
            this.typingTimer = window.setTimeout(
              () => (this.adviserTyping = null),
              TYPING_TIMEOUT_MS,
            );
          } else {
            this.adviserTyping = null;
          }
        }
        break;
      case "receipt":
        if (f.role === "adviser") {
          this.marks = {
            delivered: Math.max(this.marks.delivered, f.delivered_seq),
            read: Math.max(this.marks.read, f.read_seq),
          };
        }
        break;
      case "error":
        if (f.code === "rate_limited") this.notice = errorText(f.code);
        break;
      default:
        break;
    }
  }

  private onEnded(): void {
    this.adviserTyping = null;
    this.confirmingEnd = false;
    if (this.stored) this.client?.clearOutbox(this.stored.conversation_id);
    if (!this.endedNotified) {
      this.endedNotified = true;
      toLoader({ type: "ended" });
    }
  }

  private get ended(): boolean {
    return (
      this.summary?.status === "ended" || this.events.some((e) => e.kind === "conversation.ended")
    );
  }

  // ------------------------------------------------------------------ receipts
  private scheduleReceipt(): void {
    window.clearTimeout(this.receiptTimer);
    this.receiptTimer = window.setTimeout(() => this.sendReceipt(), 150);
  }

  private sendReceipt(): void {
    const cid = this.stored?.conversation_id;
    if (!cid || !this.client) return;
    const last = this.client.lastSeq(cid);
    const delivered = Math.max(this.sentMarks.delivered, last);
    const read = this.visible() ? Math.max(this.sentMarks.read, last) : this.sentMarks.read;
    if (delivered > this.sentMarks.delivered || read > this.sentMarks.read) {
      const frame = {
        type: "receipt" as const,
        conversation_id: cid,
        delivered_seq: delivered,
        read_seq: read,
      };
      if (this.client.send(frame)) this.sentMarks = { delivered, read };
    }
    this.reportUnread();
  }

  private reportUnread(): void {
    if (!embedded) return;
    const unread =
      this.events.filter(
        (e) =>
          e.kind === "chat.message" && e.author.role === "adviser" && e.seq > this.sentMarks.read,
      ).length + (this.calls?.phase === "incoming" ? 1 : 0);
    if (unread !== this.lastUnread) {
      this.lastUnread = unread;
      toLoader({ type: "unread", count: unread });
    }
  }

  // ------------------------------------------------------------------ actions
  private onSend(e: CustomEvent<{ text: string }>): void {
    const cid = this.stored?.conversation_id;
    if (!cid || !this.client || this.ended) return;
    this.notice = "";
    this.client.sendChat(cid, e.detail.text);
    this.refreshPending();
  }

  private onTyping(e: CustomEvent<{ active: boolean }>): void {
    const cid = this.stored?.conversation_id;
    if (!cid || this.ended) return;
    this.client?.send({ type: "typing", conversation_id: cid, active: e.detail.active });
  }

  private async endConversation(): Promise<void> {
    const cid = this.stored?.conversation_id;
    if (!cid || !this.client) return;
    const answer = await this.client.request({ type: "conversation.end", conversation_id: cid });
    this.confirmingEnd = false;
    if (answer.type === "error" && answer.code !== "invalid_state") {
      this.notice = errorText(
        answer.code === "disconnected" || answer.code === "timeout" ? "network" : answer.code,
      );
    }
  }

  private newConversation(): void {
    this.stopCalls();
    this.client?.stop();
    this.client = null;
    clearStored();
    this.stored = null;
    this.summary = null;
    this.events = [];
    this.pending = [];
    this.failed = [];
    this.queue = null;
    this.conn = "idle";
    this.showStart();
  }

  // ------------------------------------------------------------------ rendering
  private renderWay() {
    const back = () => this.setMode("chat");
    return html`<main class="start">
      ${this.notice ? html`<p class="status-line" role="alert">${this.notice}</p>` : nothing}
      ${
        this.mode === "code"
          ? html`<vv-code-entry
              backable
              @vv-back=${back}
              @vv-redeemed=${(e: CustomEvent<CreatedConversation>) => this.joined(e.detail)}
            ></vv-code-entry>`
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

  private renderStart() {
    if (this.mode !== "chat") return this.renderWay();
    const ways = html`<vv-start-ways
      topic=${this.topic}
      ?prominent=${this.offlineNow}
      @vv-choose=${(e: CustomEvent<{ mode: StartMode }>) => this.setMode(e.detail.mode)}
    ></vv-start-ways>`;
    return html`<main class="start">
      <p>${t("startIntro")}</p>
      ${this.notice ? html`<p class="status-line" role="alert">${this.notice}</p>` : nothing}
      <vv-start-options
        topic=${this.topic}
        adviser-id=${this.adviserId}
        @vv-availability=${(e: CustomEvent<Availability>) => (this.offlineNow = !e.detail.available || e.detail.open === false)}
        @vv-picked=${(e: CustomEvent<PortalAdviser>) => (this.picked = e.detail)}
      ></vv-start-options>
      ${this.offlineNow ? ways : nothing}
      <form class="start-form" @submit=${this.onStart} aria-labelledby="title">
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
            @change=${(e: Event) => (this.topic = (e.target as HTMLSelectElement).value)}
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
        <p class="note muted">${t("privacyNote")}</p>
      </form>
      ${this.offlineNow ? nothing : ways}
    </main>`;
  }

  private renderQueue() {
    if (this.summary?.status !== "queued") return nothing;
    const q = this.queue;
    let text: string;
    if (!q) text = t("queueUnknown");
    else if (q.advisers_available === 0) text = t("noAdviser");
    else if (q.position <= 1) text = t("queueNext");
    else text = t("queuePosition", { position: q.position, waiting: q.waiting });
    const picked = this.picked && this.picked.id === this.adviserId ? this.picked.name : null;
    const estimate = q?.estimate_s ?? null;
    return html`<div class="banner" role="status" aria-live="polite">
      <p
        data-testid="queue-position"
        data-position=${q?.position ?? ""}
        data-waiting=${q?.waiting ?? ""}
      >
        ${picked ? `${tw("waitingForPicked", { name: picked })} ` : ""}${text}
      </p>
      <p data-testid="queue-estimate" data-estimate=${estimate ?? ""}>
        ${tw("estimate", { estimate: formatEstimate(estimate) })}
      </p>
      <p class="muted">${t("writeWhileWaiting")}</p>
    </div>`;
  }

  private renderChat() {
    const ended = this.ended;
    const adviserName = this.summary?.adviser?.name ?? "";
    return html`<main>
      ${this.renderQueue()}
      ${ended ? nothing : html`<vv-call .manager=${this.calls} .otherName=${adviserName || tc("adviser")}></vv-call>`}
      <vv-messages
        .events=${this.events}
        .pending=${this.pending}
        self="customer"
        .otherDelivered=${this.marks.delivered}
        .otherRead=${this.marks.read}
        .otherName=${adviserName || tc("adviser")}
        ?busy=${!this.historyLoaded}
      ></vv-messages>
      <div class="typing" aria-live="polite">
        ${
          this.adviserTyping && !ended
            ? html`<span data-testid="typing-indicator"
                >${tc("typing", { name: this.adviserTyping })}</span
              >`
            : nothing
        }
      </div>
      ${
        ended
          ? html`<div class="banner ended" role="status" data-testid="ended-banner">
              <p>${t("endedBanner")}</p>
              <button type="button" data-testid="new-conversation" @click=${this.newConversation}>
                ${t("newConversation")}
              </button>
            </div>`
          : html`<vv-composer
                ${ref(this.composer)}
                @vv-send=${this.onSend}
                @vv-typing=${this.onTyping}
              ></vv-composer>
              <div class="actions">
                <span class="status-line" role="alert">${this.notice}</span>
                ${
                  this.confirmingEnd
                    ? html`<span class="confirm" role="group" aria-label=${tc("confirmEnd")}>
                        <span>${tc("confirmEnd")}</span>
                        <button
                          type="button"
                          class="danger solid"
                          data-testid="confirm-end"
                          @click=${this.endConversation}
                        >
                          ${tc("confirmYes")}
                        </button>
                        <button
                          type="button"
                          class="secondary"
                          data-testid="cancel-end"
                          @click=${() => (this.confirmingEnd = false)}
                        >
                          ${tc("confirmNo")}
                        </button>
                      </span>`
                    : html`<button
                        type="button"
                        class="danger"
                        data-testid="end-conversation"
                        @click=${() => this.askEnd()}
                      >
                        ${t("endConversation")}
                      </button>`
                }
              </div>`
      }
    </main>`;
  }

  private askEnd(): void {
    this.confirmingEnd = true;
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>('[data-testid="confirm-end"]')?.focus(),
    );
  }

  private headerTitle() {
    if (this.screen !== "chat") return t("title");
    const name = this.summary?.adviser?.name;
    if (name && this.summary?.status !== "queued") {
      const colleague = this.summary?.consultant?.name;
      return html`${t("chatWith")} <span data-testid="adviser-name">${name}</span>${
          colleague ? html` & <span data-testid="consultant-name">${colleague}</span>` : nothing
        }`;
    }
    return this.summary?.status === "queued" ? t("waitingTitle") : t("title");
  }

  private startCall(media: Media): void {
    void this.calls?.request(media);
  }

  private renderCallButtons() {
    const calls = this.calls;
    if (
      this.screen !== "chat" ||
      this.summary?.status !== "active" ||
      this.ended ||
      !calls ||
      calls.phase !== "idle"
    )
      return nothing;
    const name = this.summary.adviser?.name || tc("adviser");
    return html`<span class="call-buttons">
      <button
        type="button"
        data-testid="call-audio"
        aria-label=${tcall("startAudioLabel", { name })}
        title=${tcall("startAudioLabel", { name })}
        ?disabled=${calls.busy}
        @click=${() => this.startCall("audio")}
      >
        ${icon("phone")}<span class="label">${tcall("audioCall")}</span>
      </button>
      <button
        type="button"
        data-testid="call-video"
        aria-label=${tcall("startVideoLabel", { name })}
        title=${tcall("startVideoLabel", { name })}
        ?disabled=${calls.busy}
        @click=${() => this.startCall("video")}
      >
        ${icon("cam")}<span class="label">${tcall("videoCall")}</span>
      </button>
    </span>`;
  }

  override render() {
    document.title = t("title");
    return html`<header>
        <h1 id="title">${this.headerTitle()}</h1>
        ${this.renderCallButtons()}
        ${this.screen === "chat" ? html`<vv-conn-status .state=${this.conn}></vv-conn-status>` : nothing}
        <vv-lang-toggle></vv-lang-toggle>
      </header>
      ${this.screen === "start" ? this.renderStart() : this.screen === "chat" ? this.renderChat() : html`<main></main>`}`;
  }
}
customElements.define("vv-chat-app", ChatApp);
