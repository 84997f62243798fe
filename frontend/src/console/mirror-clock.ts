// When the adviser's replayer plays the customer's events. rrweb's live mode plays an
// event `timestamp - baseline` after it started; the customer's clock and the way's
// delays would set that lag once, at the first snapshot, for good (a slow first
// batch made every later change late by as much). Instead each event gets a time on
// the console's own clock as its batch arrives:
// - the page's snapshot (Meta, FullSnapshot): just before the baseline, so rrweb
//   builds it at once;
// - page changes, inputs and clicks: now, in their order (strictly increasing: rrweb's
//   timer does not keep the order of equal times), so they show on the next frame;
// - pointer moves and scrolling (sent in batches of up to 250 ms): spread from now
//   over the time they took, after the previous batch's (unless that is far behind),
//   so the pointer glides instead of jumping.
import { FULL_SNAPSHOT, META, isMotion } from "../cobrowse/events";

export interface RrEvent {
  type: number;
  timestamp: number;
  data?: { positions?: { timeOffset?: number }[] } & Record<string, unknown>;
}

/** Motion further behind than this is dropped back to now (after a stall). */
export const MAX_MOTION_LAG_MS = 500;
const STEP = 0.001;

export class MirrorClock {
  private baseline = 0;
  private last = 0;
  private motionEnd = 0;

  /** A new replayer starts live now (its baseline). */
  start(now: number): number {
    this.baseline = now;
    this.last = now - STEP;
    this.motionEnd = now;
    return now;
  }

  /** Re-time one arrived batch's events in place (`now`: Date.now() at arrival). */
  place(events: readonly RrEvent[], now: number): void {
    const motion = events.filter(isMotion);
    if (motion.length) {
      const first = (e: RrEvent) => e.timestamp + (e.data?.positions?.[0]?.timeOffset ?? 0);
      const start = Math.min(...motion.map(first));
      const ahead = this.motionEnd - now;
      const begin = ahead > 0 && ahead <= MAX_MOTION_LAG_MS ? this.motionEnd : now;
      for (const e of motion) {
        e.timestamp = begin + (e.timestamp - start);
        this.motionEnd = Math.max(this.motionEnd, e.timestamp);
      }
    }
    for (const e of events) {
      if (isMotion(e)) continue;
      if (e.type === META || e.type === FULL_SNAPSHOT) e.timestamp = this.baseline - 1;
      else e.timestamp = this.last = Math.max(now, this.last + STEP);
    }
  }
}
