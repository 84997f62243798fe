import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerMessage } from "../protocol.gen";
import { hasTurn, IceCache, renewalDelayMs, toIceServers } from "./ice-cache";
import type { IceConfig } from "./types";

const TURN = { urls: ["turn:turn.example:3478"], username: "1:u", credential: "c" };

function servers(ttl: number, username = "1:u"): ServerMessage {
  return {
    type: "ice.servers",
    conversation_id: "c1",
    ice_servers: [{ ...TURN, username }],
    ice_transport_policy: "all",
    ttl_s: ttl,
  };
}

function error(code: string): ServerMessage {
  return { type: "error", code, message: code };
}

function setup(answers: ServerMessage[]) {
  const state = { asked: [] as number[], renewed: [] as (IceConfig | null)[], inUse: true };
  const cache = new IceCache({
    fetch: () => {
      state.asked.push(Date.now());
      return Promise.resolve(answers.shift() ?? error("gone"));
    },
    renewed: (config) => {
      state.renewed.push(config);
      return state.inUse;
    },
  });
  return { state, cache };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => vi.useRealTimers());

describe("toIceServers / hasTurn", () => {
  it("keeps only STUN/TURN urls and string credentials", () => {
    const out = toIceServers([
      { urls: "stun:s.example" },
      { urls: ["http://x", "turns:t.example"], username: "u", credential: 5 },
      { urls: [] },
      null,
      "turn:x",
    ]);
    expect(out).toEqual([
      { urls: ["stun:s.example"] },
      { urls: ["turns:t.example"], username: "u" },
    ]);
    expect(hasTurn(out)).toBe(true);
    expect(hasTurn([{ urls: "stun:s.example" }])).toBe(false);
  });
});

describe("IceCache", () => {
  it("serves the cache while half the lifetime is left, asks once at a time", async () => {
    const { state, cache } = setup([servers(600), servers(600)]);
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(a).toBe(b);
    expect(state.asked).toHaveLength(1);
    expect(a?.iceServers).toEqual([TURN]);
    vi.setSystemTime(299_000);
    expect(await cache.get()).toBe(a);
    vi.setSystemTime(300_000);
    const c = await cache.get();
    expect(c).not.toBe(a);
    expect(state.asked).toHaveLength(2);
  });

  it("retries a transient failure after a second and gives up on a refusal", async () => {
    const { state, cache } = setup([error("timeout"), error("disconnected"), servers(600)]);
    const got = cache.get();
    await vi.advanceTimersByTimeAsync(2000);
    expect((await got)?.ttlS).toBe(600);
    expect(state.asked).toEqual([0, 1000, 2000]);

    const refused = setup([error("forbidden"), servers(600)]);
    expect(await refused.cache.get()).toBeNull();
    expect(refused.state.asked).toHaveLength(1);
  });

  it("renews at 80 % of the lifetime while a call uses the servers", async () => {
    expect(renewalDelayMs(600)).toBe(480_000);
    expect(renewalDelayMs(10)).toBe(30_000);
    const { state, cache } = setup([servers(100, "1:a"), servers(100, "2:b"), servers(100, "3:c")]);
    await cache.get();
    cache.startRenewal();
    await vi.advanceTimersByTimeAsync(79_999);
    expect(state.renewed).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.renewed.map((c) => c?.iceServers[0]?.username)).toEqual(["2:b"]);
    await vi.advanceTimersByTimeAsync(80_000);
    expect(state.renewed.map((c) => c?.iceServers[0]?.username)).toEqual(["2:b", "3:c"]);
    expect(state.asked).toEqual([0, 80_000, 160_000]);
  });

  it("stops renewing once no call uses them, and on stopRenewal()", async () => {
    const { state, cache } = setup([servers(100), servers(100), servers(100), servers(100)]);
    await cache.get();
    state.inUse = false;
    cache.startRenewal();
    await vi.advanceTimersByTimeAsync(500_000);
    expect(state.renewed).toHaveLength(1);

    state.inUse = true;
    cache.startRenewal();
    cache.stopRenewal();
    await vi.advanceTimersByTimeAsync(500_000);
    expect(state.renewed).toHaveLength(1);
  });

  it("asks nothing any more once stopped", async () => {
    const { state, cache } = setup([servers(100)]);
    cache.stop();
    expect(await cache.get()).toBeNull();
    expect(state.asked).toHaveLength(0);
  });
});
