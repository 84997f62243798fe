// The one reactive controller both apps use for their conversations: it owns the
// socket client, feeds its frames through the model's reducer (reduce.ts), re-renders
// the host on every change, and does what follows from a change: timers (typing, a
// live gap), receipts, a call manager per conversation, resubscribing and forgetting.
import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { CallManager } from "../call";
import { loadCallUi, type CallUiModule } from "../calls-lazy";
import type { PendingLine } from "../messages";
import type { ConversationSummary, ErrorMsg, EventMsg, ServerMessage } from "../protocol.gen";
import { VisavisClient, type ConnState, type OutboxItem } from "../ws";
import {
  emptyModel,
  isEnded,
  reduce,
  unread,
  type Action,
  type Conversation,
  type Model,
  type Role,
} from "./reduce";

/** Typing shows this long after the last `typing` (the sender may vanish mid-word). */
const TYPING_TIMEOUT_MS = 6000;
/** How long a live gap in the seqs may stay open before the events after it are shown. */
const GAP_WAIT_MS = 1200;
/** Receipts wait for a burst of events to settle. */
const RECEIPT_DELAY_MS = 150;

export interface ConversationsOptions {
  self: Role;
  /** Load the call code at once and give every conversation a call manager (the
   * console); otherwise only a conversation that is active or has a call gets one. */
  eagerCalls?: boolean;
  /** Whether the user looks at this conversation now (read receipts; the page's own
   * visibility is checked here). */
  shown?: (conversationId: string) => boolean;
  /** Every frame but events, after the model took what it keeps; `answered` when it
   * answered a request (whose caller has it already). */
  onFrame?: (frame: ServerMessage, answered: boolean) => void;
  onState?: (state: ConnState) => void;
  /** The outbox changed (persist it). */
  onOutbox?: (items: OutboxItem[]) => void;
  /** A chat message was refused for good (it shows as failed). */
  onRefused?: (item: OutboxItem, error: ErrorMsg) => void;
  /** A conversation ended (said once per conversation shown). */
  onEnded?: (conversationId: string) => void;
}

export class Conversations implements ReactiveController {
  private state: Model;
  private connState: ConnState = "idle";
  private readonly host: ReactiveControllerHost;
  private readonly opts: ConversationsOptions;
  private socket: VisavisClient | null = null;
  private readonly calls = new Map<string, CallManager>();
  private callUi: CallUiModule | null = null;
  private callsLoading = false;
  private readonly typingTimers = new Map<string, number>();
  private readonly gapTimers = new Map<string, number>();
  private receiptTimer = 0;

  constructor(host: ReactiveControllerHost, opts: ConversationsOptions) {
    this.host = host;
    this.opts = opts;
    this.state = emptyModel(opts.self);
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener("visibilitychange", this.onVisibility);
    window.addEventListener("focus", this.onVisibility);
  }

  hostDisconnected(): void {
    document.removeEventListener("visibilitychange", this.onVisibility);
    window.removeEventListener("focus", this.onVisibility);
    this.stop();
  }

  private readonly onVisibility = (): void => this.scheduleReceipts();

  // ------------------------------------------------------------------ the socket
  get client(): VisavisClient | null {
    return this.socket;
  }

  get conn(): ConnState {
    return this.connState;
  }

  /** A new socket (and an empty model): the customer's token, or the adviser's session. */
  start(init: { token?: string; outbox?: OutboxItem[] } = {}): VisavisClient {
    this.stop();
    const client = new VisavisClient({
      token: init.token ?? null,
      outbox: init.outbox ?? [],
      onState: (s) => this.onState(client, s),
      onEvent: (ev) => this.dispatch(ev),
      onFrame: (f, answered) => {
        this.dispatch(f);
        // Call signalling is for the conversation's call manager only.
        if (f.type === "rtc.signal") this.calls.get(f.conversation_id)?.onSignal(f);
        else if (f.type === "call.moved") this.calls.get(f.conversation_id)?.onMoved(f);
        this.opts.onFrame?.(f, answered);
      },
      onOutbox: (items) => {
        this.opts.onOutbox?.(items);
        this.host.requestUpdate();
      },
      onChatRefused: (item, err) => {
        this.dispatch({ type: "chat.refused", item: { ...item } });
        this.opts.onRefused?.(item, err);
      },
    });
    this.socket = client;
    client.start();
    return client;
  }

  /** Close the socket for good and forget every conversation. */
  stop(): void {
    for (const id of this.calls.keys()) this.dropCall(id);
    for (const t of [...this.typingTimers.values(), ...this.gapTimers.values()])
      window.clearTimeout(t);
    this.typingTimers.clear();
    this.gapTimers.clear();
    window.clearTimeout(this.receiptTimer);
    const client = this.socket;
    this.socket = null;
    client?.stop();
    this.state = emptyModel(this.opts.self);
    this.connState = "idle";
    this.host.requestUpdate();
  }

  private onState(client: VisavisClient, state: ConnState): void {
    if (client !== this.socket) return;
    this.connState = state;
    for (const call of this.calls.values()) call.onConnState(state);
    if (state !== "open") this.dispatch({ type: "offline" });
    this.opts.onState?.(state);
    this.host.requestUpdate();
  }

  /** Show this conversation (its summary known, e.g. from HTTP, or not yet). */
  follow(conversationId: string, summary?: ConversationSummary): void {
    this.socket?.subscribe(conversationId, this.get(conversationId)?.lastSeq ?? 0);
    if (summary) this.dispatch({ type: "follow", summary });
  }

  /** Stop showing a conversation (a closed tab). */
  close(conversationId: string): void {
    this.socket?.forget(conversationId);
    this.dispatch({ type: "close", conversation_id: conversationId });
  }

  /** The server says the conversation has ended although no event said so yet. */
  markEnded(conversationId: string): void {
    this.dispatch({ type: "ended", conversation_id: conversationId });
  }

  // ------------------------------------------------------------------ reading
  get model(): Model {
    return this.state;
  }

  get(conversationId: string): Conversation | undefined {
    return this.state.conversations.get(conversationId);
  }

  /** The conversations' ids in the order they came. */
  get order(): readonly string[] {
    return this.state.order;
  }

  /** The conversations in the order they came. */
  get list(): Conversation[] {
    const out: Conversation[] = [];
    for (const id of this.state.order) {
      const conv = this.state.conversations.get(id);
      if (conv) out.push(conv);
    }
    return out;
  }

  /** My messages not yet stored (sending), then those refused for good. */
  pending(conversationId: string): PendingLine[] {
    const refused = this.get(conversationId)?.refused ?? [];
    return [
      ...(this.socket?.pending(conversationId) ?? []),
      ...refused.map((item) => ({ ...item, failed: true })),
    ];
  }

  unread(conversationId: string): number {
    const conv = this.get(conversationId);
    return conv ? unread(conv, this.state.self) : 0;
  }

  call(conversationId: string): CallManager | null {
    return this.calls.get(conversationId) ?? null;
  }

  /** The conversation whose call rings out or runs (one side takes one call at a time). */
  busyCall(): string | null {
    for (const [id, call] of this.calls) {
      if (call.phase === "active" || call.phase === "outgoing") return id;
    }
    return null;
  }

  // ------------------------------------------------------------------ reducing
  private dispatch(action: Action): void {
    const before = this.state;
    const after = reduce(before, action);
    if (after === before) return;
    this.state = after;
    let receipts = action.type === "subscribed";
    for (const [id, conv] of after.conversations) {
      const prev = before.conversations.get(id);
      if (conv === prev) continue;
      if (this.changed(id, prev, conv, action)) receipts = true;
    }
    for (const id of before.conversations.keys()) {
      if (!after.conversations.has(id)) this.dropped(id);
    }
    if (receipts) this.scheduleReceipts();
    this.host.requestUpdate();
  }

  /** What follows from a conversation's change; true when events were applied. */
  private changed(
    id: string,
    prev: Conversation | undefined,
    conv: Conversation,
    action: Action,
  ): boolean {
    const client = this.socket;
    if (!prev) client?.subscribe(id, 0);
    const applied = appended(prev?.events ?? [], conv.events);
    const call = this.calls.get(id);
    for (const ev of applied) {
      client?.applied(ev);
      call?.onEvent(ev);
    }
    if (prev?.summary !== conv.summary) {
      if (action.type === "subscribed") call?.onSubscribed(conv.summary.call);
      else call?.setCall(conv.summary.call);
    }
    if (!call) this.wantCalls(conv);
    if (isEnded(conv) && !(prev && isEnded(prev))) {
      client?.clearOutbox(id);
      this.opts.onEnded?.(id);
    }
    if (conv.gone && !prev?.gone) client?.forget(id);
    this.typingTimer(id, conv, action.type === "typing");
    this.gapTimer(id, conv);
    return applied.length > 0;
  }

  private dropped(id: string): void {
    this.dropCall(id);
    window.clearTimeout(this.typingTimers.get(id));
    this.typingTimers.delete(id);
    window.clearTimeout(this.gapTimers.get(id));
    this.gapTimers.delete(id);
  }

  private typingTimer(id: string, conv: Conversation, fresh: boolean): void {
    if (conv.typing && !fresh) return;
    window.clearTimeout(this.typingTimers.get(id));
    this.typingTimers.delete(id);
    if (!conv.typing) return;
    this.typingTimers.set(
      id,
      window.setTimeout(
        () => this.dispatch({ type: "typing.timeout", conversation_id: id }),
        TYPING_TIMEOUT_MS,
      ),
    );
  }

  /** A live gap gets a deadline; a resubscribe replays from the last seq and settles it. */
  private gapTimer(id: string, conv: Conversation): void {
    const waiting = conv.ahead.length > 0 && conv.live;
    if (waiting && this.gapTimers.has(id)) return;
    window.clearTimeout(this.gapTimers.get(id));
    this.gapTimers.delete(id);
    if (!waiting) return;
    this.gapTimers.set(
      id,
      window.setTimeout(() => {
        this.gapTimers.delete(id);
        this.dispatch({ type: "gap.timeout", conversation_id: id });
      }, GAP_WAIT_MS),
    );
  }

  // ------------------------------------------------------------------ receipts
  /** Send delivered/read marks soon (after events, or when the user may see more). */
  scheduleReceipts(): void {
    window.clearTimeout(this.receiptTimer);
    this.receiptTimer = window.setTimeout(() => this.sendReceipts(), RECEIPT_DELAY_MS);
  }

  private sendReceipts(): void {
    const client = this.socket;
    if (!client) return;
    const visible = document.visibilityState === "visible";
    for (const conv of this.list) {
      if (conv.gone) continue; // no longer mine to mark
      const id = conv.summary.id;
      const last = conv.lastSeq;
      const delivered = Math.max(conv.mine.delivered, last);
      const shown = visible && (this.opts.shown?.(id) ?? true);
      const read = shown ? Math.max(conv.mine.read, last) : conv.mine.read;
      if (delivered <= conv.mine.delivered && read <= conv.mine.read) continue;
      const frame = {
        type: "receipt" as const,
        conversation_id: id,
        delivered_seq: delivered,
        read_seq: read,
      };
      if (client.send(frame))
        this.dispatch({ type: "receipt.sent", conversation_id: id, delivered, read });
    }
  }

  // ------------------------------------------------------------------ calls
  /** Load the call code now (the console, right after sign-in). */
  loadCalls(): void {
    if (this.callUi) {
      this.attachCalls();
      return;
    }
    if (this.callsLoading) return;
    this.callsLoading = true;
    void loadCallUi().then(
      (ui) => {
        this.callsLoading = false;
        this.callUi = ui;
        this.attachCalls();
      },
      () => {
        this.callsLoading = false; // e.g. offline: tried again with the next change
      },
    );
  }

  private wantCalls(conv: Conversation): void {
    if (this.opts.eagerCalls || conv.summary.status === "active" || conv.summary.call)
      this.loadCalls();
  }

  private attachCalls(): void {
    for (const conv of this.list) {
      if (this.opts.eagerCalls || conv.summary.status === "active" || conv.summary.call)
        this.attachCall(conv);
    }
  }

  /** A conversation's call manager, fed with what arrived before it existed. */
  private attachCall(conv: Conversation): void {
    const ui = this.callUi;
    const client = this.socket;
    const id = conv.summary.id;
    if (!ui || !client || this.calls.has(id)) return;
    const call = new ui.CallManager({ client, conversationId: id, role: this.opts.self });
    call.addEventListener("change", this.onCallChange);
    for (const ev of conv.events) call.onEvent(ev);
    if (this.conn !== "open") call.onConnState(this.conn);
    call.setCall(conv.summary.call);
    this.calls.set(id, call);
    this.host.requestUpdate();
  }

  private dropCall(id: string): void {
    const call = this.calls.get(id);
    if (!call) return;
    call.removeEventListener("change", this.onCallChange);
    call.dispose();
    this.calls.delete(id);
  }

  private readonly onCallChange = (): void => this.host.requestUpdate();
}

/** The events `after` has beyond `before` (all of them after a reset). */
function appended(before: readonly EventMsg[], after: readonly EventMsg[]): readonly EventMsg[] {
  if (after === before) return [];
  const n = before.length;
  if (n === 0 || (after.length >= n && after[n - 1] === before[n - 1])) return after.slice(n);
  return after;
}
