// The one WebSocket client both apps use (docs/protocol.md).
//
// What it guarantees to the UI:
// - every event of a followed conversation is handed to the conversation model
//   (model/reduce.ts puts them in seq order, once each), across any number of
//   reconnects: it resubscribes after the last seq the model applied (`applied()`);
// - chat messages go through an outbox: shown at once, resent with the same
//   client_id after every reconnect until the server acks them (the server stores a
//   client_id once, so a resend is harmless), and handed to `onOutbox` for
//   persistence so a closed tab still sends them next time;
// - a message the server refuses for now (`overloaded`, `rate_limited`) stays in the
//   outbox and is resent after the server's `retry_after_ms` (retry-policy.ts);
// - the connection heals itself: heartbeat with jitter, exponential back-off with
//   jitter capped at 2 s while online (retry-policy.ts), so all are back within seconds
//   of a server restart (after a close 1012 the first try is spread over a second),
//   immediate retry when the browser says it is online again — except after
//   close 4401 (auth), which is reported instead of retried forever.
import type { ClientMessage, ErrorMsg, EventMsg, ServerMessage, WelcomeMsg } from "./protocol.gen";
import { PROTOCOL_VERSION } from "./protocol.gen";
import { RESEND_CODES, movesAtOnce, reconnectDelay, resendDelay } from "./retry-policy";

export type ConnState = "idle" | "connecting" | "open" | "reconnecting" | "auth_failed" | "stopped";

export interface OutboxItem {
  conversation_id: string;
  client_id: string;
  text: string;
  /** ISO time the user pressed send (for display while unsent). */
  at: string;
  /** Already stored by the server (e.g. the first message sent over HTTP): never resend. */
  stored?: boolean;
}

/** The answer to a request: usually `ack` or `error`, matched by the frame id. */
export type Answer = ServerMessage;

export interface ClientOptions {
  url?: string;
  token?: string | null;
  outbox?: OutboxItem[];
  onState?: (state: ConnState) => void;
  onWelcome?: (welcome: WelcomeMsg) => void;
  /** Each durable event of a followed conversation as it arrives (a resend may repeat
   * one, a lost frame leave a gap): the model orders them and reports `applied()`. */
  onEvent?: (event: EventMsg) => void;
  /** Every other frame (after internal bookkeeping); `answered` when it was the
   * answer to a `request()` (whose caller already got it). */
  onFrame?: (frame: ServerMessage, answered: boolean) => void;
  /** The outbox changed (persist it, re-render pending messages). */
  onOutbox?: (items: OutboxItem[]) => void;
  /** A chat message was refused for good (e.g. conversation ended). */
  onChatRefused?: (item: OutboxItem, error: ErrorMsg) => void;
  /** Heartbeat and back-off tuning (tests). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  ackTimeoutMs?: number;
}

interface Sub {
  /** The last seq the model applied: a resubscribe asks for what follows. */
  lastSeq: number;
  subscribed: boolean;
  /** A subscribe was sent on the current socket (answer pending or received). */
  requested: boolean;
}

interface Waiting {
  resolve: (answer: Answer) => void;
  timer: number;
}

const CLIENT_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;
const PROBE_TIMEOUT_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;

/** A fresh client_id: 32 hex digits (crypto.randomUUID without dashes). */
export function newClientId(): string {
  const c: Crypto | undefined = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID().replace(/-/g, "");
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function isClientId(value: unknown): value is string {
  return typeof value === "string" && CLIENT_ID_RE.test(value);
}

/** ws:// or wss:// URL of `path` on this page's own origin. */
export function sameOriginWsUrl(path = "/ws"): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

function jitter(ms: number): number {
  return ms * (0.8 + Math.random() * 0.4);
}

export class VisavisClient {
  state: ConnState = "idle";
  heartbeatS = 25;

  private readonly opts: ClientOptions;
  private ws: WebSocket | null = null;
  private token: string | null;
  private readonly subs = new Map<string, Sub>();
  private outbox: OutboxItem[];
  /** client_ids whose event we have seen (never show a pending copy next to it). */
  private readonly delivered = new Set<string>();
  private readonly waiting = new Map<string, Waiting>();
  private frameNo = 0;
  private attempts = 0;
  private retryTimer = 0;
  private heartbeatTimer = 0;
  private probeTimer = 0;
  private connectTimer = 0;
  /** When the server last moved this client to another of its processes (close 4010). */
  private movedAt = -Infinity;
  private awaitingPong = false;
  private readonly chatTimers = new Map<string, number>();
  private authFailed = false;
  private welcomed = false;
  private readonly listeners = new Set<(frame: ServerMessage) => void>();

  constructor(opts: ClientOptions = {}) {
    this.opts = opts;
    this.token = opts.token ?? null;
    this.outbox = (opts.outbox ?? []).filter(
      (i) => isClientId(i.client_id) && typeof i.text === "string",
    );
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
  }

  // ------------------------------------------------------------------ lifecycle
  start(): void {
    if (this.state === "stopped") return;
    if (this.ws) return;
    this.authFailed = false;
    this.connect();
  }

  /** Close for good (logout, new conversation). */
  stop(): void {
    this.setState("stopped");
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    window.clearTimeout(this.retryTimer);
    this.teardown(1000);
  }

  setToken(token: string | null): void {
    this.token = token;
  }

  /** The customer's conversation token (null for advisers, who have a session cookie):
   * components that hold only the client need it for their HTTP calls (uploads). */
  get bearer(): string | null {
    return this.token;
  }

  /** Also hand every frame but events to `fn` (after `onFrame`): for components that
   * hold only the client, e.g. the room's document stage and its ephemeral pointer and
   * view frames. Returns the function that stops it. */
  listen(fn: (frame: ServerMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private connect(quietly = false): void {
    window.clearTimeout(this.retryTimer);
    if (!quietly) this.setState(this.attempts === 0 ? "connecting" : "reconnecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url ?? sameOriginWsUrl());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    // A connection attempt can hang (half-open network); give it a deadline.
    this.connectTimer = window.setTimeout(() => {
      if (this.ws === ws && !this.welcomed) this.drop();
    }, CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      const hello: ClientMessage = { v: PROTOCOL_VERSION, type: "hello", id: this.nextId() };
      if (this.token) hello.token = this.token;
      this.raw(hello);
      // A reconnect's subscribes go right behind hello, not after welcome: one round
      // trip less, and the server answers a customer's hello and subscribe together
      // (one read, one write; docs/protocol.md). welcome still comes first.
      for (const [cid, sub] of this.subs) if (!sub.requested) this.sendSubscribe(cid, sub);
    };
    ws.onmessage = (msg) => {
      if (typeof msg.data !== "string") return;
      let frame: ServerMessage;
      try {
        frame = JSON.parse(msg.data) as ServerMessage;
      } catch {
        return;
      }
      this.handle(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this.closed(ev.code);
    };
    // onerror is always followed by onclose; nothing to do here.
  }

  /** Forget the current socket now (without waiting for a close handshake that may
   * never complete while the network is down) and schedule a reconnect. */
  private drop(): void {
    if (!this.ws) return;
    this.teardown(4000);
    if (this.state !== "stopped" && this.state !== "auth_failed") this.scheduleReconnect();
  }

  private teardown(code: number): void {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    window.clearTimeout(this.heartbeatTimer);
    window.clearTimeout(this.probeTimer);
    window.clearTimeout(this.connectTimer);
    for (const t of this.chatTimers.values()) window.clearTimeout(t);
    this.chatTimers.clear();
    for (const sub of this.subs.values()) {
      sub.subscribed = false;
      sub.requested = false;
    }
    for (const [id, w] of this.waiting) {
      window.clearTimeout(w.timer);
      w.resolve({ v: 1, type: "error", id, code: "disconnected", message: "connection lost" });
    }
    this.waiting.clear();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(code);
      } catch {
        /* already closed */
      }
    }
  }

  private closed(code: number): void {
    this.teardown(1000);
    if (this.state === "stopped") return;
    if (code === 4401 || code === 4403 || this.authFailed) {
      this.setState("auth_failed");
      return;
    }
    const now = Date.now();
    if (this.state === "open" && movesAtOnce(code, this.movedAt, now)) {
      // Served in another process of the server from now on: over there at once,
      // still "open" for the UI (the outbox resends what was unacked, as always).
      this.movedAt = now;
      this.connect(true);
      return;
    }
    this.scheduleReconnect(code);
  }

  private scheduleReconnect(closeCode?: number): void {
    const delay = reconnectDelay(
      this.attempts,
      navigator.onLine !== false,
      Math.random(),
      this.opts.backoffMinMs,
      this.opts.backoffMaxMs,
      closeCode,
    );
    this.attempts += 1;
    this.setState("reconnecting");
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  private readonly onOnline = (): void => {
    if (!this.ws && this.state === "reconnecting") {
      this.attempts = Math.min(this.attempts, 1);
      this.connect();
    } else {
      this.probe();
    }
  };

  /** Back from a locked screen or a background tab: the socket may have died
   * silently meanwhile. Ask for a pong now rather than at the next heartbeat. */
  private readonly onVisible = (): void => {
    if (document.visibilityState !== "visible") return;
    if (!this.ws && this.state === "reconnecting") this.connect();
    else this.probe();
  };

  private probe(): void {
    if (!this.connected) return;
    this.awaitingPong = true;
    this.raw({ v: PROTOCOL_VERSION, type: "ping", id: this.nextId() });
    window.clearTimeout(this.probeTimer);
    this.probeTimer = window.setTimeout(() => {
      if (this.awaitingPong) this.drop();
    }, PROBE_TIMEOUT_MS);
  }

  private readonly onOffline = (): void => {
    // The socket may linger half-dead for a long time; show the truth at once.
    if (this.ws) this.drop();
  };

  private setState(state: ConnState): void {
    if (this.state === state) return;
    this.state = state;
    this.opts.onState?.(state);
  }

  // ------------------------------------------------------------------ heartbeat
  private scheduleHeartbeat(): void {
    window.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = window.setTimeout(
      () => {
        if (!this.ws) return;
        if (this.awaitingPong) {
          // The previous ping got no pong within a whole interval: the socket is dead.
          this.drop();
          return;
        }
        this.awaitingPong = true;
        this.raw({ v: PROTOCOL_VERSION, type: "ping", id: this.nextId() });
        this.scheduleHeartbeat();
      },
      jitter(this.heartbeatS * 1000),
    );
  }

  // ------------------------------------------------------------------ subscriptions
  /** Show this conversation: subscribe now (if connected) and after every reconnect. */
  subscribe(conversationId: string, afterSeq = 0): void {
    let sub = this.subs.get(conversationId);
    if (!sub) {
      sub = { lastSeq: afterSeq, subscribed: false, requested: false };
      this.subs.set(conversationId, sub);
    }
    if (this.welcomed && !sub.requested) this.sendSubscribe(conversationId, sub);
  }

  /** Stop tracking locally (the protocol has no unsubscribe; events are then ignored). */
  forget(conversationId: string): void {
    this.subs.delete(conversationId);
  }

  isSubscribed(conversationId: string): boolean {
    return this.subs.get(conversationId)?.subscribed ?? false;
  }

  private sendSubscribe(conversationId: string, sub: Sub): void {
    sub.requested = true;
    this.raw({
      v: PROTOCOL_VERSION,
      type: "subscribe",
      id: this.nextId(),
      conversation_id: conversationId,
      after_seq: sub.lastSeq,
    });
  }

  /** The model applied this event: resubscribe after it, and its chat message (if it
   * is one of ours) is sent for good. */
  applied(ev: EventMsg): void {
    const sub = this.subs.get(ev.conversation_id);
    if (sub && ev.seq > sub.lastSeq) sub.lastSeq = ev.seq;
    if (ev.client_id) {
      this.delivered.add(ev.client_id);
      if (this.outbox.some((i) => i.client_id === ev.client_id))
        this.removeFromOutbox(ev.client_id);
    }
  }

  // ------------------------------------------------------------------ sending
  private nextId(): string {
    this.frameNo += 1;
    return `f${this.frameNo}`;
  }

  private raw(frame: ClientMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  get connected(): boolean {
    return this.welcomed && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Fire-and-forget (typing, receipts): dropped when not connected. */
  send(frame: ClientMessage): boolean {
    if (!this.connected) return false;
    return this.raw({ ...frame, v: PROTOCOL_VERSION });
  }

  /** The protocol's one binary frame (the co-browsing mirror, cobrowse/packing.ts);
   * dropped when not connected. */
  sendBinary(frame: Uint8Array): boolean {
    const ws = this.ws;
    if (!this.connected || !ws) return false;
    ws.send(frame);
    return true;
  }

  /** Send a command and wait for its ack / error (matched by `id`). */
  request(frame: ClientMessage, timeoutMs = 10_000): Promise<Answer> {
    const id = this.nextId();
    return new Promise((resolve) => {
      if (!this.connected || !this.raw({ ...frame, v: PROTOCOL_VERSION, id })) {
        resolve({ v: 1, type: "error", id, code: "disconnected", message: "not connected" });
        return;
      }
      const timer = window.setTimeout(() => {
        this.waiting.delete(id);
        resolve({ v: 1, type: "error", id, code: "timeout", message: "no answer" });
      }, timeoutMs);
      this.waiting.set(id, { resolve, timer });
    });
  }

  // ------------------------------------------------------------------ outbox
  pending(conversationId?: string): OutboxItem[] {
    return this.outbox.filter(
      (i) =>
        (!conversationId || i.conversation_id === conversationId) &&
        !this.delivered.has(i.client_id),
    );
  }

  /** Queue a chat message: shown at once, sent now or after the next (re)connect. */
  sendChat(conversationId: string, text: string): OutboxItem {
    const item: OutboxItem = {
      conversation_id: conversationId,
      client_id: newClientId(),
      text,
      at: new Date().toISOString(),
    };
    this.outbox = [...this.outbox, item];
    this.opts.onOutbox?.(this.outbox);
    if (this.isSubscribed(conversationId)) this.transmit(item);
    return item;
  }

  /** Remember a message the server already stored (sent over HTTP) until its event shows. */
  addStored(item: OutboxItem): void {
    this.outbox = [...this.outbox, { ...item, stored: true }];
    this.opts.onOutbox?.(this.outbox);
  }

  private transmit(item: OutboxItem): void {
    if (item.stored || this.delivered.has(item.client_id)) return;
    const sent = this.raw({
      v: PROTOCOL_VERSION,
      type: "chat.send",
      id: `m-${item.client_id}`,
      conversation_id: item.conversation_id,
      client_id: item.client_id,
      text: item.text,
    });
    if (!sent) return;
    // No ack in time means a dead socket (e.g. the network vanished without a close):
    // drop it, reconnect, and the resend below delivers the message exactly once.
    window.clearTimeout(this.chatTimers.get(item.client_id));
    this.chatTimers.set(
      item.client_id,
      window.setTimeout(() => {
        this.chatTimers.delete(item.client_id);
        if (this.outbox.some((i) => i.client_id === item.client_id)) this.drop();
      }, this.opts.ackTimeoutMs ?? 8000),
    );
  }

  private resendFor(conversationId: string): void {
    for (const item of this.outbox) {
      if (item.conversation_id === conversationId) this.transmit(item);
    }
  }

  private removeFromOutbox(clientId: string): void {
    window.clearTimeout(this.chatTimers.get(clientId));
    this.chatTimers.delete(clientId);
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((i) => i.client_id !== clientId);
    if (this.outbox.length !== before) this.opts.onOutbox?.(this.outbox);
  }

  /** Drop every queued message of a conversation (it ended, or was abandoned). */
  clearOutbox(conversationId?: string): void {
    this.outbox = conversationId
      ? this.outbox.filter((i) => i.conversation_id !== conversationId)
      : [];
    this.opts.onOutbox?.(this.outbox);
  }

  // ------------------------------------------------------------------ receiving
  private handle(frame: ServerMessage): void {
    let resend: string | null = null;
    switch (frame.type) {
      case "welcome":
        window.clearTimeout(this.connectTimer);
        this.welcomed = true;
        this.attempts = 0;
        this.heartbeatS = frame.heartbeat_s > 0 ? frame.heartbeat_s : 25;
        this.awaitingPong = false;
        this.scheduleHeartbeat();
        this.setState("open");
        this.opts.onWelcome?.(frame);
        for (const [cid, sub] of this.subs) if (!sub.requested) this.sendSubscribe(cid, sub);
        break;
      case "event":
        if (this.subs.has(frame.conversation_id)) this.opts.onEvent?.(frame);
        return;
      case "subscribed": {
        const sub = this.subs.get(frame.conversation.id);
        if (sub) {
          sub.subscribed = true;
          // After the model has applied what waited (onFrame): none of it is resent.
          resend = frame.conversation.id;
        }
        break;
      }
      case "pong":
        this.awaitingPong = false;
        window.clearTimeout(this.probeTimer);
        break;
      case "ack":
        if (frame.id?.startsWith("m-")) this.removeFromOutbox(frame.id.slice(2));
        break;
      case "error":
        if (frame.code === "unauthorized" || frame.code === "not_hello") this.authFailed = true;
        if (frame.id?.startsWith("m-")) this.chatRefused(frame);
        break;
      case "conversation.assigned":
        // The server subscribed this socket already, but from which seq is its
        // business: subscribe explicitly with what we hold, so the history is complete
        // (duplicates are dropped by seq) and a reconnect resubscribes it.
        this.subscribe(frame.conversation.id);
        break;
      default:
        break;
    }
    const id = "id" in frame ? frame.id : null;
    const w = id ? this.waiting.get(id) : undefined;
    if (id && w) {
      this.waiting.delete(id);
      window.clearTimeout(w.timer);
      w.resolve(frame);
    }
    this.opts.onFrame?.(frame, !!w);
    for (const fn of this.listeners) fn(frame);
    if (resend) this.resendFor(resend);
  }

  private chatRefused(err: ErrorMsg): void {
    const clientId = (err.id ?? "").slice(2);
    const item = this.outbox.find((i) => i.client_id === clientId);
    if (!item) return;
    window.clearTimeout(this.chatTimers.get(clientId));
    this.chatTimers.delete(clientId);
    if (RESEND_CODES.has(err.code)) {
      // Said, not queued: the server is busy (or this socket too fast). The message
      // stays in the outbox, shown as sending, and goes again after the server's hint;
      // its client_id makes the server store it once.
      const hint = err.details?.retry_after_ms;
      window.setTimeout(() => this.transmit(item), resendDelay(hint, Math.random()));
      return;
    }
    this.removeFromOutbox(clientId);
    this.opts.onChatRefused?.(item, err);
  }
}
