// The conversation model against frames recorded from a real server (recorded/*.json,
// see recorded/README.md), as they came and disturbed the ways a network disturbs them.
import { describe, expect, it } from "vitest";
import type { ConversationSummary, EventMsg, ServerMessage } from "../protocol.gen";
import annaRec from "./recorded/anna.json";
import benRec from "./recorded/ben.json";
import customerAgainRec from "./recorded/customer-again.json";
import customerRec from "./recorded/customer.json";
import {
  emptyModel,
  reduce,
  unread,
  type Action,
  type Conversation,
  type Model,
  type Role,
} from "./reduce";

const recorded = (frames: unknown): ServerMessage[] => frames as ServerMessage[];
const customer = recorded(customerRec);
const customerAgain = recorded(customerAgainRec);
const anna = recorded(annaRec);
const ben = recorded(benRec);

const welcome = customer.find((f) => f.type === "welcome");
if (welcome?.type !== "welcome" || !welcome.conversation) throw new Error("no welcome");
const CID = welcome.conversation.id;

function run(self: Role, frames: readonly Action[], from: Model = emptyModel(self)): Model {
  return frames.reduce(reduce, from);
}

function conv(model: Model, id = CID): Conversation {
  const c = model.conversations.get(id);
  if (!c) throw new Error(`no conversation ${id}`);
  return c;
}

const seqs = (model: Model): number[] => conv(model).events.map((e) => e.seq);
const isEvent = (f: ServerMessage): f is EventMsg => f.type === "event";
/** Index of the first frame matching `pred` (throws if none: the recording changed). */
function at(frames: readonly ServerMessage[], pred: (f: ServerMessage) => boolean): number {
  const i = frames.findIndex(pred);
  if (i < 0) throw new Error("frame not in the recording");
  return i;
}
const eventSeq = (seq: number) => (f: ServerMessage) => isEvent(f) && f.seq === seq;

function summary(over: Partial<ConversationSummary>): ConversationSummary {
  return { ...conv(run("customer", customer)).summary, ...over };
}

describe("the customer's recording, as it came", () => {
  const model = run("customer", customer);
  const c = conv(model);

  it("applies each event once, in seq order, past the hidden internal notes", () => {
    expect(seqs(model)).toEqual([1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13]);
    expect(c.lastSeq).toBe(13);
    expect(c.ahead).toEqual([]);
    expect(c.live).toBe(true);
    expect(c.loaded).toBe(true);
  });

  it("keeps the summary of the last update, the marks and the queue place", () => {
    expect(c.summary.adviser?.name).toBe("Ben Schulz");
    expect(c.summary.call).toBeNull();
    expect(c.other).toEqual({ delivered: 5, read: 5 });
    expect(c.mine).toEqual({ delivered: 4, read: 4 });
    expect(c.position?.type).toBe("queue.position");
    expect(c.typing).toBeNull(); // the adviser's message ended the typing
  });

  it("counts the adviser's messages not read yet", () => {
    expect(unread(c, "customer")).toBe(0);
    const fresh = reduce(model, {
      ...(customer[at(customer, eventSeq(4))] as EventMsg),
      seq: 14,
      client_id: "another-message",
    });
    expect(unread(conv(fresh), "customer")).toBe(1);
  });
});

describe("reconnect and replay", () => {
  it("drops the events resent after the resubscribe and goes on after them", () => {
    const before = run("customer", customer);
    const offline = reduce(before, { type: "offline" });
    expect(conv(offline).live).toBe(false);
    // The new socket subscribed from seq 3: 4…13 come again before `subscribed`.
    const replayed = run("customer", customerAgain, offline);
    expect(seqs(replayed)).toEqual([1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15]);
    const c = conv(replayed);
    expect(c.live).toBe(true);
    expect(c.summary.status).toBe("ended");
    // The copies applied first stay; the resent ones are dropped.
    expect(c.events[3]).toBe(conv(before).events[3]);
  });

  it("is not live between the socket going down and the next subscribed", () => {
    const i = at(customerAgain, (f) => f.type === "subscribed");
    const midway = run("customer", [
      ...customer,
      { type: "offline" },
      ...customerAgain.slice(0, i),
    ]);
    expect(conv(midway).live).toBe(false);
    expect(conv(reduce(midway, customerAgain[i] as Action)).live).toBe(true);
  });
});

describe("gaps", () => {
  const nine = at(customer, eventSeq(9));

  it("applies the event after hidden notes at once: prev_seq names the seq before them", () => {
    const model = run("customer", customer.slice(0, nine + 1));
    expect(seqs(model).slice(-2)).toEqual([6, 9]);
    expect(conv(model).ahead).toEqual([]);
  });

  it("holds an event after a gap without prev_seq until the gap times out", () => {
    const stripped = customer.map((f) =>
      isEvent(f) && f.seq === 9 ? { ...f, prev_seq: null } : f,
    );
    const held = run("customer", stripped.slice(0, nine + 1));
    expect(seqs(held).at(-1)).toBe(6);
    expect(conv(held).ahead.map((e) => e.seq)).toEqual([9]);
    // Later events wait behind it too.
    const later = run("customer", stripped.slice(nine + 1).filter(isEvent), held);
    expect(seqs(later).at(-1)).toBe(6);
    const flushed = reduce(later, { type: "gap.timeout", conversation_id: CID });
    expect(seqs(flushed)).toEqual([1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13]);
    expect(conv(flushed).ahead).toEqual([]);
  });

  it("applies what waits when subscribed says everything was sent", () => {
    const i = at(customerAgain, (f) => f.type === "subscribed");
    const replay = customerAgain.slice(0, i).filter((f) => !(isEvent(f) && f.seq === 6));
    const base = run("customer", customer.slice(0, at(customer, eventSeq(5)) + 1));
    const held = run("customer", [{ type: "offline" }, ...replay], base);
    expect(seqs(held).at(-1)).toBe(5);
    expect(conv(held).ahead.map((e) => e.seq)).toEqual([9, 10, 11, 12, 13]);
    const done = reduce(held, customerAgain[i] as Action);
    expect(seqs(done)).toEqual([1, 2, 3, 4, 5, 9, 10, 11, 12, 13]);
  });

  it("fills a gap when the missing event comes after all", () => {
    const model = run("customer", customer.slice(0, at(customer, eventSeq(4))));
    const four = customer[at(customer, eventSeq(4))] as EventMsg;
    const five = customer[at(customer, eventSeq(5))] as EventMsg;
    const early = reduce(model, five);
    expect(conv(early).ahead.map((e) => e.seq)).toEqual([5]);
    const filled = reduce(early, four);
    expect(seqs(filled).slice(-2)).toEqual([4, 5]);
    expect(conv(filled).ahead).toEqual([]);
  });
});

describe("duplicates and order", () => {
  it("takes the console's second replay of the same history once", () => {
    // Anna's socket got events 1–3 twice (assigned, then her own subscribe from 0).
    const model = run("adviser", anna);
    expect(seqs(model)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("ignores every event sent twice in a row", () => {
    const doubled = customer.flatMap((f): ServerMessage[] => (isEvent(f) ? [f, { ...f }] : [f]));
    expect(run("customer", doubled)).toEqual(run("customer", customer));
  });

  it("puts events that came out of order back in order", () => {
    // The call's four events arrive backwards (the summaries in between as they came).
    const i = at(customer, eventSeq(10));
    const head = customer.slice(0, i);
    const tail = customer.slice(i);
    const shuffled = [
      ...head,
      ...tail.filter((f) => !isEvent(f)),
      ...tail.filter(isEvent).reverse(),
    ];
    const model = run("customer", shuffled);
    expect(seqs(model)).toEqual([1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13]);
    expect(conv(model).ahead).toEqual([]);
  });
});

describe("receipts", () => {
  const model = run("customer", customer);

  it("never go back: not by a receipt, a summary or a receipt sent earlier", () => {
    let m = reduce(model, {
      type: "receipt",
      conversation_id: CID,
      role: "adviser",
      delivered_seq: 3,
      read_seq: 2,
    });
    m = reduce(m, {
      type: "conversation.update",
      conversation: summary({ adviser_delivered_seq: 1, customer_read_seq: 1 }),
    });
    m = reduce(m, { type: "receipt.sent", conversation_id: CID, delivered: 2, read: 2 });
    expect(conv(m).other).toEqual({ delivered: 5, read: 5 });
    expect(conv(m).mine).toEqual({ delivered: 4, read: 4 });
  });

  it("move forward independently (delivered ahead of read)", () => {
    const m = reduce(model, {
      type: "receipt",
      conversation_id: CID,
      role: "adviser",
      delivered_seq: 13,
      read_seq: 4,
    });
    expect(conv(m).other).toEqual({ delivered: 13, read: 5 });
    const sent = reduce(m, { type: "receipt.sent", conversation_id: CID, delivered: 13, read: 13 });
    expect(conv(sent).mine).toEqual({ delivered: 13, read: 13 });
  });

  it("of my own side count as mine (another tab)", () => {
    const m = run("adviser", anna);
    const mine = reduce(m, {
      type: "receipt",
      conversation_id: CID,
      role: "adviser",
      delivered_seq: 8,
      read_seq: 8,
    });
    expect(conv(m).other).toEqual({ delivered: 4, read: 4 });
    expect(conv(mine).mine).toEqual({ delivered: 8, read: 8 });
    expect(conv(mine).other).toEqual({ delivered: 4, read: 4 });
  });
});

describe("typing", () => {
  const typingOn = at(anna, (f) => f.type === "typing" && f.active);
  const typingOff = at(anna, (f) => f.type === "typing" && !f.active);

  it("shows the other side from on to off", () => {
    const on = run("adviser", anna.slice(0, typingOn + 1));
    expect(conv(on).typing?.role).toBe("customer");
    expect(conv(run("adviser", anna.slice(typingOn + 1, typingOff + 1), on)).typing).toBeNull();
  });

  it("ends with the other side's message, a timeout, or the end of the conversation", () => {
    const on = run("adviser", anna.slice(0, typingOn + 1));
    const five = anna[at(anna, eventSeq(5))] as EventMsg;
    expect(conv(reduce(on, five)).typing).toBeNull();
    expect(conv(reduce(on, { type: "typing.timeout", conversation_id: CID })).typing).toBeNull();
    expect(conv(reduce(on, { type: "ended", conversation_id: CID })).typing).toBeNull();
  });

  it("ignores my own side's typing (a colleague's)", () => {
    const model = run("adviser", anna);
    const colleague = reduce(model, {
      type: "typing",
      conversation_id: CID,
      author: { role: "adviser", id: "x", name: "Ben Schulz" },
      active: true,
    });
    expect(colleague).toBe(model);
  });

  it("shows the adviser to the customer until the adviser's message", () => {
    const i = at(customer, (f) => f.type === "typing");
    const on = run("customer", customer.slice(0, i + 1));
    expect(conv(on).typing?.role).toBe("adviser");
    expect(conv(reduce(on, customer[at(customer, eventSeq(4))] as Action)).typing).toBeNull();
  });
});

describe("calls", () => {
  it("follow the summary's call from ringing to active to none, events in order", () => {
    const states: (string | null)[] = [];
    let m = emptyModel("adviser");
    for (const f of ben) {
      m = reduce(m, f);
      const c = m.conversations.get(CID);
      const s = c?.summary.call?.status ?? null;
      if (c && states.at(-1) !== s) states.push(s);
    }
    expect(states).toEqual([null, "ringing", "active", null]);
    const kinds = conv(m)
      .events.filter((e) => e.kind.startsWith("call."))
      .map((e) => `${e.seq} ${e.kind}`);
    expect(kinds).toEqual([
      "10 call.requested",
      "11 call.started",
      "12 call.media",
      "13 call.ended",
    ]);
    const media = conv(m).events.find((e) => e.kind === "call.media");
    expect(media?.body).toMatchObject({ role: "adviser", audio: true, video: true });
  });
});

describe("conversation summaries", () => {
  it("update a known conversation and ignore an unknown one", () => {
    const model = run("customer", customer);
    const other = reduce(model, {
      type: "conversation.update",
      conversation: summary({ id: "someone-else" }),
    });
    expect(other).toBe(model);
    const ended = reduce(model, {
      type: "conversation.update",
      conversation: summary({ status: "ended" }),
    });
    expect(conv(ended).summary.status).toBe("ended");
  });

  it("name the adviser when the acceptance comes before the update", () => {
    const queued = run("customer", customer.slice(0, at(customer, eventSeq(3))));
    expect(conv(queued).summary.status).toBe("queued");
    const taken = reduce(queued, customer[at(customer, eventSeq(3))] as Action);
    expect(conv(taken).summary.status).toBe("active");
    expect(conv(taken).summary.adviser?.name).toBe("Anna Berger");
  });

  it("are not undone by an old acceptance replayed after a hand-over", () => {
    const model = run("customer", [...customer, { type: "offline" }]);
    const three = customer[at(customer, eventSeq(3))] as EventMsg;
    const fresh = reduce(emptyModel("customer"), { type: "follow", summary: conv(model).summary });
    const replayed = reduce(fresh, three);
    expect(conv(replayed).summary.adviser?.name).toBe("Ben Schulz");
  });

  it("end a conversation with its event, too", () => {
    const model = run("customer", [...customer, { type: "offline" }, ...customerAgain]);
    const beforeUpdate = run("customer", [
      ...customer,
      { type: "offline" },
      ...customerAgain.filter((f) => f.type !== "conversation.update"),
    ]);
    expect(conv(beforeUpdate).summary.status).toBe("ended");
    expect(conv(model).summary.status).toBe("ended");
  });

  it("make a conversation read-only for the adviser who handed it over", () => {
    const model = run("adviser", anna);
    const c = conv(model);
    expect(c.gone).toBe("adviser");
    expect(c.live).toBe(false);
    // Nothing more is applied to it.
    const nine = ben[at(ben, eventSeq(9))] as Action;
    expect(reduce(model, nine)).toBe(model);
  });

  it("say 'to the team' and 'left' for the other ways out", () => {
    const before = at(anna, (f) => f.type === "conversation.update");
    const mine = run("adviser", anna.slice(0, before));
    const s = conv(mine).summary;
    const toTeam = reduce(mine, {
      type: "conversation.update",
      conversation: { ...s, status: "queued", adviser: null },
    });
    expect(conv(toTeam).gone).toBe("team");
    const consulting = run(
      "adviser",
      ben.slice(
        0,
        at(ben, (f) => f.type === "subscribed"),
      ),
    );
    const cs = conv(consulting).summary;
    expect(cs.consultant?.name).toBe("Ben Schulz");
    const left = reduce(consulting, {
      type: "conversation.update",
      conversation: { ...cs, consultant: null },
    });
    expect(conv(left).gone).toBe("left");
    const ended = reduce(consulting, {
      type: "conversation.update",
      conversation: { ...cs, consultant: null, status: "ended" },
    });
    expect(conv(ended).gone).toBeNull();
  });

  it("follow a conversation handed back afresh from its first event", () => {
    const gone = run("adviser", anna);
    const again = reduce(gone, {
      type: "conversation.assigned",
      conversation: summary({ adviser: { role: "adviser", id: gone.selfId, name: "Anna" } }),
    });
    const c = conv(again);
    expect(c.gone).toBeNull();
    expect(c.events).toEqual([]);
    expect(c.lastSeq).toBe(0);
    // Ben's socket, as it followed the same conversation (its history came twice).
    const replay = ben.filter((f) => isEvent(f) && f.seq <= 9);
    expect(seqs(run("adviser", replay, again))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("list the console's conversations in the order they came, and close them", () => {
    const s1 = summary({ id: "c1" });
    const s2 = summary({ id: "c2" });
    const model = run("adviser", [
      { ...(anna[0] as ServerMessage & { type: "welcome" }), conversations: [s1, s2] },
      { type: "conversation.assigned", conversation: summary({ id: "c3" }) },
      { type: "subscribed", conversation: summary({ id: "unknown" }) },
    ]);
    expect(model.order).toEqual(["c1", "c2", "c3"]);
    const closed = reduce(model, { type: "close", conversation_id: "c2" });
    expect(closed.order).toEqual(["c1", "c3"]);
    expect(closed.conversations.has("c2")).toBe(false);
  });

  it("keep messages refused for good with their conversation", () => {
    const model = run("customer", customer);
    const item = { conversation_id: CID, client_id: "refused-1", text: "x", at: "" };
    expect(conv(reduce(model, { type: "chat.refused", item })).refused).toEqual([item]);
  });
});
