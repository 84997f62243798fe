// Pacing for what changes many times a second (pointer moves, zoom and scroll): only
// the latest value counts, sent at most every `intervalMs` and in step with the
// screen's frames, so a burst of mouse moves costs one frame, not dozens. The server
// coalesces and rate-limits too; this keeps us well under its limit.

export interface PaceClock {
  now(): number;
  /** Run on the next animation frame (requestAnimationFrame in the browser). */
  frame(cb: () => void): void;
  /** Run after `ms` milliseconds. */
  later(cb: () => void, ms: number): void;
}

export const browserClock: PaceClock = {
  now: () => performance.now(),
  frame: (cb) => void requestAnimationFrame(() => cb()),
  later: (cb, ms) => void window.setTimeout(cb, ms),
};

/** Keeps the latest value and sends it at most once per interval, on a frame. */
export class Coalescer<T> {
  private latest: { value: T } | null = null;
  private scheduled = false;
  private last = -Infinity;
  /** Bumped by cancel(): a callback scheduled before it does nothing. */
  private generation = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (value: T) => void,
    private readonly clock: PaceClock = browserClock,
  ) {}

  push(value: T): void {
    this.latest = { value };
    if (this.scheduled) return;
    this.scheduled = true;
    const gen = this.generation;
    const wait = this.last + this.intervalMs - this.clock.now();
    const onFrame = (): void => this.clock.frame(() => gen === this.generation && this.flush());
    if (wait > 0) this.clock.later(onFrame, wait);
    else onFrame();
  }

  /** Send what waits now (e.g. the pointer left the page: its last word must go out). */
  flush(): void {
    this.scheduled = false;
    const pending = this.latest;
    this.latest = null;
    if (!pending) return;
    this.last = this.clock.now();
    this.send(pending.value);
  }

  /** Forget what waits (the document changed). */
  cancel(): void {
    this.generation += 1;
    this.scheduled = false;
    this.latest = null;
  }
}

/** The widths the server renders pages at (documents/render.py snaps to these). */
export const PAGE_WIDTHS = [480, 800, 1200, 1600] as const;

/** The rendered width for a page shown `cssWidth` px wide on a screen with this pixel
 * ratio: the smallest that is at least as sharp, else the largest. */
export function snapWidth(cssWidth: number, pixelRatio = 1): number {
  const need = Math.max(1, cssWidth) * Math.max(1, pixelRatio || 1);
  for (const w of PAGE_WIDTHS) if (w >= need) return w;
  return 1600;
}

/** Where a scroll position lies between its ends, 0..1 (0 when it cannot scroll). */
export function scrollFraction(pos: number, scrollSize: number, clientSize: number): number {
  const room = scrollSize - clientSize;
  if (room <= 0) return 0;
  return clamp01(pos / room);
}

export function clamp01(v: number): number {
  if (!Number.isFinite(v)) return 0;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** At most `max` points of a stroke, evenly picked, first and last kept (the server
 * takes up to 500 per annotation). */
export function thinPoints(points: readonly (readonly [number, number])[], max = 500) {
  if (points.length <= max) return points.map(([x, y]) => [x, y] as [number, number]);
  const out: [number, number][] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i += 1) {
    const p = points[Math.round(i * step)];
    if (p) out.push([p[0], p[1]]);
  }
  return out;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Where a video's picture lies inside its element (object-fit contain or cover), so a
 * point means the same spot of the picture on both sides whatever the tile's shape. */
export function contentBox(
  boxW: number,
  boxH: number,
  videoW: number,
  videoH: number,
  fit: string = "contain",
): Box {
  if (videoW <= 0 || videoH <= 0 || boxW <= 0 || boxH <= 0 || fit === "fill")
    return { x: 0, y: 0, w: boxW, h: boxH };
  const scale =
    fit === "cover"
      ? Math.max(boxW / videoW, boxH / videoH)
      : Math.min(boxW / videoW, boxH / videoH);
  const w = videoW * scale;
  const h = videoH * scale;
  return { x: (boxW - w) / 2, y: (boxH - h) / 2, w, h };
}
