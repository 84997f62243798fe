import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Gatherer } from "./gatherer";
import { PROBE_GAP_MS, PROBE_RESTART_GAP_MS, PROBE_TIMEOUT_MS, TurnProbe } from "./turn-probe";

const TURN: RTCIceServer[] = [{ urls: "turn:turn.example:3478" }];

/** Each try opens a fake gatherer; `relay` says whether it gets a relay candidate. */
function setup(servers: RTCIceServer[] | null = TURN) {
  const state = {
    relay: false,
    reconnecting: true,
    reachable: [] as number[],
    opened: [] as { at: number; config: RTCConfiguration; closed: boolean }[],
  };
  const probe = new TurnProbe(
    {
      servers: () => servers,
      reconnecting: () => state.reconnecting,
      reachable: () => state.reachable.push(Date.now()),
    },
    (config) => {
      const entry = { at: Date.now(), config, closed: false };
      state.opened.push(entry);
      const g: Gatherer = {
        oncandidate: null,
        ondone: null,
        gather: () => {
          if (state.relay) setTimeout(() => g.oncandidate?.("relay"), 20);
          else setTimeout(() => g.oncandidate?.("host"), 5);
          return Promise.resolve();
        },
        close: () => {
          entry.closed = true;
        },
      };
      return g;
    },
  );
  return { state, probe };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(10_000);
});
afterEach(() => vi.useRealTimers());

describe("TurnProbe", () => {
  it("does not start without a TURN server", async () => {
    const { state, probe } = setup([{ urls: "stun:s.example" }]);
    probe.start();
    expect(probe.probing).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(state.opened).toHaveLength(0);
  });

  it("tries a relay-only allocation, again 150 ms after each failed try", async () => {
    const { state, probe } = setup();
    probe.start();
    probe.start(); // once is enough
    await vi.advanceTimersByTimeAsync(3 * (PROBE_GAP_MS + PROBE_TIMEOUT_MS));
    expect(state.opened.map((o) => o.at - 10_000)).toEqual([150, 700, 1250]);
    expect(state.opened[0]!.config).toEqual({ iceServers: TURN, iceTransportPolicy: "relay" });
    expect(state.opened.slice(0, 2).every((o) => o.closed)).toBe(true);
    expect(state.reachable).toHaveLength(0);
  });

  it("says the TURN server is reachable on a relay candidate, at most every 2 s", async () => {
    const { state, probe } = setup();
    state.relay = true;
    probe.start();
    await vi.advanceTimersByTimeAsync(PROBE_GAP_MS + 20);
    expect(state.reachable).toEqual([10_170]);
    // the next tries succeed too, but right after a restart they do not restart again
    await vi.advanceTimersByTimeAsync(PROBE_RESTART_GAP_MS);
    expect(state.reachable).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(state.reachable).toHaveLength(2);
  });

  it("after the other side's restart, waits 2 s before restarting", async () => {
    const { state, probe } = setup();
    state.relay = true;
    probe.noteRestart();
    probe.start();
    await vi.advanceTimersByTimeAsync(PROBE_RESTART_GAP_MS);
    expect(state.reachable).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(state.reachable).toHaveLength(1);
  });

  it("stop() closes the running try and ends the loop", async () => {
    const { state, probe } = setup();
    probe.start();
    await vi.advanceTimersByTimeAsync(PROBE_GAP_MS + 100);
    expect(state.opened).toHaveLength(1);
    probe.stop();
    expect(state.opened[0]!.closed).toBe(true);
    expect(probe.probing).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(state.opened).toHaveLength(1);
    expect(state.reachable).toHaveLength(0);
  });

  it("stops by itself once no longer reconnecting", async () => {
    const { state, probe } = setup();
    probe.start();
    state.reconnecting = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(probe.probing).toBe(false);
    expect(state.opened).toHaveLength(0);
  });
});
