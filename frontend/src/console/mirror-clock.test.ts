import { describe, expect, it } from "vitest";
import { MAX_MOTION_LAG_MS, MirrorClock, type RrEvent } from "./mirror-clock";

const meta = (t: number): RrEvent => ({ type: 4, timestamp: t });
const full = (t: number): RrEvent => ({ type: 2, timestamp: t });
const change = (t: number): RrEvent => ({ type: 3, timestamp: t, data: { source: 0 } });
const move = (t: number, offsets: number[]): RrEvent => ({
  type: 3,
  timestamp: t,
  data: { source: 1, positions: offsets.map((timeOffset) => ({ timeOffset })) },
});
const scroll = (t: number): RrEvent => ({ type: 3, timestamp: t, data: { source: 3 } });

describe("MirrorClock", () => {
  it("builds the snapshot at once and plays later changes on arrival", () => {
    const clock = new MirrorClock();
    const base = clock.start(10_000);
    const snapshot = [meta(5), full(6), change(7)];
    clock.place(snapshot, 10_000);
    expect(snapshot.map((e) => e.timestamp)).toEqual([base - 1, base - 1, 10_000]);
    // the customer's clock is far off and the batch came late: still now, in order
    const batch = [change(999), change(1_000), change(1_001)];
    clock.place(batch, 10_400);
    const times = batch.map((e) => e.timestamp);
    expect(times[0]).toBe(10_400);
    expect(times[1]).toBeGreaterThan(times[0]!);
    expect(times[2]).toBeGreaterThan(times[1]!);
    expect(times[2]! - 10_400).toBeLessThan(1);
  });

  it("spreads motion over the time it took, from its first position", () => {
    const clock = new MirrorClock();
    clock.start(0);
    const batch = [move(1_100, [-100, -50, 0]), scroll(1_150), move(1_250, [-50, 0])];
    clock.place(batch, 5_000);
    // first position at 1_000 plays now; the rest keep their gaps
    expect(batch.map((e) => e.timestamp)).toEqual([5_100, 5_150, 5_250]);
    // the next motion batch queues behind it when it arrives early
    const next = [move(1_500, [-200, 0])];
    clock.place(next, 5_200);
    expect(next[0]!.timestamp).toBe(5_250 + 200);
  });

  it("drops motion back to now when it fell too far behind", () => {
    const clock = new MirrorClock();
    clock.start(0);
    clock.place([scroll(0), scroll(2 * MAX_MOTION_LAG_MS)], 1_000);
    const late = [scroll(5_000)];
    clock.place(late, 1_001);
    expect(late[0]!.timestamp).toBe(1_001);
  });

  it("never plays a change before one placed earlier", () => {
    const clock = new MirrorClock();
    clock.start(100);
    const a = [change(1)];
    const b = [change(2)];
    clock.place(a, 200);
    clock.place(b, 150); // Date.now() stepped back
    expect(b[0]!.timestamp).toBeGreaterThan(a[0]!.timestamp);
  });
});
