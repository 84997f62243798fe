import { describe, expect, it } from "vitest";
import type { EventMsg } from "./protocol.gen";
import { cobrowseState } from "./cobrowse-state";

const log = (...kinds: EventMsg["kind"][]) => kinds.map((kind, i) => ({ kind, seq: i + 1 }));

describe("cobrowseState", () => {
  it("is idle without co-browsing events", () => {
    expect(cobrowseState(log("conversation.created", "chat.message"))).toEqual({
      phase: "idle",
      control: "none",
      since: 0,
      asked: 0,
      last: "none",
    });
  });

  it("follows request, consent, control and its revocation", () => {
    const steps = log(
      "cobrowse.requested",
      "cobrowse.started",
      "cobrowse.control_requested",
      "cobrowse.control_granted",
    );
    expect(cobrowseState(steps.slice(0, 1))).toMatchObject({ phase: "requested", since: 1 });
    expect(cobrowseState(steps.slice(0, 2))).toMatchObject({ phase: "started", control: "none" });
    expect(cobrowseState(steps.slice(0, 3))).toMatchObject({ control: "requested", asked: 3 });
    expect(cobrowseState(steps)).toMatchObject({ phase: "started", control: "granted" });
    const revoked = [...steps, { kind: "cobrowse.control_revoked" as const, seq: 5 }];
    expect(cobrowseState(revoked)).toMatchObject({ phase: "started", control: "none" });
  });

  it("ends on decline, end and the conversation's end", () => {
    expect(cobrowseState(log("cobrowse.requested", "cobrowse.declined")).phase).toBe("idle");
    const running = log("cobrowse.requested", "cobrowse.started", "cobrowse.control_requested");
    expect(cobrowseState([...running, { kind: "cobrowse.ended", seq: 9 }])).toEqual({
      phase: "idle",
      control: "none",
      since: 9,
      asked: 3,
      last: "adviser",
    });
    expect(cobrowseState([...running, { kind: "conversation.ended", seq: 9 }]).phase).toBe("idle");
  });

  it("ignores control steps outside a running co-browsing", () => {
    expect(cobrowseState(log("cobrowse.control_granted"))).toMatchObject({ control: "none" });
    expect(cobrowseState(log("cobrowse.started")).phase).toBe("idle");
  });
});
