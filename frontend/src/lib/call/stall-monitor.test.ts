import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  MONITOR_MS,
  MONITOR_STALLED_MS,
  STALL_MS,
  StallMonitor,
  type StatsSource,
  type VideoSender,
} from "./stall-monitor";

/** A peer connection's stats with an inbound packet counter the test moves. */
function fakeSource() {
  const s = { packets: 0, reads: [] as number[] };
  const source: StatsSource = {
    getStats: () => {
      s.reads.push(Date.now());
      return Promise.resolve({
        forEach: (cb) => {
          cb({ type: "inbound-rtp", packetsReceived: s.packets });
          cb({ type: "outbound-rtp", packetsReceived: 1000 });
        },
      });
    },
  };
  return { s, source };
}

function fakeSender() {
  const params = { encodings: [{ active: true }] } as RTCRtpSendParameters;
  const sender: VideoSender = {
    getParameters: () => structuredClone(params),
    setParameters: (p) => {
      params.encodings = p.encodings;
      return Promise.resolve();
    },
  };
  return { params, sender };
}

function setup() {
  const state = { expecting: true, active: true, stalls: 0, flowing: 0 };
  const { params, sender } = fakeSender();
  const monitor = new StallMonitor({
    expecting: () => state.expecting,
    active: () => state.active,
    videoSender: () => sender,
    stalled: () => (state.stalls += 1),
    flowing: () => (state.flowing += 1),
  });
  return { state, params, monitor };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => vi.useRealTimers());

describe("StallMonitor", () => {
  it("reads the stats every 250 ms while media flows", async () => {
    const { monitor } = setup();
    const { s, source } = fakeSource();
    monitor.start(source);
    for (let i = 0; i < 8; i += 1) {
      s.packets += 50;
      await vi.advanceTimersByTimeAsync(MONITOR_MS);
    }
    expect(s.reads).toEqual([250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
    expect(monitor.stalled).toBe(false);
  });

  it("calls it stalled after 0.8 s without packets, pauses video, then checks every 100 ms", async () => {
    const { state, params, monitor } = setup();
    const { s, source } = fakeSource();
    monitor.start(source);
    s.packets = 100;
    await vi.advanceTimersByTimeAsync(MONITOR_MS); // baseline at 250
    await vi.advanceTimersByTimeAsync(750); // quiet since 250: 0.75 s at 1000
    expect(state.stalls).toBe(0);
    await vi.advanceTimersByTimeAsync(250); // 1.0 s quiet at 1250
    expect(STALL_MS).toBe(800);
    expect(state.stalls).toBe(1);
    expect(monitor.stalled).toBe(true);
    expect(monitor.videoPaused).toBe(true);
    expect(params.encodings[0]!.active).toBe(false);

    const before = s.reads.length;
    await vi.advanceTimersByTimeAsync(MONITOR_STALLED_MS * 5);
    expect(s.reads.slice(before)).toEqual([1350, 1450, 1550, 1650, 1750]);
    expect(state.stalls).toBe(1);

    // a straggler is not media
    s.packets += 2;
    await vi.advanceTimersByTimeAsync(MONITOR_STALLED_MS);
    expect(monitor.stalled).toBe(true);
    s.packets += 3;
    await vi.advanceTimersByTimeAsync(MONITOR_STALLED_MS);
    expect(monitor.stalled).toBe(false);
    expect(state.flowing).toBe(1);
    // back to the slow cadence
    const after = s.reads.length;
    await vi.advanceTimersByTimeAsync(500);
    expect(s.reads.length - after).toBe(2);

    // the coordinator resumes the video once the path is back
    await monitor.setVideoSending(true);
    expect(params.encodings[0]!.active).toBe(true);
    expect(monitor.videoPaused).toBe(false);
  });

  it("does not call it stalled while the other side sends nothing, nor when not active", async () => {
    const { state, monitor } = setup();
    const { source } = fakeSource();
    state.expecting = false;
    monitor.start(source);
    await vi.advanceTimersByTimeAsync(5000);
    expect(state.stalls).toBe(0);
    state.active = false;
    state.expecting = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(state.stalls).toBe(0);
  });

  it("counts the quiet time from when the other side started to send", async () => {
    const { state, monitor } = setup();
    const { source } = fakeSource();
    state.expecting = false;
    monitor.start(source);
    await vi.advanceTimersByTimeAsync(3000);
    state.expecting = true; // first seen at the read at 3250
    await vi.advanceTimersByTimeAsync(1000); // 0.75 s quiet at 4000
    expect(state.stalls).toBe(0);
    await vi.advanceTimersByTimeAsync(250);
    expect(state.stalls).toBe(1);
  });

  it("takes fewer packets (renegotiated stats) as a new baseline, not as a stall", async () => {
    const { state, monitor } = setup();
    const { s, source } = fakeSource();
    s.packets = 1000;
    monitor.start(source);
    await vi.advanceTimersByTimeAsync(MONITOR_MS);
    s.packets = 10;
    await vi.advanceTimersByTimeAsync(MONITOR_MS);
    s.packets = 20;
    await vi.advanceTimersByTimeAsync(MONITOR_MS);
    expect(state.stalls).toBe(0);
  });

  it("stops reading after stop() and forgets the stall", async () => {
    const { monitor } = setup();
    const { s, source } = fakeSource();
    monitor.start(source);
    await vi.advanceTimersByTimeAsync(2000);
    expect(monitor.stalled).toBe(true);
    monitor.stop();
    expect(monitor.stalled).toBe(false);
    expect(monitor.videoPaused).toBe(false);
    const n = s.reads.length;
    await vi.advanceTimersByTimeAsync(2000);
    expect(s.reads.length).toBe(n);
  });
});
