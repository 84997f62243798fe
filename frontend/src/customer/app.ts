// The customer app (/chat, standalone or in the widget's iframe):
// start form → waiting (queue position and estimated wait, chat already usable) → chat
// → ended. Other ways in: an e-mailed invitation link (#invite=…), a phone code, an
// adviser picked in the portal (?adviser=…), and, when nobody is there or the team is
// closed, a message or call-back request (the offline queue) or an appointment.
// The conversation itself (events, receipts, typing, calls) is the shared model
// (lib/model), loaded with the first conversation (not part of the first load: the
// start form does without); the start screen is start-screen.ts, the CSS styles.ts.
// The consultation room (src/room/, its own chunk) shows a shared screen or a
// presented document above the chat, or the whole conversation large: the widget's
// panel grown into an overlay (the loader does it when asked), its own window
// (handoff.ts), full screen on a phone.
import { html, nothing } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError, type CreatedConversation } from "../lib/api";
import { I18nElement } from "../lib/base";
import type { Media } from "../lib/call";
import { tcall } from "../lib/call-strings";
import { callButtonStyles, icon, iconStyles } from "../lib/icons";
import { loadDocStage } from "../lib/doc-stage-lazy";
import { errorText, lang, tc } from "../lib/i18n";
import "../lib/lang-toggle";
import type { Conversations, ConversationsOptions } from "../lib/model/controller";
import type { Conversation } from "../lib/model/reduce";
import type { ConversationSummary } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { formFrame, pagePrefill } from "../forms/slot";
import type { OutboxItem } from "../lib/ws";
import type { CobrowsePanel } from "./cobrowse";
import { embedded, onLoader, toLoader } from "./embed";
import type { PortalAdviser } from "./params";
import "./start-screen";
import type { Started } from "./start-screen";
import { clearStored, loadStored, saveStored, type StoredConversation } from "./storage";
import { t } from "./strings";
import { appStyles } from "./styles";
import { formatEstimate, tw } from "./ways-strings";

type Screen = "loading" | "start" | "chat";
type RoomParts = typeof import("./chat-room");

let partsLoad: Promise<RoomParts> | null = null;
/** The room's buttons and frame (chat-room.ts), fetched with the model. */
function loadParts(): Promise<RoomParts> {
  partsLoad ??= import("./chat-room").catch((err: unknown) => {
    partsLoad = null;
    throw err;
  });
  return partsLoad;
}

let modelLoad: Promise<typeof import("../lib/model/controller")> | null = null;
/** The conversation model's code and the conversation's elements, fetched once (and
 * again after a failed try). */
function loadModel(): Promise<typeof import("../lib/model/controller")> {
  modelLoad ??= Promise.all([
    import("../lib/model/controller"),
    import("./conversation-view"),
  ]).then(
    ([model]) => model,
    (err: unknown) => {
      modelLoad = null;
      throw err;
    },
  );
  return modelLoad;
}

export class ChatApp extends I18nElement {
  static override properties = {
    screen: { state: true },
    notice: { state: true },
    confirmingEnd: { state: true },
    topic: { state: true },
    picked: { state: true },
    large: { state: true },
    roomReady: { state: true },
  };
  declare screen: Screen;
  declare notice: string;
  declare confirmingEnd: boolean;
  /** The topic chosen on the start screen (kept for the next conversation). */
  declare topic: string;
  /** The adviser picked in the portal (?adviser=…). */
  declare picked: PortalAdviser | null;
  /** The conversation opened large (the room with the chat as its side panel). */
  declare large: boolean;
  /** The room's code is loaded. */
  declare roomReady: boolean;

  /** The conversation (from its first one on). */
  private model: Conversations | null = null;
  private readonly modelOptions: ConversationsOptions = {
    self: "customer",
    shown: () => !embedded || this.panelOpen,
    onFrame: (f) => {
      if (f.type === "error" && f.code === "rate_limited") this.notice = errorText(f.code);
      if (f.type.startsWith("cobrowse.")) this.cobrowse.value?.onFrame(f);
      formFrame(f);
    },
    onState: (s) => {
      if (s === "auth_failed") this.tokenGone();
    },
    onOutbox: (items) => this.onOutbox(items),
    onRefused: (_item, err) => (this.notice = t("refused", { reason: errorText(err.code) })),
    onEnded: () => this.onEnded(),
  };
  private stored: StoredConversation | null = null;
  private panelOpen = true;
  private lastUnread = -1;
  private endedNotified = false;
  private readonly adviserId = new URLSearchParams(location.search).get("adviser") ?? "";
  private readonly composer = createRef<HTMLElement>();
  /** chat-room.ts, once loaded. */
  private parts: RoomParts | null = null;
  private readonly cobrowse = createRef<CobrowsePanel>();

  constructor() {
    super();
    this.screen = "loading";
    this.notice = "";
    this.confirmingEnd = false;
    this.topic = new URLSearchParams(location.search).get("topic") ?? "";
    this.picked = null;
    this.large = false;
    this.roomReady = false;
  }

  static override styles = [base, iconStyles, callButtonStyles, appStyles];

  // ------------------------------------------------------------------ lifecycle
  override connectedCallback(): void {
    super.connectedCallback();
    onLoader((msg) => {
      this.panelOpen = msg.open;
      if (msg.open) this.model?.scheduleReceipts();
      this.requestUpdate(); // the unread count goes out after the update
    });
    document.addEventListener("keydown", this.onKeydown);
    toLoader({ type: "ready" });
    // Opened by "own window": the opener hands the conversation over (handoff.ts).
    if (new URLSearchParams(location.search).get("room") === "1" && window.opener) {
      void this.takeHandoff();
      return;
    }
    const invite = new URLSearchParams(location.hash.slice(1)).get("invite");
    if (invite) {
      void this.redeemInvite(invite);
      return;
    }
    const stored = loadStored();
    if (stored) this.resume(stored);
    else this.showStart();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("keydown", this.onKeydown);
  }

  protected override firstUpdated(): void {
    void loadModel().catch(() => undefined); // ready by the time a conversation starts
  }

  protected override updated(): void {
    this.reportUnread();
    if (!this.roomReady && this.parts && this.needsRoom())
      this.parts.loadRoom().then(
        () => (this.roomReady = true),
        () => undefined, // offline: tried again with the next update
      );
  }

  /** The room is needed: opened large, a call, or a document presented. */
  private needsRoom(): boolean {
    if (this.screen !== "chat") return false;
    const phase = this.model?.call(this.stored?.conversation_id ?? "")?.phase ?? "idle";
    return this.large || phase !== "idle" || !!this.parts?.hasPresented(this.conv?.events ?? []);
  }

  /** Large or back: the loader grows or shrinks the widget's panel; a page of our own
   * lets the app use the whole width. */
  private setLarge(on: boolean): void {
    this.large = on;
    document.documentElement.classList.toggle("room", on);
    toLoader({ type: "grow", on });
  }

  /** The same conversation in a window of its own (see handoff.ts). */
  private async openWindow(): Promise<void> {
    const stored = this.stored;
    if (!stored) return;
    try {
      if ((await loadParts()).openOwnWindow(stored, lang())) toLoader({ type: "close" });
    } catch {
      this.notice = errorText("network");
    }
  }

  private async takeHandoff(): Promise<void> {
    let stored: StoredConversation | null;
    try {
      stored = await (await loadParts()).receiveHandoff();
    } catch {
      stored = null; // the code did not load (offline): start as usual
    }
    if (stored) {
      saveStored(stored);
      this.setLarge(true);
      this.resume(stored);
      return;
    }
    const own = loadStored();
    if (own) this.resume(own);
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
    this.open(res, null);
  }

  private readonly onKeydown = (e: KeyboardEvent): void => {
    if (e.key === "Escape" && embedded && !this.confirmingEnd) toLoader({ type: "close" });
  };

  private showStart(notice = ""): void {
    this.screen = "start";
    this.notice = notice;
  }

  // ------------------------------------------------------------------ conversation
  /** Only now, with a conversation the customer asked for, is anything stored. */
  private open(created: CreatedConversation, first: OutboxItem | null): void {
    const stored: StoredConversation = {
      token: created.token,
      conversation_id: created.conversation.id,
      outbox: [],
    };
    saveStored(stored);
    this.resume(stored, first, created.conversation);
  }

  private resume(
    stored: StoredConversation,
    firstMessage: OutboxItem | null = null,
    summary?: ConversationSummary,
  ): void {
    this.stored = stored;
    this.screen = "chat";
    this.notice = "";
    this.confirmingEnd = false;
    this.endedNotified = false;
    this.lastUnread = -1;
    toLoader({ type: "started" });
    void this.updateComplete.then(() => this.composer.value?.focus());
    if (!this.parts)
      void loadParts().then(
        (parts) => {
          this.parts = parts;
          this.requestUpdate();
        },
        () => undefined, // offline: the chat works without; tried again next time
      );
    loadModel().then(
      ({ Conversations }) => {
        if (this.stored !== stored) return; // another conversation (or none) by now
        const model = (this.model ??= new Conversations(this, this.modelOptions));
        import("./cobrowse").catch(() => undefined); // co-browsing's dialogs and bridge (vv-cobrowse), lazily
        const client = model.start({ token: stored.token, outbox: stored.outbox });
        if (firstMessage) client.addStored(firstMessage);
        model.follow(stored.conversation_id, summary);
      },
      () => {
        // Offline before the code came: try again once the browser is back online.
        this.notice = errorText("network");
        const retry = () => this.stored === stored && this.resume(stored, firstMessage, summary);
        window.addEventListener("online", retry, { once: true });
      },
    );
  }

  private get conv(): Conversation | undefined {
    return this.stored ? this.model?.get(this.stored.conversation_id) : undefined;
  }

  private get summary(): ConversationSummary | null {
    return this.conv?.summary ?? null;
  }

  /** The token is invalid or expired: nothing to continue; start afresh. */
  private tokenGone(): void {
    this.model?.stop();
    clearStored();
    this.stored = null;
    toLoader({ type: "ended" });
    this.showStart(t("previousGone"));
  }

  private onOutbox(items: OutboxItem[]): void {
    if (!this.stored) return;
    // Persist unsent messages with the token: a tab closed before the ack sends them
    // on its next start.
    this.stored = { ...this.stored, outbox: items.filter((i) => !i.stored) };
    saveStored(this.stored);
  }

  private onEnded(): void {
    this.confirmingEnd = false;
    if (!this.endedNotified) {
      this.endedNotified = true;
      toLoader({ type: "ended" });
    }
  }

  private get ended(): boolean {
    return this.conv?.summary.status === "ended";
  }

  /** Adviser messages not yet read, and a ringing call, for the widget's badge. */
  private reportUnread(): void {
    if (!embedded) return;
    const cid = this.stored?.conversation_id;
    const model = this.model;
    const unread =
      cid && model ? model.unread(cid) + (model.call(cid)?.phase === "incoming" ? 1 : 0) : 0;
    if (unread !== this.lastUnread) {
      this.lastUnread = unread;
      toLoader({ type: "unread", count: unread });
    }
  }

  // ------------------------------------------------------------------ actions
  private onSend(e: CustomEvent<{ text: string }>): void {
    const cid = this.stored?.conversation_id;
    const client = this.model?.client;
    if (!cid || !client || this.ended) return;
    this.notice = "";
    client.sendChat(cid, e.detail.text);
  }

  private onTyping(e: CustomEvent<{ active: boolean }>): void {
    const cid = this.stored?.conversation_id;
    if (!cid || this.ended) return;
    this.model?.client?.send({ type: "typing", conversation_id: cid, active: e.detail.active });
  }

  private async endConversation(): Promise<void> {
    const cid = this.stored?.conversation_id;
    const client = this.model?.client;
    if (!cid || !client) return;
    const answer = await client.request({ type: "conversation.end", conversation_id: cid });
    this.confirmingEnd = false;
    if (answer.type === "error" && answer.code !== "invalid_state") {
      this.notice = errorText(
        answer.code === "disconnected" || answer.code === "timeout" ? "network" : answer.code,
      );
    }
  }

  private newConversation(): void {
    this.model?.stop();
    clearStored();
    this.stored = null;
    this.showStart();
  }

  // ------------------------------------------------------------------ rendering
  private renderStart() {
    return html`<vv-start-screen
      .notice=${this.notice}
      .topic=${this.topic}
      adviser-id=${this.adviserId}
      @vv-topic=${(e: CustomEvent<string>) => (this.topic = e.detail)}
      @vv-picked=${(e: CustomEvent<PortalAdviser>) => (this.picked = e.detail)}
      @vv-started=${(e: CustomEvent<Started>) => this.open(e.detail.created, e.detail.first)}
      @vv-redeemed=${(e: CustomEvent<CreatedConversation>) => this.joined(e.detail)}
    ></vv-start-screen>`;
  }

  private renderQueue() {
    if (this.summary?.status !== "queued") return nothing;
    const q = this.conv?.position ?? null;
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
    const cid = this.stored?.conversation_id ?? "";
    const other = this.summary?.adviser?.name || tc("adviser");
    const calls = this.model?.call(cid) ?? null;
    const parts = this.roomReady ? this.parts : null;
    const large = this.large && !!parts;
    // In the large room the room shows the videos; the call panel keeps its controls.
    const callPanel = ended
      ? nothing
      : html`<vv-call
          slot="controls"
          .manager=${calls}
          .otherName=${other}
          ?stageless=${large}
        ></vv-call>`;
    const props = {
      calls,
      events: this.conv?.events ?? [],
      client: this.model?.client ?? null,
      conversationId: cid,
      other,
    };
    // The document stage is mounted once: in the large room's stage while a document
    // is presented (the room renders it), else above the messages (its shelf: share,
    // upload, photo request).
    if (large && parts) {
      const docs = parts.hasPresented(props.events) ? nothing : this.renderDocStage(this.conv, cid);
      return html`<main class="large">
        ${parts.room(props, true, callPanel, html`${this.renderQueue()} ${docs} ${this.renderTalk()}`)}
      </main>`;
    }
    return html`<main>
      ${this.renderQueue()} ${callPanel}
      ${parts && !ended ? parts.room(props, false, nothing, nothing) : nothing}
      ${this.renderDocStage(this.conv, cid)} ${this.renderTalk()}
    </main>`;
  }

  /** The messages, typing, and the composer (or the ended banner). */
  private renderTalk() {
    const ended = this.ended;
    const conv = this.conv;
    const cid = this.stored?.conversation_id ?? "";
    const adviserName = this.summary?.adviser?.name ?? "";
    const typing = conv?.typing ? conv.typing.name || adviserName || tc("adviser") : null;
    return html`
      <vv-cobrowse
        ${ref(this.cobrowse)}
        .events=${conv?.events ?? []}
        ?loaded=${!!conv?.loaded}
        ?ended=${ended}
        .conversationId=${cid}
        .client=${this.model?.client ?? null}
        .conn=${this.model?.conn ?? "idle"}
      ></vv-cobrowse>
      <vv-form-slot
        .events=${conv?.events ?? []}
        side="customer"
        .client=${this.model?.client ?? null}
        conversationId=${cid}
        token=${this.stored?.token ?? ""}
        .prefill=${pagePrefill(this.summary?.customer_name)}
        ?readonly=${ended}
      ></vv-form-slot>
      <vv-messages
        .events=${conv?.events ?? []}
        .pending=${this.model?.pending(cid) ?? []}
        self="customer"
        .otherDelivered=${conv?.other.delivered ?? 0}
        .otherRead=${conv?.other.read ?? 0}
        .otherName=${adviserName || tc("adviser")}
        ?busy=${!conv?.loaded}
      ></vv-messages>
      <div class="typing" aria-live="polite">
        ${
          typing && !ended
            ? html`<span data-testid="typing-indicator">${tc("typing", { name: typing })}</span>`
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
    `;
  }

  /** Documents together (room/doc-stage.ts, its own chunk) — here until the room
   * layout (room/room.ts) shows it. */
  private renderDocStage(conv: Conversation | undefined, cid: string) {
    if (!conv || conv.summary.status !== "active") return nothing;
    loadDocStage();
    return html`<vv-doc-stage
      .client=${this.model?.client ?? null}
      .conversationId=${cid}
      .side=${"customer"}
      .events=${conv.events}
      .lang=${lang()}
    ></vv-doc-stage>`;
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
    void this.model?.call(this.stored?.conversation_id ?? "")?.request(media);
  }

  private renderCallButtons() {
    if (this.screen !== "chat" || this.ended) return nothing;
    const calls = this.model?.call(this.stored?.conversation_id ?? "");
    // The buttons' place is kept while they cannot be used (waiting, during a call):
    // hidden, not removed, so the header does not jump when they come.
    const usable = this.summary?.status === "active" && !!calls && calls.phase === "idle";
    const name = this.summary?.adviser?.name || tc("adviser");
    return html`<span
      class="call-buttons ${usable ? "" : "reserved"}"
      data-testid="call-buttons"
      ?inert=${!usable}
    >
      ${calls ? (this.parts?.screenStartButton(calls) ?? nothing) : nothing}
      <button
        type="button"
        data-testid="call-audio"
        aria-label=${tcall("startAudioLabel", { name })}
        title=${tcall("startAudioLabel", { name })}
        ?disabled=${!usable || calls?.busy}
        @click=${() => this.startCall("audio")}
      >
        ${icon("phone")}<span class="label">${tcall("audioCall")}</span
        ><span class="short">${tcall("audioShort")}</span>
      </button>
      <button
        type="button"
        data-testid="call-video"
        aria-label=${tcall("startVideoLabel", { name })}
        title=${tcall("startVideoLabel", { name })}
        ?disabled=${!usable || calls?.busy}
        @click=${() => this.startCall("video")}
      >
        ${icon("cam")}<span class="label">${tcall("videoCall")}</span
        ><span class="short">${tcall("videoShort")}</span>
      </button>
    </span>`;
  }

  /** Large view and own window (chat-room.ts). */
  private renderRoomButtons() {
    if (this.screen !== "chat" || !this.stored || !this.parts) return nothing;
    return this.parts.roomButtons(
      this.large,
      embedded,
      () => this.setLarge(!this.large),
      () => void this.openWindow(),
    );
  }

  override render() {
    document.title = t("title");
    return html`<header>
        <h1 id="title">${this.headerTitle()}</h1>
        ${this.renderCallButtons()} ${this.renderRoomButtons()}
        ${this.screen === "chat" ? html`<vv-conn-status .state=${this.model?.conn ?? "connecting"}></vv-conn-status>` : nothing}
        <vv-lang-toggle></vv-lang-toggle>
      </header>
      ${this.screen === "start" ? this.renderStart() : this.screen === "chat" ? this.renderChat() : html`<main></main>`}`;
  }
}
customElements.define("vv-chat-app", ChatApp);
