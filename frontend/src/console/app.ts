// The adviser console (/console): sign in, presence, the queue with live waiting
// times, several chats at once with unread counts, and the history. Ways in and
// hand-overs: offers, the offline queue (messages, call-backs), e-mail invitations,
// phone codes, transfers with internal notes, my portal profile, my appointment slots,
// and for supervisors a live overview of all advisers and queues.
// The conversations (events, receipts, typing, calls) are the shared model
// (lib/model); the parts of the screen are components: top-bar.ts, view-nav.ts,
// login-view.ts, queue-panel.ts, conversation-list.ts, chat-pane.ts; styles.ts holds
// the CSS.
import { html, nothing } from "lit";
import { api, type SessionInfo, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import { callKind, tcall } from "../lib/call-strings";
import { icon } from "../lib/icons";
import { errorText, lang } from "../lib/i18n";
import { Conversations } from "../lib/model/controller";
import type {
  AdviserInfo,
  ErrorMsg,
  OverviewSnapshotMsg,
  QueueEntry,
  ServerMessage,
} from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { Answer } from "../lib/ws";
import { formFrame } from "../forms/slot";
import "./chat-pane";
import { deliverCobrowse } from "./cobrowse-glue";
import type { ChatPane, EndAnswer } from "./chat-pane";
import "./code-dialog";
import type { CodeDialog } from "./code-dialog";
import "./conversation-list";
import type { ChatTab } from "./conversation-list";
import "./history";
import "./invite-dialog";
import type { InviteDialog } from "./invite-dialog";
import "./login-view";
import "./offers";
import type { Offer } from "./offers";
import "./offline-queue";
import "./overview";
import "./profile";
import "./queue-panel";
import "./slots";
import { t } from "./strings";
import { appStyles } from "./styles";
import "./top-bar";
import type { Presence } from "./top-bar";
import "./transfer-dialog";
import type { TeamInfo, TransferDialog } from "./transfer-dialog";
import "./view-nav";
import type { View } from "./view-nav";

function topicLabels(topics: Topic[]): (id: string | null) => string {
  return (id) => {
    if (!id) return "";
    const topic = topics.find((tp) => tp.id === id);
    if (!topic) return id;
    return lang() === "de" ? topic.label_de : topic.label_en;
  };
}

function teamNames(teams: TeamInfo[]): (id: string) => string {
  return (id) => teams.find((tm) => tm.id === id)?.name ?? id;
}

let libraryLoad: Promise<unknown> | null = null;
let privacyLoad: Promise<unknown> | null = null;

export class ConsoleApp extends I18nElement {
  static override properties = {
    me: { state: true },
    checking: { state: true },
    loginError: { state: true },
    presence: { state: true },
    queue: { state: true },
    advisersAvailable: { state: true },
    current: { state: true },
    view: { state: true },
    notice: { state: true },
    now: { state: true },
    offline: { state: true },
    offers: { state: true },
    overview: { state: true },
    topicLabel: { state: true },
    teamName: { state: true },
  };
  declare me: AdviserInfo | null;
  declare checking: boolean;
  declare loginError: string;
  declare presence: Presence;
  declare queue: QueueEntry[];
  declare advisersAvailable: number;
  declare current: string | null;
  declare view: View;
  declare notice: { text: string; code: string };
  declare now: number;
  /** The offline queue: messages and call-backs (queue.snapshot `offline`). */
  declare offline: QueueEntry[];
  /** Waiting customers the server offered to me (conversation.offered). */
  declare offers: Offer[];
  /** Supervisors: all advisers and running conversations, pushed (overview.snapshot);
   *  kept while another view is open so the overview shows at once. */
  declare overview: OverviewSnapshotMsg | null;
  /** A topic's label, a team's name (new functions once the lists came, so the
   *  components that show them draw again). */
  declare topicLabel: (id: string | null) => string;
  declare teamName: (id: string) => string;

  /** My conversations: the socket and everything that arrives on it for them. */
  private readonly chats = new Conversations(this, {
    self: "adviser",
    eagerCalls: true,
    shown: (id) => this.view === "chats" && id === this.current,
    onFrame: (f, answered) => this.onFrame(f, answered),
    onState: (s) => {
      if (s === "auth_failed") this.signedOut(t("sessionExpired"));
    },
    onRefused: (_item, err) => this.showError(err),
  });
  private csrf = "";
  private clock = 0;
  private wantSelect: string | null = null;

  constructor() {
    super();
    this.me = null;
    this.checking = true;
    this.loginError = "";
    this.presence = { status: "offline", active: 0, max_chats: 0 };
    this.queue = [];
    this.advisersAvailable = 0;
    this.current = null;
    this.view = "chats";
    this.notice = { text: "", code: "" };
    this.now = Date.now();
    this.offline = [];
    this.offers = [];
    this.overview = null;
    this.topicLabel = topicLabels([]);
    this.teamName = teamNames([]);
  }

  static override styles = [base, ...appStyles];

  // ------------------------------------------------------------------ lifecycle
  override connectedCallback(): void {
    super.connectedCallback();
    void this.checkSession();
    void this.loadTopics();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.clock);
  }

  private async loadTopics(): Promise<void> {
    try {
      const res = await api<{ topics: Topic[] }>("GET", "/api/v1/topics");
      this.topicLabel = topicLabels(res.topics ?? []);
    } catch {
      /* ids stand in for labels */
    }
  }

  private async loadTeams(): Promise<void> {
    try {
      this.teamName = teamNames(
        (await api<{ teams: TeamInfo[] }>("GET", "/api/v1/teams")).teams ?? [],
      );
    } catch {
      /* ids stand in for names */
    }
  }

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

  private signedIn(s: SessionInfo): void {
    this.me = s.adviser;
    this.csrf = s.csrf_token;
    this.presence = { status: s.adviser.status, active: 0, max_chats: s.adviser.max_chats };
    this.loginError = "";
    this.chats.start();
    this.chats.loadCalls();
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
    this.chats.stop();
    window.clearInterval(this.clock);
    this.me = null;
    this.csrf = "";
    this.queue = [];
    this.offline = [];
    this.offers = [];
    this.overview = null;
    this.current = null;
    this.view = "chats";
    this.loginError = message;
  }

  // ------------------------------------------------------------------ frames
  /** What the console keeps besides the conversations: presence, queue, offers. */
  private onFrame(f: ServerMessage, answered: boolean): void {
    formFrame(f);
    switch (f.type) {
      case "welcome":
        if (f.adviser) {
          this.me = f.adviser;
          this.presence = {
            ...this.presence,
            status: f.adviser.status,
            max_chats: f.adviser.max_chats,
          };
        }
        if (!this.current) this.current = this.chats.order[0] ?? null;
        break;
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
      case "cobrowse.batch":
        deliverCobrowse(f);
        break;
      case "offer.withdrawn":
        this.offers = this.offers.filter((o) => o.conversation_id !== f.conversation_id);
        break;
      case "conversation.assigned":
        this.offers = this.offers.filter((o) => o.conversation_id !== f.conversation.id);
        if (this.wantSelect === f.conversation.id || !this.current) this.select(f.conversation.id);
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

  private showError(err: ErrorMsg | { code: string }): void {
    this.notice = {
      text: errorText(err.code === "disconnected" || err.code === "timeout" ? "network" : err.code),
      code: err.code,
    };
  }

  private clearNotice(): void {
    this.notice = { text: "", code: "" };
  }

  /** An answer to something I did: an error shows, success clears the last one. */
  private shown(a: Answer): Answer {
    if (a.type === "error") this.showError(a);
    else this.clearNotice();
    return a;
  }

  private async answer(p: Promise<Answer>): Promise<Answer> {
    return this.shown(await p);
  }

  // ------------------------------------------------------------------ actions
  private select(id: string): void {
    this.current = id;
    this.view = "chats";
    this.wantSelect = null;
    this.chats.scheduleReceipts();
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<ChatPane>("vv-chat-pane")?.focusComposer(),
    );
  }

  private async accept(entry: { conversation_id: string }): Promise<void> {
    const client = this.chats.client;
    if (!client) return;
    this.wantSelect = entry.conversation_id;
    const a = await this.answer(
      client.request({ type: "conversation.accept", conversation_id: entry.conversation_id }),
    );
    if (a.type === "ack" && this.chats.get(entry.conversation_id))
      this.select(entry.conversation_id);
    if (a.type === "error") this.wantSelect = null;
  }

  private async acceptNext(): Promise<void> {
    const client = this.chats.client;
    if (!client) return;
    const known = new Set(this.chats.order);
    const a = await client.request({ type: "queue.next" });
    if (a.type === "error") {
      if (a.code === "not_found") this.notice = { text: t("queueEmptyNext"), code: a.code };
      else this.showError(a);
      return;
    }
    this.clearNotice();
    const id = a.type === "ack" ? a.conversation_id : null;
    if (id) {
      if (this.chats.get(id)) this.select(id);
      else this.wantSelect = id;
    } else {
      const fresh = this.chats.order.find((x) => !known.has(x));
      if (fresh) this.select(fresh);
    }
  }

  private onEndAnswer(e: CustomEvent<EndAnswer>): void {
    const { id, answer } = e.detail;
    this.shown(answer);
    if (answer.type === "error" && answer.code === "invalid_state") this.chats.markEnded(id);
  }

  private closeTab(id: string): void {
    this.chats.close(id);
    if (this.current === id) this.current = this.chats.order[0] ?? null;
  }

  private async declineOffer(o: Offer): Promise<void> {
    this.offers = this.offers.filter((x) => x.conversation_id !== o.conversation_id);
    const client = this.chats.client;
    if (client)
      await this.answer(
        client.request({ type: "offer.decline", conversation_id: o.conversation_id }),
      );
  }

  private openDialog(sel: string): void {
    this.renderRoot.querySelector<InviteDialog | CodeDialog | TransferDialog>(sel)?.open();
  }

  private switchView(view: View): void {
    // the admin's template view is its own chunk (most consoles never open it)
    if (view === "forms") void import("../forms/templates-admin");
    this.view = view;
    this.chats.scheduleReceipts();
  }

  // ------------------------------------------------------------------ rendering
  private renderChats() {
    const chats = this.chats;
    const busy = chats.busyCall();
    const tabs: ChatTab[] = chats.list.map((conv) => {
      const call = chats.call(conv.summary.id);
      return {
        conv,
        unread: chats.unread(conv.summary.id),
        callPhase: call?.phase ?? "idle",
        callMedia: call?.call?.media,
      };
    });
    const id = this.current;
    const conv = id ? chats.get(id) : undefined;
    return html`<div class="body">
      <aside>
        <vv-queue-panel
          .queue=${this.queue}
          .advisersAvailable=${this.advisersAvailable}
          .now=${this.now}
          .topicLabel=${this.topicLabel}
          @vv-accept=${(e: CustomEvent<QueueEntry>) => this.accept(e.detail)}
          @vv-accept-next=${this.acceptNext}
        ></vv-queue-panel>
        <vv-offline-queue
          .entries=${this.offline}
          .topicLabel=${this.topicLabel}
          @vv-take=${(e: CustomEvent<QueueEntry>) => this.accept(e.detail)}
        ></vv-offline-queue>
        <vv-conversation-list
          .tabs=${tabs}
          .current=${id ?? ""}
          ?active=${this.view === "chats"}
          .topicLabel=${this.topicLabel}
          @vv-select=${(e: CustomEvent<string>) => this.select(e.detail)}
        ></vv-conversation-list>
      </aside>
      <vv-chat-pane
        .conv=${conv ?? null}
        .pending=${id ? chats.pending(id) : []}
        .client=${chats.client}
        .call=${id ? chats.call(id) : null}
        ?callElsewhere=${busy !== null}
        .meId=${this.me?.id ?? ""}
        .topicLabel=${this.topicLabel}
        .teamName=${this.teamName}
        @vv-transfer-open=${() => this.openDialog("vv-transfer-dialog")}
        @vv-close-tab=${(e: CustomEvent<string>) => this.closeTab(e.detail)}
        @vv-end-answer=${this.onEndAnswer}
      ></vv-chat-pane>
    </div>`;
  }

  /** A customer calls in a conversation not on screen: say so, with a way there. */
  private renderRingingElsewhere() {
    const items = this.chats.order.filter(
      (id) =>
        this.chats.call(id)?.phase === "incoming" && (id !== this.current || this.view !== "chats"),
    );
    if (items.length === 0) return nothing;
    return items.map((id) => {
      const call = this.chats.call(id);
      const name = this.chats.get(id)?.summary.customer_name || t("anonymous");
      return html`<p
        class="ringing"
        role="alert"
        data-testid="incoming-elsewhere"
        data-conversation-id=${id}
      >
        ${icon("phone")} ${tcall("incomingElsewhere", { name, kind: callKind(call?.call?.media) })}
        <button type="button" data-testid="go-to-call" @click=${() => this.select(id)}>
          ${tcall("goToConversation")}
        </button>
      </p>`;
    });
  }

  private renderMain() {
    const p = this.presence;
    // "empty" by class: the template's whitespace keeps :empty from matching.
    return html`<p
        class="notice ${this.notice.text ? "" : "empty"}"
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
      <vv-view-nav
        .view=${this.view}
        ?supervisor=${this.me?.role === "supervisor" || this.me?.role === "admin"}
        ?admin=${this.me?.role === "admin"}
        @vv-view=${(e: CustomEvent<View>) => this.switchView(e.detail)}
        @vv-open-dialog=${(e: CustomEvent<string>) => this.openDialog(e.detail)}
      ></vv-view-nav>
      ${this.renderRingingElsewhere()}
      ${
        this.view === "history"
          ? html`<vv-history .topicLabel=${this.topicLabel} .csrf=${this.csrf}></vv-history>`
          : this.view === "profile"
            ? html`<section class="view"><vv-profile .csrf=${this.csrf}></vv-profile></section>`
            : this.view === "slots"
              ? html`<section class="view"><vv-slots .csrf=${this.csrf}></vv-slots></section>`
              : this.view === "library"
                ? this.renderLibrary()
                : this.view === "privacy"
                  ? this.renderPrivacy()
                  : this.view === "forms"
                    ? html`<section class="view">
                        <vv-form-templates .csrf=${this.csrf}></vv-form-templates>
                      </section>`
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
                      : this.renderChats()
      }
      <vv-invite-dialog .csrf=${this.csrf}></vv-invite-dialog>
      <vv-code-dialog .csrf=${this.csrf}></vv-code-dialog>
      <vv-transfer-dialog
        .client=${this.chats.client}
        .conversationId=${this.current ?? ""}
        .meId=${this.me?.id ?? ""}
      ></vv-transfer-dialog>
      <span class="sr-only" aria-live="polite">${p.active}/${p.max_chats}</span>`;
  }

  /** The admins' library view: its own small chunk, loaded when first opened. */
  private renderLibrary() {
    libraryLoad ??= import("./library-admin").catch(() => {
      libraryLoad = null;
    });
    return html`<section class="view">
      <vv-library-admin .csrf=${this.csrf}></vv-library-admin>
    </section>`;
  }

  /** The admins' data-protection view: its own chunk too. */
  private renderPrivacy() {
    privacyLoad ??= import("./privacy-admin").catch(() => {
      privacyLoad = null;
    });
    return html`<section class="view">
      <vv-privacy-admin .csrf=${this.csrf}></vv-privacy-admin>
    </section>`;
  }

  override render() {
    const total = this.chats.order.reduce((n, id) => n + this.chats.unread(id), 0);
    document.title = (total > 0 ? `(${total}) ` : "") + t("appTitle");
    const me = this.me;
    return html`<vv-top-bar
        .me=${me}
        .presence=${this.presence}
        .conn=${this.chats.conn}
        .client=${this.chats.client}
        @vv-answer=${(e: CustomEvent<Answer>) => this.shown(e.detail)}
        @vv-logout=${this.logout}
      ></vv-top-bar>
      ${
        this.checking
          ? html`<main class="empty muted">${t("historyLoading")}</main>`
          : me
            ? this.renderMain()
            : html`<vv-login
                .error=${this.loginError}
                @vv-signed-in=${(e: CustomEvent<SessionInfo>) => this.signedIn(e.detail)}
              ></vv-login>`
      }`;
  }
}
customElements.define("vv-console-app", ConsoleApp);
