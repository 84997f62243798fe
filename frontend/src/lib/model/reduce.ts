// The conversation model both apps show: a pure reducer over the server's frames (and a
// few local facts: the socket went down, a timer ran out, a receipt was sent).
//
// - Events are applied once each and in seq order. One that comes early waits in
//   `ahead` until the seqs before it arrived; `prev_seq` says which seqs the server
//   skipped for this reader (advisers' internal notes, for a customer), so the event
//   after them applies at once. `subscribed` (everything up to last_seq was sent) and
//   `gap.timeout` (a live gap stayed open too long) apply what waits, gaps and all.
// - Receipts (delivered/read marks, the other side's and mine) only move forward.
// - Typing of the other side, until it stops, writes, the conversation ends or
//   `typing.timeout`.
// - Summaries from welcome, subscribed, conversation.assigned/update; the call state is
//   the summary's `call`. An adviser whose part in a conversation ends (handed over,
//   left the consultation) keeps it read-only (`gone`) until it is theirs again.
//
// State is never changed in place: every change makes new objects along its path, so
// a component can compare by identity.
import type {
  Author,
  ConversationSummary,
  EventMsg,
  QueuePositionMsg,
  ServerMessage,
} from "../protocol.gen";
import type { OutboxItem } from "../ws";

export type Role = "customer" | "adviser";
/** An adviser's part in a conversation: its adviser, the consulting colleague, or neither. */
export type Part = "adviser" | "consultant" | "none";
/** Why a conversation I was with is no longer mine: handed to a colleague or a team, or I
 * left the consultation. */
export type Gone = "adviser" | "team" | "left";

export interface Marks {
  readonly delivered: number;
  readonly read: number;
}

export interface Conversation {
  readonly summary: ConversationSummary;
  /** Applied events in seq order, each once. */
  readonly events: readonly EventMsg[];
  /** The seq of the last applied event (a resubscribe asks for what follows it). */
  readonly lastSeq: number;
  /** Events that arrived before the seqs in front of them, by seq. */
  readonly ahead: readonly EventMsg[];
  /** Subscribed on the current socket: the server sent everything up to its last_seq. */
  readonly live: boolean;
  /** The history is complete (a `subscribed` arrived since following it). */
  readonly loaded: boolean;
  /** The other side is typing. */
  readonly typing: Author | null;
  /** The other side's marks (ticks on my messages). */
  readonly other: Marks;
  /** My marks, as sent (or as the server has them). */
  readonly mine: Marks;
  /** Chat messages the server refused for good. */
  readonly refused: readonly OutboxItem[];
  /** Customers: the place in the queue. */
  readonly position: QueuePositionMsg | null;
  readonly gone: Gone | null;
}

export interface Model {
  readonly self: Role;
  /** Advisers: my id (from welcome), which decides my part in a conversation. */
  readonly selfId: string;
  readonly order: readonly string[];
  readonly conversations: ReadonlyMap<string, Conversation>;
}

/** What happened here rather than on the server. */
export type LocalAction =
  /** Show a conversation known from elsewhere (HTTP) before the socket tells. */
  | { type: "follow"; summary: ConversationSummary }
  /** Stop showing it (a closed tab). */
  | { type: "close"; conversation_id: string }
  /** The socket is down: nothing is live until resubscribed. */
  | { type: "offline" }
  /** A live gap stayed open too long: apply what waits behind it. */
  | { type: "gap.timeout"; conversation_id: string }
  | { type: "typing.timeout"; conversation_id: string }
  | { type: "receipt.sent"; conversation_id: string; delivered: number; read: number }
  | { type: "chat.refused"; item: OutboxItem }
  /** The server said it has ended (e.g. `invalid_state` to conversation.end). */
  | { type: "ended"; conversation_id: string };

export type Action = ServerMessage | LocalAction;

export function emptyModel(self: Role): Model {
  return { self, selfId: "", order: [], conversations: new Map() };
}

export function otherRole(self: Role): Role {
  return self === "customer" ? "adviser" : "customer";
}

/** My part in a conversation: its adviser, the consulting colleague, or neither
 * (handed over, left, or a supervisor looking on). */
export function myPart(s: ConversationSummary, meId: string | undefined): Part {
  if (!meId) return "none";
  if (s.adviser?.id === meId) return "adviser";
  if (s.consultant?.id === meId) return "consultant";
  return "none";
}

export function isEnded(conv: Conversation): boolean {
  return conv.summary.status === "ended";
}

/** Chat messages of the other side I have not read. */
export function unread(conv: Conversation, self: Role): number {
  const other = otherRole(self);
  let n = 0;
  for (const ev of conv.events) {
    if (ev.kind === "chat.message" && ev.author.role === other && ev.seq > conv.mine.read) n += 1;
  }
  return n;
}

// ------------------------------------------------------------------ events by seq
/** Whether an event comes right after what was applied: the next seq, or the first
 * one after seqs the server skipped for this reader (`prev_seq`). */
function follows(lastSeq: number, ev: EventMsg): boolean {
  return (
    ev.seq === lastSeq + 1 || (ev.seq > lastSeq && ev.prev_seq != null && ev.prev_seq <= lastSeq)
  );
}

function maxMarks(a: Marks, delivered: number, read: number): Marks {
  if (delivered <= a.delivered && read <= a.read) return a;
  return { delivered: Math.max(a.delivered, delivered), read: Math.max(a.read, read) };
}

/** What an applied event changes besides the log. */
function afterEvent(conv: Conversation, ev: EventMsg, self: Role): Conversation {
  let next = conv;
  if (ev.kind === "chat.message" && ev.author.role === otherRole(self) && next.typing)
    next = { ...next, typing: null };
  const s = next.summary;
  if (ev.kind === "conversation.accepted" && s.status !== "active" && s.status !== "ended") {
    // Taken: the header names the adviser before the summary says so. (A replayed old
    // acceptance must not undo a later hand-over, hence only while not yet active.)
    const id = ev.body["adviser_id"];
    const name = ev.body["adviser_name"];
    next = {
      ...next,
      summary: {
        ...s,
        status: "active",
        adviser: {
          role: "adviser",
          id: typeof id === "string" ? id : null,
          name: typeof name === "string" ? name : (ev.author.name ?? null),
        },
      },
    };
  }
  if (ev.kind === "conversation.ended" && s.status !== "ended")
    next = { ...next, summary: { ...s, status: "ended" }, typing: null };
  return next;
}

function emit(conv: Conversation, ev: EventMsg, self: Role): Conversation {
  return afterEvent({ ...conv, events: [...conv.events, ev], lastSeq: ev.seq }, ev, self);
}

function applyEvent(conv: Conversation, ev: EventMsg, self: Role): Conversation {
  if (ev.seq <= conv.lastSeq) return conv; // already applied: never twice
  if (!follows(conv.lastSeq, ev)) {
    // Early: wait for the seqs in front of it (the latest copy of a seq wins).
    const ahead = [...conv.ahead.filter((e) => e.seq !== ev.seq), ev].sort((a, b) => a.seq - b.seq);
    return { ...conv, ahead };
  }
  let next = emit(conv, ev, self);
  for (;;) {
    const waiting = next.ahead.filter((e) => e.seq > next.lastSeq);
    const first = waiting.find((e) => follows(next.lastSeq, e));
    if (!first) {
      if (waiting.length !== next.ahead.length) next = { ...next, ahead: waiting };
      return next;
    }
    next = emit({ ...next, ahead: waiting.filter((e) => e !== first) }, first, self);
  }
}

/** Apply everything that waits, in seq order: the seqs in front of it will not come. */
function flushAhead(conv: Conversation, self: Role): Conversation {
  if (conv.ahead.length === 0) return conv;
  let next: Conversation = { ...conv, ahead: [] };
  for (const ev of conv.ahead) if (ev.seq > next.lastSeq) next = emit(next, ev, self);
  return next;
}

// ------------------------------------------------------------------ summaries
/** One side's marks as the summary has them. */
function summaryMarks(s: ConversationSummary, role: Role): Marks {
  return role === "customer"
    ? { delivered: s.customer_delivered_seq, read: s.customer_read_seq }
    : { delivered: s.adviser_delivered_seq, read: s.adviser_read_seq };
}

function fresh(summary: ConversationSummary, self: Role): Conversation {
  return {
    summary,
    events: [],
    lastSeq: 0,
    ahead: [],
    live: false,
    loaded: false,
    typing: null,
    other: summaryMarks(summary, otherRole(self)),
    mine: summaryMarks(summary, self),
    refused: [],
    position: null,
    gone: null,
  };
}

/** A newer summary; the marks in it never move mine or the other side's back. */
function withSummary(conv: Conversation, s: ConversationSummary, self: Role): Conversation {
  const mine = summaryMarks(s, self);
  const other = summaryMarks(s, otherRole(self));
  return {
    ...conv,
    summary: s,
    mine: maxMarks(conv.mine, mine.delivered, mine.read),
    other: maxMarks(conv.other, other.delivered, other.read),
    typing: s.status === "ended" ? null : conv.typing,
  };
}

function put(model: Model, conv: Conversation): Model {
  const id = conv.summary.id;
  const known = model.conversations.has(id);
  return {
    ...model,
    order: known ? model.order : [...model.order, id],
    conversations: new Map(model.conversations).set(id, conv),
  };
}

function upsert(model: Model, s: ConversationSummary): Model {
  const conv = model.conversations.get(s.id);
  return put(model, conv ? withSummary(conv, s, model.self) : fresh(s, model.self));
}

/** Change one known conversation (unknown ones are not shown: nothing to change). */
function update(model: Model, id: string, fn: (c: Conversation) => Conversation): Model {
  const conv = model.conversations.get(id);
  if (!conv) return model;
  const next = fn(conv);
  return next === conv ? model : put(model, next);
}

/** conversation.update: the new summary; an adviser whose part ended keeps it read-only. */
function updated(model: Model, s: ConversationSummary): Model {
  return update(model, s.id, (conv) => {
    const before = myPart(conv.summary, model.selfId);
    const next = withSummary(conv, s, model.self);
    if (
      model.self !== "adviser" ||
      before === "none" ||
      myPart(s, model.selfId) !== "none" ||
      s.status === "ended"
    )
      return next;
    const gone: Gone =
      before === "consultant" ? "left" : s.status === "queued" ? "team" : "adviser";
    return { ...next, gone, typing: null, live: false };
  });
}

/** conversation.assigned: mine (again). One handed back is followed afresh from its
 * first event, as the socket resubscribes it from the start. */
function assigned(model: Model, s: ConversationSummary): Model {
  const conv = model.conversations.get(s.id);
  if (conv?.gone) return put(model, { ...fresh(s, model.self), refused: conv.refused });
  return upsert(model, s);
}

// ------------------------------------------------------------------ the reducer
export function reduce(model: Model, action: Action): Model {
  const self = model.self;
  switch (action.type) {
    case "welcome": {
      let next: Model = action.adviser ? { ...model, selfId: action.adviser.id } : model;
      if (action.conversation) next = upsert(next, action.conversation);
      for (const s of action.conversations ?? []) next = upsert(next, s);
      return next;
    }
    case "event":
      return update(model, action.conversation_id, (c) =>
        c.gone ? c : applyEvent(c, action, self),
      );
    case "subscribed":
      return update(model, action.conversation.id, (c) =>
        flushAhead(
          { ...withSummary(c, action.conversation, self), live: true, loaded: true },
          self,
        ),
      );
    case "conversation.assigned":
      return assigned(model, action.conversation);
    case "conversation.update":
      return updated(model, action.conversation);
    case "typing":
      if (action.author.role !== otherRole(self)) return model;
      return update(model, action.conversation_id, (c) => {
        const typing = action.active && !isEnded(c) && !c.gone ? action.author : null;
        return typing === c.typing ? c : { ...c, typing };
      });
    case "receipt":
      return update(model, action.conversation_id, (c) => {
        const key = action.role === self ? "mine" : "other";
        const marks = maxMarks(c[key], action.delivered_seq, action.read_seq);
        return marks === c[key] ? c : { ...c, [key]: marks };
      });
    case "queue.position":
      return update(model, action.conversation_id, (c) => ({ ...c, position: action }));
    // ---------------------------------------------------------------- local
    case "follow":
      return upsert(model, action.summary);
    case "close": {
      if (!model.conversations.has(action.conversation_id)) return model;
      const conversations = new Map(model.conversations);
      conversations.delete(action.conversation_id);
      return {
        ...model,
        order: model.order.filter((id) => id !== action.conversation_id),
        conversations,
      };
    }
    case "offline": {
      if (![...model.conversations.values()].some((c) => c.live)) return model;
      const conversations = new Map(model.conversations);
      for (const [id, c] of conversations) if (c.live) conversations.set(id, { ...c, live: false });
      return { ...model, conversations };
    }
    case "gap.timeout":
      return update(model, action.conversation_id, (c) => flushAhead(c, self));
    case "typing.timeout":
      return update(model, action.conversation_id, (c) => (c.typing ? { ...c, typing: null } : c));
    case "receipt.sent":
      return update(model, action.conversation_id, (c) => {
        const mine = maxMarks(c.mine, action.delivered, action.read);
        return mine === c.mine ? c : { ...c, mine };
      });
    case "chat.refused":
      return update(model, action.item.conversation_id, (c) => ({
        ...c,
        refused: [...c.refused, action.item],
      }));
    case "ended":
      return update(model, action.conversation_id, (c) =>
        isEnded(c) ? c : { ...c, summary: { ...c.summary, status: "ended" }, typing: null },
      );
    default:
      return model;
  }
}
