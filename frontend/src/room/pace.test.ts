import { describe, expect, it } from "vitest";
import {
  Coalescer,
  contentBox,
  scrollFraction,
  snapWidth,
  thinPoints,
  type PaceClock,
} from "./pace";

/** A clock the test moves by hand: frames and timers run when it says so. */
class ManualClock implements PaceClock {
  t = 0;
  frames: (() => void)[] = [];
  timers: { at: number; cb: () => void }[] = [];
  now(): number {
    return this.t;
  }
  frame(cb: () => void): void {
    this.frames.push(cb);
  }
  later(cb: () => void, ms: number): void {
    this.timers.push({ at: this.t + ms, cb });
  }
  runFrame(): void {
    const f = this.frames;
    this.frames = [];
    for (const cb of f) cb();
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.cb();
  }
}

describe("Coalescer", () => {
  it("sends only the latest value of a burst, on the next frame", () => {
    const clock = new ManualClock();
    const sent: number[] = [];
    const c = new Coalescer<number>(33, (v) => sent.push(v), clock);
    c.push(1);
    c.push(2);
    c.push(3);
    expect(sent).toEqual([]);
    clock.runFrame();
    expect(sent).toEqual([3]);
    expect(clock.frames).toHaveLength(0);
  });

  it("keeps to the interval (≤ 30/s for 33 ms)", () => {
    const clock = new ManualClock();
    const sent: number[] = [];
    const c = new Coalescer<number>(33, (v) => sent.push(v), clock);
    // A move every 4 ms for one second, a frame every 16 ms.
    for (let t = 0; t < 1000; t += 4) {
      c.push(t);
      if (t % 16 === 0) clock.runFrame();
      clock.advance(4);
    }
    clock.advance(100);
    clock.runFrame();
    expect(sent.length).toBeLessThanOrEqual(31);
    expect(sent.length).toBeGreaterThan(20);
    expect(sent[sent.length - 1]).toBe(996);
  });

  it("flushes at once and cancels what waits", () => {
    const clock = new ManualClock();
    const sent: string[] = [];
    const c = new Coalescer<string>(100, (v) => sent.push(v), clock);
    c.push("a");
    c.flush();
    expect(sent).toEqual(["a"]);
    c.push("b");
    c.cancel();
    clock.advance(200);
    clock.runFrame();
    expect(sent).toEqual(["a"]);
    c.push("c");
    clock.advance(200);
    clock.runFrame();
    expect(sent).toEqual(["a", "c"]);
  });
});

describe("page widths", () => {
  it("snaps to the rendered widths, sharp enough for the screen", () => {
    expect(snapWidth(300)).toBe(480);
    expect(snapWidth(480)).toBe(480);
    expect(snapWidth(481)).toBe(800);
    expect(snapWidth(400, 2)).toBe(800);
    expect(snapWidth(700, 1.5)).toBe(1200);
    expect(snapWidth(1000, 2)).toBe(1600);
    expect(snapWidth(0, 0)).toBe(480);
  });

  it("turns scroll positions into fractions", () => {
    expect(scrollFraction(50, 200, 100)).toBe(0.5);
    expect(scrollFraction(0, 100, 100)).toBe(0);
    expect(scrollFraction(500, 200, 100)).toBe(1);
  });

  it("thins long strokes to at most 500 points, keeping the ends", () => {
    const pts = Array.from({ length: 1234 }, (_, i) => [i / 1233, 0.5] as [number, number]);
    const out = thinPoints(pts);
    expect(out).toHaveLength(500);
    expect(out[0]).toEqual([0, 0.5]);
    expect(out[499]).toEqual([1, 0.5]);
    expect(thinPoints(pts.slice(0, 3))).toHaveLength(3);
  });
});

describe("contentBox", () => {
  it("letterboxes a contained picture and crops a covering one", () => {
    // 640x480 in a 400x400 tile: contained 400x300, 50 px bars above and below.
    expect(contentBox(400, 400, 640, 480)).toEqual({ x: 0, y: 50, w: 400, h: 300 });
    // Covering: 533.3x400, cut at the sides.
    const c = contentBox(400, 400, 640, 480, "cover");
    expect(c.h).toBe(400);
    expect(c.x).toBeCloseTo(-66.67, 1);
    expect(contentBox(400, 300, 0, 0)).toEqual({ x: 0, y: 0, w: 400, h: 300 });
  });
});
