import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Gatherer } from "./gatherer";
import { CHECK_TIMEOUT_MS, PreCallCheck } from "./precheck";
import type { IceConfig } from "./types";

const TURN: IceConfig = {
  iceServers: [{ urls: "stun:s.example" }, { urls: "turn:t.example" }],
  policy: "all",
  ttlS: 600,
  fetchedAt: 0,
};

/** `found`: candidate types the fake gathers, one per 10 ms; `done`: then complete. */
function setup(ice: IceConfig | null, found: string[], done = true) {
  const state = { changes: 0, closed: 0 };
  const check = new PreCallCheck(
    { ice: () => Promise.resolve(ice), changed: () => (state.changes += 1) },
    () => {
      const g: Gatherer = {
        oncandidate: null,
        ondone: null,
        gather: () => {
          found.forEach((t, i) => setTimeout(() => g.oncandidate?.(t), 10 * (i + 1)));
          if (done) setTimeout(() => g.ondone?.(), 10 * (found.length + 1));
          return Promise.resolve();
        },
        close: () => (state.closed += 1),
      };
      return g;
    },
  );
  return { state, check };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("PreCallCheck", () => {
  it("finds a relay candidate", async () => {
    const { state, check } = setup(TURN, ["host", "srflx", "relay"]);
    const run = check.start();
    expect(check.check.result).toBe("running");
    await vi.advanceTimersByTimeAsync(100);
    await run;
    expect(check.check).toEqual({
      result: "relay",
      servers: 2,
      turn: true,
      policy: "all",
      candidateTypes: ["host", "relay", "srflx"],
    });
    expect(state.closed).toBe(1);
  });

  it("says when gathering ends without a relay, or gives up after 6 s", async () => {
    const ended = setup(TURN, ["host"]);
    const run = ended.check.start();
    await vi.advanceTimersByTimeAsync(100);
    await run;
    expect(ended.check.check.result).toBe("no-relay");

    const silent = setup(TURN, ["host"], false);
    const run2 = silent.check.start();
    await vi.advanceTimersByTimeAsync(CHECK_TIMEOUT_MS - 1);
    expect(silent.check.check.result).toBe("running");
    await vi.advanceTimersByTimeAsync(1);
    await run2;
    expect(silent.check.check.result).toBe("no-relay");
  });

  it("without TURN there is nothing to relay through; without servers it is an error", async () => {
    const none = setup({ ...TURN, iceServers: [{ urls: "stun:s.example" }] }, ["host", "srflx"]);
    const run = none.check.start();
    await vi.advanceTimersByTimeAsync(100);
    await run;
    expect(none.check.check.result).toBe("none");

    const broken = setup(null, []);
    await broken.check.start();
    expect(broken.check.check.result).toBe("error");
  });

  it("stop() drops a running check (idle again), reset() forgets a finished one", async () => {
    const { state, check } = setup(TURN, ["host", "relay"]);
    const run = check.start();
    await vi.advanceTimersByTimeAsync(5);
    check.stop();
    expect(check.check.result).toBe("idle");
    await run;
    await vi.advanceTimersByTimeAsync(100);
    expect(check.check.result).toBe("idle");
    expect(state.closed).toBeGreaterThanOrEqual(1);

    const again = check.start();
    await vi.advanceTimersByTimeAsync(100);
    await again;
    expect(check.check.result).toBe("relay");
    check.reset();
    expect(check.check).toEqual({
      result: "idle",
      servers: 0,
      turn: false,
      policy: "all",
      candidateTypes: [],
    });
  });
});
