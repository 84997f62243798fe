import { describe, expect, it } from "vitest";
import {
  CLOSE_MOVED,
  CLOSE_SERVICE_RESTART,
  MOVE_AT_ONCE_EVERY_MS,
  movesAtOnce,
  RECONNECT_CAP_OFFLINE_MS,
  RECONNECT_CAP_ONLINE_MS,
  RECONNECT_MIN_MS,
  RESEND_CODES,
  RESTART_SPREAD_MS,
  reconnectDelay,
  resendDelay,
} from "./retry-policy";

describe("reconnectDelay", () => {
  it("grows from the minimum and is capped low while online", () => {
    expect(reconnectDelay(0, true, 0)).toBe(RECONNECT_MIN_MS / 2);
    expect(reconnectDelay(0, true, 1)).toBe(RECONNECT_MIN_MS);
    expect(reconnectDelay(2, true, 1)).toBe(RECONNECT_MIN_MS * 4);
    for (const attempts of [5, 10, 50, 1000]) {
      const d = reconnectDelay(attempts, true, 1);
      expect(d).toBe(RECONNECT_CAP_ONLINE_MS);
    }
  });

  it("every client is back within the cap of the server answering, however long it was down", () => {
    // a client that failed many times waits at most the cap before its next try
    for (let r = 0; r <= 1; r += 0.1) {
      expect(reconnectDelay(40, true, r)).toBeLessThanOrEqual(RECONNECT_CAP_ONLINE_MS);
    }
    expect(RECONNECT_CAP_ONLINE_MS).toBeLessThanOrEqual(2_000);
  });

  it("spreads clients over half the delay (no thundering herd)", () => {
    const low = reconnectDelay(10, true, 0);
    const high = reconnectDelay(10, true, 1);
    expect(low).toBe(RECONNECT_CAP_ONLINE_MS / 2);
    expect(high - low).toBe(RECONNECT_CAP_ONLINE_MS / 2);
    expect(reconnectDelay(10, true, 0.5)).toBeGreaterThan(low);
  });

  it("waits longer while the browser is offline", () => {
    expect(reconnectDelay(30, false, 1)).toBe(RECONNECT_CAP_OFFLINE_MS);
    expect(reconnectDelay(1, false, 1)).toBe(RECONNECT_MIN_MS * 2);
  });

  it("spreads the first try after a service restart (1012) evenly over a short window", () => {
    const first = (r: number) =>
      reconnectDelay(0, true, r, undefined, undefined, CLOSE_SERVICE_RESTART);
    expect(first(0)).toBe(0);
    expect(first(0.5)).toBe(RESTART_SPREAD_MS / 2);
    expect(first(1)).toBe(RESTART_SPREAD_MS);
    expect(RESTART_SPREAD_MS).toBeLessThanOrEqual(RECONNECT_CAP_ONLINE_MS);
    // evenly: a tenth of the clients in each tenth of the window, none past it
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 1000; i++) {
      buckets[Math.min(9, Math.floor(first((i + 0.5) / 1000) / (RESTART_SPREAD_MS / 10)))]++;
    }
    expect(buckets).toEqual(new Array(10).fill(100));
  });

  it("backs off as usual after the first try, after other closes, and offline", () => {
    expect(reconnectDelay(1, true, 1, undefined, undefined, CLOSE_SERVICE_RESTART)).toBe(
      reconnectDelay(1, true, 1),
    );
    expect(reconnectDelay(0, true, 0, undefined, undefined, 1006)).toBe(RECONNECT_MIN_MS / 2);
    expect(reconnectDelay(0, true, 0, undefined, undefined, 4408)).toBe(RECONNECT_MIN_MS / 2);
    expect(reconnectDelay(0, false, 0, undefined, undefined, CLOSE_SERVICE_RESTART)).toBe(
      RECONNECT_MIN_MS / 2,
    );
    // explicit tuning below the window caps it too
    expect(reconnectDelay(0, true, 1, 10, 50, CLOSE_SERVICE_RESTART)).toBe(50);
  });

  it("honours explicit tuning and clamps a wild random", () => {
    expect(reconnectDelay(3, true, 1, 10, 50)).toBe(50);
    expect(reconnectDelay(0, true, 7, 100, 1000)).toBe(100);
    expect(reconnectDelay(0, true, -3, 100, 1000)).toBe(50);
  });
});

describe("resendDelay", () => {
  it("follows the server's hint, stretched by up to twice", () => {
    expect(resendDelay(400, 0)).toBe(400);
    expect(resendDelay(400, 1)).toBe(800);
    expect(resendDelay(400, 0.5)).toBe(600);
  });

  it("falls back to a second without a usable hint and caps a huge one", () => {
    expect(resendDelay(undefined, 0)).toBe(1000);
    expect(resendDelay("soon", 0)).toBe(1000);
    expect(resendDelay(-5, 0)).toBe(1000);
    expect(resendDelay(Number.NaN, 0)).toBe(1000);
    expect(resendDelay(10_000_000, 0)).toBe(60_000);
  });

  it("resends after overload and rate limits only", () => {
    expect(RESEND_CODES.has("overloaded")).toBe(true);
    expect(RESEND_CODES.has("rate_limited")).toBe(true);
    expect(RESEND_CODES.has("invalid_state")).toBe(false);
    expect(RESEND_CODES.has("forbidden")).toBe(false);
  });
});

describe("a move to another server process (close 4010)", () => {
  it("connects again at once, but not more often than every ten seconds", () => {
    expect(movesAtOnce(CLOSE_MOVED, -Infinity, 0)).toBe(true);
    expect(movesAtOnce(CLOSE_MOVED, 1_000, 1_000 + MOVE_AT_ONCE_EVERY_MS)).toBe(true);
    expect(movesAtOnce(CLOSE_MOVED, 1_000, 1_000 + MOVE_AT_ONCE_EVERY_MS - 1)).toBe(false);
  });

  it("is only for that close code", () => {
    for (const code of [1000, 1006, 1012, 4401, 4408]) {
      expect(movesAtOnce(code, -Infinity, 0)).toBe(false);
    }
  });
});
