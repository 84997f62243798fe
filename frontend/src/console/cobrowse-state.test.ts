import { describe, expect, it, vi } from "vitest";
import type { EventMsg } from "../lib/protocol.gen";
import { cobrowseState, fitScale, Throttle, toCustomer } from "./cobrowse-state";

let seq = 0;
function ev(kind: EventMsg["kind"], body: Record<string, unknown> = {}): EventMsg {
  seq += 1;
  return {
    v: 1,
    type: "event",
    conversation_id: "c",
    seq,
    kind,
    author: { role: "adviser", id: "a", name: "A" },
    body,
    at: "2026-01-01T00:00:00Z",
  };
}

describe("cobrowseState", () => {
  it("follows the steps as the server does", () => {
    const asked = [ev("cobrowse.requested")];
    expect(cobrowseState(asked).phase).toBe("requested");
    const live = [...asked, ev("cobrowse.started")];
    expect(cobrowseState(live)).toMatchObject({ phase: "started", control: "none", last: "none" });
    const control = [...live, ev("cobrowse.control_requested"), ev("cobrowse.control_granted")];
    expect(cobrowseState(control).control).toBe("granted");
    expect(cobrowseState([...control, ev("cobrowse.control_revoked")]).control).toBe("none");
    const ended = [...control, ev("cobrowse.ended", { reason: "customer" })];
    expect(cobrowseState(ended)).toMatchObject({
      phase: "idle",
      control: "none",
      last: "customer",
    });
    expect(cobrowseState([...asked, ev("cobrowse.declined")]).last).toBe("declined");
  });

  it("a conversation's end leaves it idle", () => {
    const s = cobrowseState([ev("cobrowse.requested"), ev("conversation.ended")]);
    expect(s).toMatchObject({ phase: "idle", control: "none", last: "conversation_ended" });
    const moved = [ev("cobrowse.requested"), ev("cobrowse.ended", { reason: "transferred" })];
    expect(cobrowseState(moved).last).toBe("transferred");
  });
});

describe("mirror arithmetic", () => {
  const viewport = { width: 1280, height: 800 };
  it("fits without enlarging", () => {
    expect(fitScale(viewport, { width: 640, height: 1000 })).toBe(0.5);
    expect(fitScale(viewport, { width: 4000, height: 4000 })).toBe(1);
  });
  it("maps the mirror back to the customer's viewport", () => {
    expect(toCustomer(320, 200, 0.5, viewport)).toEqual({ x: 640, y: 400 });
    expect(toCustomer(700, 10, 0.5, viewport)).toBeNull(); // right of the viewport
    expect(toCustomer(1, 1, 0, viewport)).toBeNull();
  });
});

describe("Throttle", () => {
  it("lets one through per gap and always sends the last", () => {
    vi.useFakeTimers();
    let now = 0;
    const sent: number[] = [];
    const t = new Throttle<number>(
      34,
      (v) => sent.push(v),
      () => now,
    );
    for (let i = 0; i < 10; i++) {
      t.push(i);
      now += 5;
    }
    expect(sent).toEqual([0]);
    now = 100;
    vi.runAllTimers();
    expect(sent).toEqual([0, 9]);
    vi.useRealTimers();
  });
});
