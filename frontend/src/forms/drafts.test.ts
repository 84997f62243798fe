import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClientMessage } from "../lib/protocol.gen";
import type { Answer, VisavisClient } from "../lib/ws";
import { Drafts } from "./drafts";

// lib/i18n (for the notices' texts) picks the language from the page when it loads
vi.hoisted(() => {
  vi.stubGlobal("location", { search: "?lang=de", href: "http://localhost/" });
  vi.stubGlobal("navigator", { languages: ["de-DE"], language: "de-DE" });
  vi.stubGlobal("document", { documentElement: {} });
});
import type { FormState } from "./state";

function form(values: Record<string, string>, revs: Record<string, number>): FormState {
  return {
    formId: "form-0001",
    templateId: "t",
    version: 1,
    title: { de: "T", en: "T" },
    schema: {},
    ui: { groups: [], fields: {} },
    status: "open",
    values,
    revs,
    by: { name: "adviser" },
    errors: {},
    submitted: null,
  };
}

/** A socket whose answers the test gives, one request at a time. */
class FakeClient {
  sent: ClientMessage[] = [];
  private answers: ((a: Answer) => void)[] = [];
  request(frame: ClientMessage): Promise<Answer> {
    this.sent.push(frame);
    return new Promise((resolve) => this.answers.push(resolve));
  }
  answer(a: Partial<Answer> & { type: "ack" | "error" }): Promise<void> {
    this.answers.shift()?.({ v: 1, id: "x", code: "", message: "", ...a } as Answer);
    return Promise.resolve();
  }
}

let client: FakeClient;
let state: FormState;
let drafts: Drafts;
beforeEach(() => {
  vi.useFakeTimers();
  client = new FakeClient();
  state = form({}, {});
  drafts = new Drafts(() => ({
    client: client as unknown as VisavisClient,
    conversationId: "conv-1",
    form: state,
    changed: () => undefined,
  }));
});
afterEach(() => vi.useRealTimers());

describe("a field's drafts", () => {
  it("sends after the pause, based on the field's revision, one change at a time", async () => {
    drafts.edit("name", "Eri", "Eri", 300);
    vi.advanceTimersByTime(299);
    expect(client.sent).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(client.sent).toMatchObject([
      { type: "form.change", field: "name", value: "Eri", rev: 0 },
    ]);
    drafts.edit("name", "Erika", "Erika", 0); // typed on while the first is on its way
    vi.advanceTimersByTime(1);
    expect(client.sent).toHaveLength(1);
    await client.answer({ type: "ack" });
    // the next one is based on the revision the accepted one made
    expect(client.sent[1]).toMatchObject({ value: "Erika", rev: 1 });
    await client.answer({ type: "ack" });
    state = form({ name: "Erika" }, { name: 2 });
    drafts.settle(state);
    expect(drafts.get("name")).toBeUndefined();
  });

  it("drops a draft refused as a conflict and says what was typed", async () => {
    state = form({ name: "Erika" }, { name: 1 });
    drafts.edit("name", "Anna", "Anna", 0);
    vi.advanceTimersByTime(0);
    expect(client.sent[0]).toMatchObject({ rev: 1 });
    state = form({ name: "Erika Muster" }, { name: 2 }); // the other's change came first
    await client.answer({ type: "error", code: "form_field_conflict" });
    expect(drafts.get("name")).toBeUndefined();
    expect(drafts.notices.get("name")).toContain("„Anna“");
  });

  it("keeps an unreadable number as a draft without sending it", () => {
    drafts.edit("count", undefined, "12a", 0);
    vi.advanceTimersByTime(10);
    expect(client.sent).toHaveLength(0);
    expect(drafts.get("count")?.text).toBe("12a");
  });
});
