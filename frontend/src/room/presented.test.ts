import { describe, expect, it } from "vitest";
import type { EventMsg } from "../lib/protocol.gen";
import { presentedFromEvents } from "./presented";

let seq = 0;
function ev(kind: string, body: Record<string, unknown> = {}): EventMsg {
  seq += 1;
  return {
    type: "event",
    conversation_id: "c1",
    seq,
    kind: kind as EventMsg["kind"],
    author: { role: "adviser" },
    at: "2030-01-01T00:00:00Z",
    body,
  };
}

describe("presentedFromEvents", () => {
  it("is the last presented document until the stage is cleared", () => {
    expect(presentedFromEvents([ev("chat.message", { text: "x" })])).toBeNull();
    const shown = [ev("document.presented", { document_id: "d1", page: 1 })];
    expect(presentedFromEvents(shown)).toEqual({ documentId: "d1", page: 1, by: "adviser" });
    const paged = [...shown, ev("document.presented", { document_id: "d1", page: 3 })];
    expect(presentedFromEvents(paged)?.page).toBe(3);
    expect(presentedFromEvents([...paged, ev("stage.cleared")])).toBeNull();
    const again = [...paged, ev("stage.cleared"), ev("document.presented", { document_id: "d2" })];
    expect(presentedFromEvents(again)).toEqual({ documentId: "d2", page: 1, by: "adviser" });
  });
});
