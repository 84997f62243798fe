// Co-browsing as the console sees it: the state folded from the conversation's events
// (lib/cobrowse-state.ts, shared with the customer's app; the server keeps the same
// state machine, conversations/cobrowsing.py) and the arithmetic of the mirror (scale,
// coordinates, throttling) — pure, so the eager glue can use it without loading the
// replayer, and vitest can test it.
// Texts: cobrowse-strings.ts.
export { cobrowseState, type CobrowseState } from "../lib/cobrowse-state";

/** A position on the mirror (CSS px from its top left, as shown) → the customer's
 * viewport CSS px: the replayer shows the customer's viewport scaled by `scale`. */
export function toCustomer(
  x: number,
  y: number,
  scale: number,
  viewport: { width: number; height: number },
): { x: number; y: number } | null {
  if (scale <= 0) return null;
  const cx = x / scale;
  const cy = y / scale;
  if (cx < 0 || cy < 0 || cx > viewport.width || cy > viewport.height) return null;
  return { x: Math.round(cx * 10) / 10, y: Math.round(cy * 10) / 10 };
}

/** The scale that fits a customer's viewport into the space we have (never above 1). */
export function fitScale(
  viewport: { width: number; height: number },
  box: { width: number; height: number },
): number {
  if (viewport.width <= 0 || viewport.height <= 0) return 1;
  return Math.min(1, box.width / viewport.width, box.height / viewport.height);
}

/** Lets a call through at most every `gapMs`; the last one of a burst still comes
 * (after the gap), so the pointer ends where the mouse stopped. */
export class Throttle<T> {
  private lastAt = -Infinity;
  private pending: T | null = null;
  private timer = 0;
  constructor(
    private readonly gapMs: number,
    private readonly send: (value: T) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(value: T): void {
    const wait = this.lastAt + this.gapMs - this.now();
    if (wait <= 0 && !this.timer) {
      this.lastAt = this.now();
      this.send(value);
      return;
    }
    this.pending = value;
    if (!this.timer) this.timer = setTimeout(() => this.flush(), Math.max(0, wait));
  }

  private flush(): void {
    this.timer = 0;
    const value = this.pending;
    this.pending = null;
    if (value !== null) {
      this.lastAt = this.now();
      this.send(value);
    }
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = 0;
    this.pending = null;
  }
}
