// The adviser console (/console): sign in, presence, the queue with live waiting
// times, several chats at once with unread counts, and the history. Ways in and
// hand-overs: offers, the offline queue (messages, call-backs), e-mail invitations,
// phone codes, transfers with internal notes, my portal profile, my appointment slots,
// and for supervisors a live overview of all advisers and queues.
import { css, html, nothing } from "lit";
import { keyed } from "lit/directives/keyed.js";
import { repeat } from "lit/directives/repeat.js";
import { api, ApiError, type SessionInfo, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import type { CallManager, Media } from "../lib/call";
import { callKind, tcall } from "../lib/call-strings";
import { loadCallUi, type CallUiModule } from "../lib/calls-lazy";
import { icon } from "../lib/icons";
import "../lib/composer";
import "../lib/conn-status";
import { errorText, lang, tc } from "../lib/i18n";
import "../lib/lang-toggle";
import "../lib/messages";
import type { PendingLine } from "../lib/messages";
import type {
  AdviserInfo,
  ConversationSummary,
  ErrorMsg,
  EventMsg,
  OverviewSnapshotMsg,
  QueueEntry,
  ServerMessage,
  WelcomeMsg,
} from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { VisavisClient, type Answer, type ConnState, type OutboxItem } from "../lib/ws";
import "./history";
import "./code-dialog";
import type { CodeDialog } from "./code-dialog";
import "./consult-bar";
import { myPart } from "./consult-bar";
import "./invite-dialog";
import type { InviteDialog } from "./invite-dialog";
import "./offers";
import type { Offer } from "./offers";
import "./offline-queue";
import "./overview";
import "./profile";
import "./slots";
import "./transfer-dialog";
import type { TeamInfo, TransferDialog } from "./transfer-dialog";
import { tw } from "./ways-strings";
import { t } from "./strings";
import { fieldText } from "../lib/form";

const TYPING_TIMEOUT_MS = 6000;

interface Conv {
  summary: ConversationSummary;
  events: EventMsg[];
  typing: string | null;
  typingTimer: number;
  /** The customer's marks (ticks on my messages). */
  customerDelivered: number;
  customerRead: number;
  /** My marks, as sent to (or echoed by) the server. */
  delivered: number;
  read: number;
  failed: PendingLine[];
  confirmingEnd: boolean;
  /** Calls of this conversation (created with it; holds the peer connection). */
  call: CallManager | null;
  /** I was with this conversation and no longer am (handed over, left). */
  gone: "adviser" | "team" | "left" | null;
}

type View = "chats" | "history" | "profile" | "slots" | "overview";

export function formatWait(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export class ConsoleApp extends I18nElement {
  static override properties = {
    me: { state: true },
    checking: { state: true },
    loginError: { state: true },
    loggingIn: { state: true },
    conn: { state: true },
    presence: { state: true },
    queue: { state: true },
    advisersAvailable: { state: true },
    current: { state: true },
    view: { state: true },
    notice: { state: true },
    now: { state: true },
    tick: { state: true },
    offline: { state: true },
    offers: { state: true },
    overview: { state: true },
  };
  declare me: AdviserInfo | null;
  declare checking: boolean;
  declare loginError: string;
  declare loggingIn: boolean;
  declare conn: ConnState;
  declare presence: { status: "available" | "away" | "offline"; active: number; max_chats: number };
  declare queue: QueueEntry[];
  declare advisersAvailable: number;
  declare current: string | null;
  declare view: View;
  declare notice: { text: string; code: string };
  declare now: number;
  /** Bumped whenever a conversation object changed in place. */
  declare tick: number;
  /** The offline queue: messages and call-backs (queue.snapshot `offline`). */
  declare offline: QueueEntry[];
  /** Waiting customers the server offered to me (conversation.offered). */
  declare offers: Offer[];
  /** Supervisors: all advisers and running conversations, pushed (overview.snapshot);
   *  kept while another view is open so the overview shows at once. */
  declare overview: OverviewSnapshotMsg | null;

  private csrf = "";
  private client: VisavisClient | null = null;
  private readonly convs = new Map<string, Conv>();
  private order: string[] = [];
  private topics: Topic[] = [];
  private clock = 0;
  private receiptTimer = 0;
  private wantSelect: string | null = null;
  /** The call code, once loaded (right after sign-in). */
  private callUi: CallUiModule | null = null;
  private teams: TeamInfo[] = [];

  constructor() {
    super();
    this.me = null;
    this.checking = true;
    this.loginError = "";
    this.loggingIn = false;
    this.conn = "idle";
    this.presence = { status: "offline", active: 0, max_chats: 0 };
    this.queue = [];
    this.advisersAvailable = 0;
    this.current = null;
    this.view = "chats";
    this.notice = { text: "", code: "" };
    this.now = Date.now();
    this.tick = 0;
    this.offline = [];
    this.offers = [];
    this.overview = null;
  }

  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: 100%;
        min-height: 0;
      }
      header.top {
        display: flex;
        align-items: center;
        gap: 0.6rem 1rem;
        flex-wrap: wrap;
        padding: 0.5rem 0.9rem;
        background: #14324f;
        color: #fff;
      }
      header.top h1 {
        font-size: 1.1rem;
        margin: 0;
        flex: 1;
        min-width: 9rem;
      }
      header.top label {
        display: inline;
        margin: 0 0.3rem 0 0;
        font-weight: 400;
      }
      header.top select {
        width: auto;
        color: #1b1f24;
      }
      header.top .load {
        font-variant-numeric: tabular-nums;
      }
      header.top button.secondary {
        background: #fff;
      }
      .notice {
        margin: 0;
        padding: 0.35rem 0.9rem;
        min-height: 2rem;
        background: #fff3f3;
        color: var(--vv-danger, #a4161a);
        border-bottom: 1px solid #f0caca;
      }
      .notice:empty {
        background: transparent;
        border-color: transparent;
        padding: 0;
        min-height: 0;
      }
      nav {
        display: flex;
        gap: 0.25rem;
        padding: 0.5rem 0.9rem 0;
        border-bottom: 1px solid #c9d1da;
      }
      nav button {
        border-radius: 6px 6px 0 0;
        background: #eef1f4;
        color: inherit;
        border-color: #c9d1da;
        border-bottom: none;
      }
      nav button[aria-current="page"] {
        background: #fff;
        color: var(--vv-primary, #0b57a4);
      }
      .body {
        flex: 1;
        min-height: 0;
        display: grid;
        grid-template-columns: minmax(16rem, 22rem) 1fr;
      }
      aside {
        border-right: 1px solid #c9d1da;
        overflow-y: auto;
        padding: 0.75rem;
        background: #f7f9fb;
      }
      aside h2 {
        font-size: 0.95rem;
        margin: 0.25rem 0 0.5rem;
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 0.5rem;
      }
      aside ul {
        list-style: none;
        margin: 0 0 1rem;
        padding: 0;
      }
      .entry {
        background: #fff;
        border: 1px solid #c9d1da;
        border-radius: 8px;
        padding: 0.5rem 0.6rem;
        margin-bottom: 0.45rem;
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.15rem 0.5rem;
        align-items: center;
      }
      .entry .name {
        font-weight: 700;
      }
      .entry .preview {
        grid-column: 1 / -1;
        font-size: 0.85rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .wait {
        font-variant-numeric: tabular-nums;
        font-size: 0.85rem;
      }
      .tab {
        width: 100%;
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.1rem 0.5rem;
        text-align: left;
        background: #fff;
        color: inherit;
        border: 1px solid #c9d1da;
        font-weight: 400;
        margin-bottom: 0.4rem;
      }
      .tab:hover:not(:disabled) {
        background: #eef4fb;
      }
      .tab[aria-current="true"] {
        border-color: var(--vv-primary, #0b57a4);
        box-shadow: inset 4px 0 0 var(--vv-primary, #0b57a4);
        background: #eef4fb;
      }
      .tab .name {
        font-weight: 700;
      }
      .badge {
        background: #b3261e;
        color: #fff;
        border-radius: 999px;
        min-width: 1.5rem;
        padding: 0 0.4rem;
        text-align: center;
        font-size: 0.8rem;
        font-weight: 700;
      }
      .tab .sub {
        font-size: 0.82rem;
        grid-column: 1 / -1;
      }
      section.pane {
        display: flex;
        flex-direction: column;
        min-height: 0;
        min-width: 0;
      }
      .pane header {
        display: flex;
        gap: 0.5rem 0.75rem;
        align-items: center;
        padding: 0.5rem 0.75rem;
        border-bottom: 1px solid #d5dbe1;
        flex-wrap: wrap;
      }
      .pane h2 {
        font-size: 1.05rem;
        margin: 0;
        flex: 1;
      }
      vv-messages {
        flex: 1;
        min-height: 8rem;
      }
      .typing {
        min-height: 1.4rem;
        padding: 0 0.75rem;
        font-size: 0.82rem;
        font-style: italic;
        background: var(--vv-log-bg, #f4f6f8);
      }
      .empty {
        padding: 1.5rem;
      }
      .login {
        max-width: 24rem;
        margin: 2rem auto;
        padding: 1.25rem;
        border: 1px solid #c9d1da;
        border-radius: 10px;
      }
      .login h2 {
        margin-top: 0;
        font-size: 1.2rem;
      }
      .field {
        margin-bottom: 0.9rem;
      }
      .ended-note {
        padding: 0.6rem 0.75rem;
        background: #e8f3ea;
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 0.5rem;
        flex-wrap: wrap;
      }
      .ended-note p {
        margin: 0;
      }
      .call-buttons {
        display: flex;
        gap: 0.35rem;
      }
      .call-buttons button {
        display: inline-flex;
        align-items: center;
        gap: 0.3rem;
      }
      .icon {
        width: 1.2rem;
        height: 1.2rem;
        fill: none;
        stroke: currentColor;
        stroke-width: 1.8;
        stroke-linecap: round;
        stroke-linejoin: round;
      }
      .ringing {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
        margin: 0;
        padding: 0.45rem 0.9rem;
        background: #fff7e0;
        border-bottom: 1px solid #ecd9a0;
        font-weight: 600;
      }
      .tab .call-state {
        color: #1e7b34;
        font-weight: 700;
      }
      nav {
        flex-wrap: wrap;
      }
      nav .ways {
        margin-left: auto;
        display: flex;
        gap: 0.4rem;
        flex-wrap: wrap;
        padding-bottom: 0.35rem;
      }
      nav .ways button {
        border-radius: 6px;
        border: 1px solid var(--vv-primary, #0b57a4);
        background: #fff;
        color: var(--vv-primary, #0b57a4);
      }
      nav .ways button:hover:not(:disabled) {
        background: #eef4fb;
      }
      .handed {
        padding: 0.6rem 0.75rem;
        background: #eef1f4;
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 0.5rem;
        flex-wrap: wrap;
      }
      .handed p {
        margin: 0;
      }
      .tab .consult {
        color: #6b4a00;
        font-weight: 700;
      }
      section.view {
        flex: 1;
        min-height: 0;
        overflow-y: auto;
      }
      @media (max-width: 720px) {
        /* Phones: one scrolling column (queue and chats above, the chat below). */
        :host {
          height: auto;
          min-height: 100%;
        }
        .body {
          display: block;
        }
        aside {
          border-right: none;
          border-bottom: 1px solid #c9d1da;
        }
        section.pane {
          height: 85vh;
          height: 85dvh;
        }
      }
    `,
  ];

  // ------------------------------------------------------------------ lifecycle
  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener("visibilitychange", this.onVisibility);
    window.addEventListener("focus", this.onVisibility);
    void this.checkSession();
    void this.loadTopics();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("visibilitychange", this.onVisibility);
    window.removeEventListener("focus", this.onVisibility);
    window.clearInterval(this.clock);
    this.client?.stop();
  }

  private readonly onVisibility = (): void => this.scheduleReceipts();

  private async loadTopics(): Promise<void> {
    try {
      this.topics = (await api<{ topics: Topic[] }>("GET", "/api/v1/topics")).topics ?? [];
      this.requestUpdate();
    } catch {
      this.topics = [];
    }
  }

  private async loadTeams(): Promise<void> {
    try {
      this.teams = (await api<{ teams: TeamInfo[] }>("GET", "/api/v1/teams")).teams ?? [];
    } catch {
      this.teams = [];
    }
  }

  private readonly teamName = (id: string): string =>
    this.teams.find((tm) => tm.id === id)?.name ?? id;

  private readonly topicLabel = (id: string | null): string => {
    if (!id) return "";
    const topic = this.topics.find((tp) => tp.id === id);
    if (!topic) return id;
    return lang() === "de" ? topic.label_de : topic.label_en;
  };

  // ------------------------------------------------------------------ session
  private async checkSession(): Promise<void> {
    try {
      const s = await api<SessionInfo>("GET", "/api/v1/session");
      this.signedIn(s);
    } catch {
      this.me = null;
    } finally {
      this.checking = false;
    }
  }

  private async onLogin(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.loggingIn) return;
    const data = new FormData(e.target as HTMLFormElement);
    this.loggingIn = true;
    this.loginError = "";
    try {
      const s = await api<SessionInfo>("POST", "/api/v1/session", {
        email: fieldText(data, "email").trim(),
        password: fieldText(data, "password"),
      });
      this.signedIn(s);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      this.loginError =
        code === "bad_credentials"
          ? t("err_bad_credentials")
          : code === "rate_limited"
            ? t("err_login_rate_limited")
            : errorText(code);
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLInputElement>("#password")?.select(),
      );
    } finally {
      this.loggingIn = false;
    }
  }

  private signedIn(s: SessionInfo): void {
    void loadCallUi().then((ui) => {
      this.callUi = ui;
      for (const conv of this.convs.values()) this.attachCall(conv);
      this.bump();
    });
    this.me = s.adviser;
    this.csrf = s.csrf_token;
    this.presence = { status: s.adviser.status, active: 0, max_chats: s.adviser.max_chats };
    this.loginError = "";
    this.connect();
    window.clearInterval(this.clock);
    void this.loadTeams();
    this.clock = window.setInterval(() => {
      if (this.offers.length > 0) {
        const now = Date.now();
        // An unanswered offer moves on (the server says so too: offer.withdrawn).
        if (this.offers.some((o) => o.until <= now))
          this.offers = this.offers.filter((o) => o.until > now);
      }
      if (this.queue.length > 0 || this.offers.length > 0 || this.view === "overview")
        this.now = Date.now();
    }, 1000);
  }

  private async logout(): Promise<void> {
    try {
      await api("DELETE", "/api/v1/session", undefined, { "X-CSRF-Token": this.csrf });
    } catch {
      /* signed out locally either way */
    }
    this.signedOut("");
  }

  private signedOut(message: string): void {
    for (const conv of this.convs.values()) this.disposeCall(conv);
    this.client?.stop();
    this.client = null;
    window.clearInterval(this.clock);
    this.me = null;
    this.csrf = "";
    this.convs.clear();
    this.order = [];
    this.queue = [];
    this.offline = [];
    this.offers = [];
    this.overview = null;
    this.current = null;
    this.view = "chats";
    this.conn = "idle";
    this.loginError = message;
  }

  // ------------------------------------------------------------------ socket
  private connect(): void {
    this.client?.stop();
    const client = new VisavisClient({
      onState: (s) => {
        this.conn = s;
        for (const conv of this.convs.values()) conv.call?.onConnState(s);
        if (s === "auth_failed") this.signedOut(t("sessionExpired"));
      },
      onWelcome: (w) => this.onWelcome(w),
      onEvent: (ev) => this.onEvent(ev),
      onFrame: (f, answered) => this.onFrame(f, answered),
      onOutbox: () => this.bump(),
      onChatRefused: (item, err) => this.onRefused(item, err),
    });
    this.client = client;
    for (const id of this.order) client.subscribe(id, client.lastSeq(id));
    client.start();
  }

  private onWelcome(w: WelcomeMsg): void {
    if (w.adviser) {
      this.me = w.adviser;
      this.presence = {
        ...this.presence,
        status: w.adviser.status,
        max_chats: w.adviser.max_chats,
      };
    }
    for (const summary of w.conversations ?? []) this.upsert(summary);
    if (!this.current && this.order.length > 0) this.current = this.order[0] ?? null;
    this.bump();
  }

  private upsert(summary: ConversationSummary): Conv {
    let conv = this.convs.get(summary.id);
    if (!conv) {
      conv = {
        summary,
        events: [],
        typing: null,
        typingTimer: 0,
        customerDelivered: summary.customer_delivered_seq,
        customerRead: summary.customer_read_seq,
        delivered: summary.adviser_delivered_seq,
        read: summary.adviser_read_seq,
        failed: [],
        confirmingEnd: false,
        call: null,
        gone: null,
      };
      this.convs.set(summary.id, conv);
      this.attachCall(conv);
      this.order = [...this.order, summary.id];
      this.client?.subscribe(summary.id, 0);
    } else {
      conv.summary = summary;
      conv.customerDelivered = Math.max(conv.customerDelivered, summary.customer_delivered_seq);
      conv.customerRead = Math.max(conv.customerRead, summary.customer_read_seq);
      conv.read = Math.max(conv.read, summary.adviser_read_seq);
      conv.delivered = Math.max(conv.delivered, summary.adviser_delivered_seq);
    }
    conv.call?.setCall(summary.call);
    return conv;
  }

  private readonly onCallChange = (): void => this.bump();

  /** A conversation's call manager, fed with what arrived before it existed. */
  private attachCall(conv: Conv): void {
    if (conv.call || !this.callUi || !this.client) return;
    const call = new this.callUi.CallManager({
      client: this.client,
      conversationId: conv.summary.id,
      role: "adviser",
    });
    call.addEventListener("change", this.onCallChange);
    for (const ev of conv.events) call.onEvent(ev);
    if (this.conn !== "open") call.onConnState(this.conn);
    call.setCall(conv.summary.call);
    conv.call = call;
  }

  private disposeCall(conv: Conv): void {
    conv.call?.removeEventListener("change", this.onCallChange);
    conv.call?.dispose();
    conv.call = null;
  }

  /** The conversation whose call is ringing out or running (an adviser takes one at a time). */
  private busyCall(): string | null {
    for (const [id, conv] of this.convs) {
      const p = conv.call?.phase;
      if (p === "active" || p === "outgoing") return id;
    }
    return null;
  }

  private onEvent(ev: EventMsg): void {
    const conv = this.convs.get(ev.conversation_id);
    if (!conv) return;
    conv.events = [...conv.events, ev];
    conv.call?.onEvent(ev);
    if (ev.kind === "chat.message" && ev.author.role === "customer") this.setTyping(conv, null);
    if (ev.kind === "conversation.ended") {
      conv.summary = { ...conv.summary, status: "ended" };
      conv.confirmingEnd = false;
      this.setTyping(conv, null);
      this.client?.clearOutbox(conv.summary.id);
    }
    this.bump();
    this.scheduleReceipts();
  }

  private onFrame(f: ServerMessage, answered: boolean): void {
    switch (f.type) {
      case "queue.snapshot":
        this.queue = f.entries;
        this.offline = f.offline ?? [];
        this.advisersAvailable = f.advisers_available;
        this.now = Date.now();
        break;
      case "adviser.status":
        this.presence = { status: f.status, active: f.active, max_chats: f.max_chats };
        break;
      case "overview.snapshot":
        this.overview = f;
        break;
      case "conversation.offered": {
        const offer: Offer = { ...f, until: Date.now() + f.expires_in_s * 1000 };
        this.offers = [
          ...this.offers.filter((o) => o.conversation_id !== f.conversation_id),
          offer,
        ];
        this.now = Date.now();
        break;
      }
      case "offer.withdrawn":
        this.offers = this.offers.filter((o) => o.conversation_id !== f.conversation_id);
        break;
      case "conversation.assigned": {
        this.offers = this.offers.filter((o) => o.conversation_id !== f.conversation.id);
        const back = this.convs.get(f.conversation.id);
        if (back?.gone) {
          // Mine again (e.g. handed back): follow it afresh from the first event.
          back.gone = null;
          back.events = [];
          this.client?.subscribe(f.conversation.id, 0);
        }
        this.upsert(f.conversation);
        if (this.wantSelect === f.conversation.id || !this.current) this.select(f.conversation.id);
        this.bump();
        break;
      }
      case "conversation.update": {
        const conv = this.convs.get(f.conversation.id);
        if (conv) {
          const before = myPart(conv.summary, this.me?.id);
          this.upsert(f.conversation);
          if (f.conversation.status === "ended") this.setTyping(conv, null);
          if (
            before !== "none" &&
            myPart(f.conversation, this.me?.id) === "none" &&
            f.conversation.status !== "ended"
          ) {
            // Handed over (or I left the consultation): read-only from here, and no
            // resubscribing after a reconnect (the server no longer lets me follow it).
            conv.gone =
              before === "consultant"
                ? "left"
                : f.conversation.status === "queued"
                  ? "team"
                  : "adviser";
            this.setTyping(conv, null);
            this.client?.forget(conv.summary.id);
          }
          this.bump();
        }
        break;
      }
      case "subscribed": {
        const conv = this.convs.get(f.conversation.id);
        if (conv) {
          this.upsert(f.conversation);
          conv.call?.onSubscribed(f.conversation.call);
        }
        this.bump();
        this.scheduleReceipts();
        break;
      }
      case "typing": {
        const conv = this.convs.get(f.conversation_id);
        if (conv && f.author.role === "customer") {
          this.setTyping(
            conv,
            f.active ? f.author.name || conv.summary.customer_name || t("anonymous") : null,
          );
        }
        break;
      }
      case "receipt": {
        const conv = this.convs.get(f.conversation_id);
        if (!conv) break;
        if (f.role === "customer") {
          conv.customerDelivered = Math.max(conv.customerDelivered, f.delivered_seq);
          conv.customerRead = Math.max(conv.customerRead, f.read_seq);
        } else {
          // My own marks from another tab of mine.
          conv.delivered = Math.max(conv.delivered, f.delivered_seq);
          conv.read = Math.max(conv.read, f.read_seq);
        }
        this.bump();
        break;
      }
      case "rtc.signal":
        this.convs.get(f.conversation_id)?.call?.onSignal(f);
        break;
      case "call.moved":
        this.convs.get(f.conversation_id)?.call?.onMoved(f);
        break;
      case "error":
        // Errors of requests are shown by the code that made them, refused chat
        // messages by onRefused, call signalling (ephemeral, raced by hang-ups) not
        // at all; show the rest.
        if (!answered && !f.id?.startsWith("m-") && !f.id?.startsWith("rtc-")) this.showError(f);
        break;
      default:
        break;
    }
  }

  private setTyping(conv: Conv, who: string | null): void {
    window.clearTimeout(conv.typingTimer);
    conv.typing = who;
    if (who) {
      conv.typingTimer = window.setTimeout(() => {
        conv.typing = null;
        this.bump();
      }, TYPING_TIMEOUT_MS);
    }
    this.bump();
  }

  private bump(): void {
    this.tick += 1;
  }

  private showError(err: ErrorMsg | { code: string }): void {
    this.notice = {
      text: errorText(err.code === "disconnected" || err.code === "timeout" ? "network" : err.code),
      code: err.code,
    };
  }

  private clearNotice(): void {
    this.notice = { text: "", code: "" };
  }

  private async answer(p: Promise<Answer>): Promise<Answer> {
    const a = await p;
    if (a.type === "error") this.showError(a);
    else this.clearNotice();
    return a;
  }

  // ------------------------------------------------------------------ receipts & unread
  private unread(id: string): number {
    const conv = this.convs.get(id);
    if (!conv) return 0;
    let n = 0;
    for (const ev of conv.events) {
      if (ev.kind === "chat.message" && ev.author.role === "customer" && ev.seq > conv.read) n += 1;
    }
    return n;
  }

  private scheduleReceipts(): void {
    window.clearTimeout(this.receiptTimer);
    this.receiptTimer = window.setTimeout(() => this.sendReceipts(), 150);
  }

  private sendReceipts(): void {
    const client = this.client;
    if (!client) return;
    const visible = document.visibilityState === "visible" && this.view === "chats";
    for (const [id, conv] of this.convs) {
      const last = client.lastSeq(id);
      const delivered = Math.max(conv.delivered, last);
      const read = visible && id === this.current ? Math.max(conv.read, last) : conv.read;
      if (delivered > conv.delivered || read > conv.read) {
        if (
          client.send({
            type: "receipt",
            conversation_id: id,
            delivered_seq: delivered,
            read_seq: read,
          })
        ) {
          conv.delivered = delivered;
          conv.read = read;
        }
      }
    }
    this.bump();
  }

  // ------------------------------------------------------------------ actions
  private select(id: string): void {
    this.current = id;
    this.view = "chats";
    this.wantSelect = null;
    this.scheduleReceipts();
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>("vv-composer")?.focus(),
    );
  }

  private async setStatus(e: Event): Promise<void> {
    const select = e.target as HTMLSelectElement;
    const value = select.value;
    if (value !== "available" && value !== "away") return;
    const a = this.client
      ? await this.answer(this.client.request({ type: "status.set", status: value }))
      : null;
    if (a?.type === "ack") return; // adviser.status follows and updates `presence`
    // Refused or not sent: the control must not claim a status the server does not
    // have (customers would be told someone is there, or not). Lit only writes
    // `.value` when `presence` changes, so put it back by hand.
    select.value = this.presence.status;
    if (!a) this.showError({ code: "disconnected" });
  }

  private async accept(entry: { conversation_id: string }): Promise<void> {
    if (!this.client) return;
    this.wantSelect = entry.conversation_id;
    const a = await this.answer(
      this.client.request({ type: "conversation.accept", conversation_id: entry.conversation_id }),
    );
    if (a.type === "ack" && this.convs.has(entry.conversation_id))
      this.select(entry.conversation_id);
    if (a.type === "error") this.wantSelect = null;
  }

  private async acceptNext(): Promise<void> {
    if (!this.client) return;
    const known = new Set(this.order);
    const a = await this.client.request({ type: "queue.next" });
    if (a.type === "error") {
      if (a.code === "not_found") this.notice = { text: t("queueEmptyNext"), code: a.code };
      else this.showError(a);
      return;
    }
    this.clearNotice();
    const id = a.type === "ack" ? a.conversation_id : null;
    if (id) {
      if (this.convs.has(id)) this.select(id);
      else this.wantSelect = id;
    } else {
      const fresh = this.order.find((x) => !known.has(x));
      if (fresh) this.select(fresh);
    }
  }

  private onSend(e: CustomEvent<{ text: string }>): void {
    if (!this.current || !this.client) return;
    this.client.sendChat(this.current, e.detail.text);
    this.bump();
  }

  private onTyping(e: CustomEvent<{ active: boolean }>): void {
    if (!this.current) return;
    this.client?.send({ type: "typing", conversation_id: this.current, active: e.detail.active });
  }

  private onRefused(item: OutboxItem, err: ErrorMsg): void {
    const conv = this.convs.get(item.conversation_id);
    if (conv) conv.failed = [...conv.failed, { ...item, failed: true }];
    this.showError(err);
    this.bump();
  }

  private async end(conv: Conv): Promise<void> {
    if (!this.client) return;
    const a = await this.answer(
      this.client.request({ type: "conversation.end", conversation_id: conv.summary.id }),
    );
    conv.confirmingEnd = false;
    if (a.type === "error" && a.code === "invalid_state")
      conv.summary = { ...conv.summary, status: "ended" };
    this.bump();
  }

  private closeTab(id: string): void {
    const conv = this.convs.get(id);
    if (conv) this.disposeCall(conv);
    this.convs.delete(id);
    this.client?.forget(id);
    this.order = this.order.filter((x) => x !== id);
    if (this.current === id) this.current = this.order[0] ?? null;
    this.bump();
  }

  private async declineOffer(o: Offer): Promise<void> {
    this.offers = this.offers.filter((x) => x.conversation_id !== o.conversation_id);
    if (this.client)
      await this.answer(
        this.client.request({ type: "offer.decline", conversation_id: o.conversation_id }),
      );
  }

  private openDialog(sel: string): void {
    this.renderRoot.querySelector<InviteDialog | CodeDialog | TransferDialog>(sel)?.open();
  }

  private switchView(view: View): void {
    this.view = view;
    this.scheduleReceipts();
  }

  // ------------------------------------------------------------------ rendering
  private renderLogin() {
    return html`<main class="login">
      <h2>${t("loginTitle")}</h2>
      <form @submit=${this.onLogin}>
        <div class="field">
          <label for="email">${t("email")}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            data-testid="login-email"
          />
        </div>
        <div class="field">
          <label for="password">${t("password")}</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            data-testid="login-password"
          />
        </div>
        <p class="status-line" role="alert" data-testid="login-error">${this.loginError}</p>
        <button type="submit" data-testid="login-submit" ?disabled=${this.loggingIn}>
          ${this.loggingIn ? t("loggingIn") : t("login")}
        </button>
      </form>
    </main>`;
  }

  private renderQueue() {
    return html`<h2 id="queue-h">
        <span>${t("queue")} (${this.queue.length})</span>
        <button
          type="button"
          data-testid="accept-next"
          ?disabled=${this.queue.length === 0}
          @click=${this.acceptNext}
        >
          ${t("acceptNext")}
        </button>
      </h2>
      <p class="muted">${t("advisersAvailable", { n: this.advisersAvailable })}</p>
      <ul data-testid="queue-list" aria-labelledby="queue-h">
        ${this.queue.length === 0 ? html`<li class="muted">${t("queueEmpty")}</li>` : nothing}
        ${repeat(
          this.queue,
          (e) => e.conversation_id,
          (e) => {
            const name = e.customer_name || t("anonymous");
            const waited = formatWait(this.now - Date.parse(e.queued_at));
            return html`<li
              class="entry"
              data-testid="queue-entry"
              data-conversation-id=${e.conversation_id}
            >
              <span class="name">${name}</span>
              <button
                type="button"
                data-testid="accept"
                aria-label=${t("acceptLabel", { name })}
                @click=${() => this.accept(e)}
              >
                ${t("accept")}
              </button>
              <span class="muted"
                >${this.topicLabel(e.topic) || t("noTopic")}${e.language ? ` · ${e.language}` : ""}</span
              >
              <span class="wait" data-testid="queue-wait"
                >${t("waitingFor", { time: waited })}</span
              >
              ${e.preview ? html`<span class="preview muted">${e.preview}</span>` : nothing}
            </li>`;
          },
        )}
      </ul>`;
  }

  private renderTabs() {
    return html`<h2 id="mine-h">${t("myChats")}</h2>
      ${this.order.length === 0 ? html`<p class="muted">${t("noChats")}</p>` : nothing}
      <ul aria-labelledby="mine-h">
        ${repeat(
          this.order,
          (id) => id,
          (id) => {
            const conv = this.convs.get(id);
            if (!conv) return nothing;
            const n = this.unread(id);
            const s = conv.summary;
            const status =
              s.status === "ended"
                ? t("statusEnded")
                : s.status === "queued"
                  ? t("statusQueued")
                  : t("statusActive");
            return html`<li>
              <button
                type="button"
                class="tab"
                data-testid="conversation-tab"
                data-conversation-id=${id}
                aria-current=${this.current === id && this.view === "chats" ? "true" : "false"}
                @click=${() => this.select(id)}
              >
                <span class="name">${s.customer_name || t("anonymous")}</span>
                <span
                  class="badge"
                  data-testid="unread-count"
                  aria-label=${t("unread", { n })}
                  ?hidden=${n === 0}
                  >${n}</span
                >
                <span class="sub muted">
                  ${this.topicLabel(s.topic) || t("noTopic")} ·
                  ${status}${conv.typing ? html` · <em>${t("typingShort")}</em>` : nothing}
                  ${s.consultant && !conv.gone ? html` · <span class="consult">${tw("consultTab")}</span>` : nothing}
                  ${this.callTabNote(conv)}
                </span>
              </button>
            </li>`;
          },
        )}
      </ul>`;
  }

  private renderPane() {
    const conv = this.current ? this.convs.get(this.current) : undefined;
    if (!conv)
      return html`<section class="pane"><p class="empty muted">${t("selectChat")}</p></section>`;
    const s = conv.summary;
    const gone = conv.gone;
    const ended = s.status === "ended" || gone !== null;
    const part = myPart(s, this.me?.id);
    const name = s.customer_name || t("anonymous");
    const pending: PendingLine[] = [...(this.client?.pending(s.id) ?? []), ...conv.failed];
    return html`<section class="pane" aria-labelledby="pane-h" data-conversation-id=${s.id}>
      <header>
        <h2 id="pane-h">${name}</h2>
        <span class="muted"
          >${this.topicLabel(s.topic) || t("noTopic")}${s.language ? ` · ${s.language}` : ""}</span
        >
        ${part === "adviser" ? this.renderCallButtons(conv, name) : nothing}
        ${
          !ended && part === "adviser" && s.status === "active" && !s.consultant
            ? html`<button
                type="button"
                class="secondary"
                data-testid="transfer-open"
                @click=${() => this.openDialog("vv-transfer-dialog")}
              >
                ${tw("transferButton")}
              </button>`
            : nothing
        }
        ${
          !ended && part === "consultant"
            ? nothing
            : ended
              ? html`<button
                  type="button"
                  class="secondary"
                  data-testid="close-tab"
                  @click=${() => this.closeTab(s.id)}
                >
                  ${t("closeTab")}
                </button>`
              : conv.confirmingEnd
                ? html`<span role="group" aria-label=${tc("confirmEnd")}>
                    ${tc("confirmEnd")}
                    <button
                      type="button"
                      class="danger solid"
                      data-testid="confirm-end"
                      @click=${() => this.end(conv)}
                    >
                      ${tc("confirmYes")}
                    </button>
                    <button
                      type="button"
                      class="secondary"
                      data-testid="cancel-end"
                      @click=${() => {
                        conv.confirmingEnd = false;
                        this.bump();
                      }}
                    >
                      ${tc("confirmNo")}
                    </button>
                  </span>`
                : html`<button
                    type="button"
                    class="danger"
                    data-testid="end-conversation"
                    @click=${() => {
                      conv.confirmingEnd = true;
                      this.bump();
                      void this.updateComplete.then(() =>
                        this.renderRoot
                          .querySelector<HTMLElement>('[data-testid="confirm-end"]')
                          ?.focus(),
                      );
                    }}
                  >
                    ${t("end")}
                  </button>`
        }
      </header>
      ${ended || part !== "adviser" ? nothing : html`<vv-call .manager=${conv.call} .otherName=${name}></vv-call>`}
      ${ended ? nothing : html`<vv-consult-bar .summary=${s} .meId=${this.me?.id ?? ""} .client=${this.client}></vv-consult-bar>`}
      <vv-messages
        .events=${conv.events}
        .pending=${pending}
        self="adviser"
        .selfId=${this.me?.id ?? ""}
        .teamNames=${this.teamName}
        .otherDelivered=${conv.customerDelivered}
        .otherRead=${conv.customerRead}
        .otherName=${name}
      ></vv-messages>
      <div class="typing" aria-live="polite">
        ${conv.typing && !ended ? html`<span data-testid="typing-indicator">${tc("typing", { name: conv.typing })}</span>` : nothing}
      </div>
      ${
        gone
          ? html`<div class="handed" role="status" data-testid="handed-over" data-gone=${gone}>
              <p>
                ${
                  gone === "adviser"
                    ? tw("handedOver", { name: s.adviser?.name ?? "" })
                    : gone === "team"
                      ? tw("handedToTeam")
                      : tw("leftConsult")
                }
              </p>
            </div>`
          : ended
            ? html`<div class="ended-note" role="status"><p>${t("conversationEnded")}</p></div>`
            : keyed(
                s.id,
                html`<vv-composer
                  @vv-send=${this.onSend}
                  @vv-typing=${this.onTyping}
                ></vv-composer>`,
              )
      }
    </section>`;
  }

  private callTabNote(conv: Conv) {
    const p = conv.call?.phase;
    if (!p || p === "idle") return nothing;
    const kind = callKind(conv.call?.call?.media);
    return html` ·
      <span class="call-state" data-testid="tab-call" data-phase=${p}
        >${p === "active" ? kind : `${kind} …`}</span
      >`;
  }

  private renderCallButtons(conv: Conv, name: string) {
    const call = conv.call;
    if (!call || conv.summary.status !== "active" || call.phase !== "idle") return nothing;
    const elsewhere = this.busyCall();
    const disabled = call.busy || elsewhere !== null;
    const start = (media: Media): void => void call.request(media);
    return html`<span class="call-buttons">
      <button
        type="button"
        class="secondary"
        data-testid="call-audio"
        aria-label=${tcall("startAudioLabel", { name })}
        title=${elsewhere ? tcall("busyElsewhere") : tcall("startAudioLabel", { name })}
        ?disabled=${disabled}
        @click=${() => start("audio")}
      >
        ${icon("phone")}<span>${tcall("audioCall")}</span>
      </button>
      <button
        type="button"
        class="secondary"
        data-testid="call-video"
        aria-label=${tcall("startVideoLabel", { name })}
        title=${elsewhere ? tcall("busyElsewhere") : tcall("startVideoLabel", { name })}
        ?disabled=${disabled}
        @click=${() => start("video")}
      >
        ${icon("cam")}<span>${tcall("videoCall")}</span>
      </button>
    </span>`;
  }

  /** A customer calls in a conversation not on screen: say so, with a way there. */
  private renderRingingElsewhere() {
    const items = this.order.filter((id) => {
      const conv = this.convs.get(id);
      return conv?.call?.phase === "incoming" && (id !== this.current || this.view !== "chats");
    });
    if (items.length === 0) return nothing;
    return items.map((id) => {
      const conv = this.convs.get(id);
      const name = conv?.summary.customer_name || t("anonymous");
      return html`<p
        class="ringing"
        role="alert"
        data-testid="incoming-elsewhere"
        data-conversation-id=${id}
      >
        ${icon("phone")}
        ${tcall("incomingElsewhere", { name, kind: callKind(conv?.call?.call?.media) })}
        <button type="button" data-testid="go-to-call" @click=${() => this.select(id)}>
          ${tcall("goToConversation")}
        </button>
      </p>`;
    });
  }

  private renderMain() {
    const p = this.presence;
    return html`<p
        class="notice"
        role="status"
        aria-live="polite"
        data-testid="console-error"
        data-code=${this.notice.code}
      >
        ${this.notice.text ? `${this.notice.text} (${this.notice.code})` : ""}
      </p>
      <vv-offers
        .offers=${this.offers}
        .now=${this.now}
        .topicLabel=${this.topicLabel}
        @vv-offer-accept=${(e: CustomEvent<Offer>) => this.accept(e.detail)}
        @vv-offer-decline=${(e: CustomEvent<Offer>) => this.declineOffer(e.detail)}
      ></vv-offers>
      <nav aria-label=${t("appTitle")}>
        <button
          type="button"
          class="secondary"
          data-testid="chats-tab"
          aria-current=${this.view === "chats" ? "page" : "false"}
          @click=${() => this.switchView("chats")}
        >
          ${t("tabChats")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="history-tab"
          aria-current=${this.view === "history" ? "page" : "false"}
          @click=${() => this.switchView("history")}
        >
          ${t("tabHistory")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="profile-tab"
          aria-current=${this.view === "profile" ? "page" : "false"}
          @click=${() => this.switchView("profile")}
        >
          ${tw("tabProfile")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="slots-tab"
          aria-current=${this.view === "slots" ? "page" : "false"}
          @click=${() => this.switchView("slots")}
        >
          ${tw("tabSlots")}
        </button>
        ${
          this.me?.role === "supervisor" || this.me?.role === "admin"
            ? html`<button
                type="button"
                class="secondary"
                data-testid="overview-tab"
                aria-current=${this.view === "overview" ? "page" : "false"}
                @click=${() => this.switchView("overview")}
              >
                ${tw("tabOverview")}
              </button>`
            : nothing
        }
        <span class="ways">
          <button
            type="button"
            data-testid="open-invite"
            aria-haspopup="dialog"
            @click=${() => this.openDialog("vv-invite-dialog")}
          >
            ${tw("inviteButton")}
          </button>
          <button
            type="button"
            data-testid="open-code"
            aria-haspopup="dialog"
            @click=${() => this.openDialog("vv-code-dialog")}
          >
            ${tw("codeButton")}
          </button>
        </span>
      </nav>
      ${this.renderRingingElsewhere()}
      ${
        this.view === "history"
          ? html`<vv-history .topicLabel=${this.topicLabel}></vv-history>`
          : this.view === "profile"
            ? html`<section class="view"><vv-profile .csrf=${this.csrf}></vv-profile></section>`
            : this.view === "slots"
              ? html`<section class="view"><vv-slots .csrf=${this.csrf}></vv-slots></section>`
              : this.view === "overview"
                ? html`<section class="view">
                    <vv-overview
                      .queue=${this.queue}
                      .offline=${this.offline}
                      .topicLabel=${this.topicLabel}
                      .now=${this.now}
                      .snapshot=${this.overview}
                    ></vv-overview>
                  </section>`
                : html`<div class="body">
                    <aside>
                      ${this.renderQueue()}
                      <vv-offline-queue
                        .entries=${this.offline}
                        .topicLabel=${this.topicLabel}
                        @vv-take=${(e: CustomEvent<QueueEntry>) => this.accept(e.detail)}
                      ></vv-offline-queue>
                      ${this.renderTabs()}
                    </aside>
                    ${this.renderPane()}
                  </div>`
      }
      <vv-invite-dialog .csrf=${this.csrf}></vv-invite-dialog>
      <vv-code-dialog .csrf=${this.csrf}></vv-code-dialog>
      <vv-transfer-dialog
        .client=${this.client}
        .conversationId=${this.current ?? ""}
        .meId=${this.me?.id ?? ""}
      ></vv-transfer-dialog>
      <span class="sr-only" aria-live="polite">${p.active}/${p.max_chats}</span>`;
  }

  override render() {
    const total = this.order.reduce((n, id) => n + this.unread(id), 0);
    document.title = (total > 0 ? `(${total}) ` : "") + t("appTitle");
    const me = this.me;
    const p = this.presence;
    return html`<header class="top">
        <h1>${t("appTitle")}</h1>
        ${
          me
            ? html`<span>${me.name}</span>
                <span>
                  <label for="status">${t("statusLabel")}</label>
                  <select
                    id="status"
                    data-testid="status-toggle"
                    .value=${p.status}
                    @change=${this.setStatus}
                  >
                    <option value="available" ?selected=${p.status === "available"}>
                      ${t("status_available")}
                    </option>
                    <option value="away" ?selected=${p.status === "away"}>
                      ${t("status_away")}
                    </option>
                    ${p.status === "offline" ? html`<option value="offline" disabled selected>${t("status_offline")}</option>` : nothing}
                  </select>
                </span>
                <span
                  class="load"
                  data-testid="adviser-load"
                  title=${t("loadLabel", { active: p.active, max: p.max_chats })}
                >
                  ${t("load", { active: p.active, max: p.max_chats })}
                </span>
                <vv-conn-status .state=${this.conn}></vv-conn-status>`
            : nothing
        }
        <vv-lang-toggle></vv-lang-toggle>
        ${me ? html`<button type="button" class="secondary" data-testid="logout" @click=${this.logout}>${t("logout")}</button>` : nothing}
      </header>
      ${this.checking ? html`<main class="empty muted">${t("historyLoading")}</main>` : me ? this.renderMain() : this.renderLogin()}`;
  }
}
customElements.define("vv-console-app", ConsoleApp);
