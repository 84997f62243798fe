import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MIN_RESTART_GAP_MS, RestartPolicy, retryDelayMs } from "./restart-policy";

function setup() {
  const state = { active: true, signalling: true, needed: true, restarts: [] as number[] };
  const policy = new RestartPolicy({
    active: () => state.active,
    signalling: () => state.signalling,
    needed: () => state.needed,
    restartIce: () => state.restarts.push(Date.now()),
  });
  return { state, policy };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(100_000);
});
afterEach(() => vi.useRealTimers());

describe("retryDelayMs", () => {
  it("grows by a second per attempt from 3 s and stops at 8 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(retryDelayMs)).toEqual([
      3000, 4000, 5000, 6000, 7000, 8000, 8000, 8000,
    ]);
  });
});

describe("RestartPolicy", () => {
  it("restarts at once, then retries with back-off while still needed", async () => {
    const { state, policy } = setup();
    policy.now();
    await vi.advanceTimersByTimeAsync(40_000);
    const gaps = state.restarts.slice(1).map((t, i) => t - state.restarts[i]!);
    expect(state.restarts[0]).toBe(100_000);
    expect(gaps).toEqual([3000, 4000, 5000, 6000, 7000, 8000]);
    expect(policy.attempts).toBe(7);
  });

  it("stops retrying once not needed, and a reset starts the back-off over", async () => {
    const { state, policy } = setup();
    policy.now();
    await vi.advanceTimersByTimeAsync(3000);
    expect(state.restarts).toHaveLength(2);
    state.needed = false;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(state.restarts).toHaveLength(2);

    policy.reset();
    expect(policy.attempts).toBe(0);
    state.needed = true;
    policy.now();
    await vi.advanceTimersByTimeAsync(3000);
    expect(state.restarts).toHaveLength(4);
    expect(state.restarts[3]! - state.restarts[2]!).toBe(3000);
  });

  it("keeps the minimum gap after any restart, also the other side's", async () => {
    const { state, policy } = setup();
    policy.noteRestart();
    await vi.advanceTimersByTimeAsync(500);
    policy.now();
    expect(state.restarts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(MIN_RESTART_GAP_MS - 500 - 1);
    expect(state.restarts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.restarts).toEqual([100_000 + MIN_RESTART_GAP_MS]);
  });

  it("restarts at once when told the way is open (no gap)", () => {
    const { state, policy } = setup();
    policy.now();
    policy.allowNow();
    policy.now();
    expect(state.restarts).toEqual([100_000, 100_000]);
  });

  it("waits for the resubscribe while signalling is down", async () => {
    const { state, policy } = setup();
    state.signalling = false;
    policy.now();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(state.restarts).toHaveLength(0);
    expect(policy.attempts).toBe(0);
    expect(policy.resubscribed()).toBe(true);
    expect(policy.resubscribed()).toBe(false);
  });

  it("remembers a lost signal until the resubscribe", () => {
    const { policy } = setup();
    expect(policy.resubscribed()).toBe(false);
    policy.signallingLost();
    expect(policy.resubscribed()).toBe(true);
  });

  it("does nothing without an active call, and stop() cancels the retry", async () => {
    const { state, policy } = setup();
    state.active = false;
    policy.now();
    expect(state.restarts).toHaveLength(0);
    state.active = true;
    policy.now();
    policy.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(state.restarts).toHaveLength(1);
    expect(policy.attempts).toBe(0);
  });
});
