// When to restart ICE. A restart is asked for when the path looks broken (ICE
// `disconnected`/`failed`, a media stall, the socket back, fresh TURN credentials);
// it runs at once unless the last one is too recent, and is repeated with back-off
// while the call is not connected again. Without signalling nobody would hear the
// restart's offer: it then waits until the conversation is resubscribed.
import type { Timer } from "./types";

/** An attempt needs this long to gather before the next one makes sense. */
export const MIN_RESTART_GAP_MS = 1500;
const BACKOFF_BASE_MS = 2000;
const BACKOFF_STEP_MS = 1000;
const BACKOFF_MAX_MS = 8000;

/** How long after the `attempts`-th restart the next one is due (if still needed):
 * each attempt gathers anew (the browser retries a TURN allocation meanwhile), so
 * give it more time as the outage goes on: 3 s, 4 s, … 8 s. */
export function retryDelayMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS + BACKOFF_STEP_MS * attempts);
}

export interface RestartHooks {
  /** A peer connection of an active call exists (else there is nothing to restart). */
  active(): boolean;
  /** The conversation is subscribed on a live socket (signals reach the other side). */
  signalling(): boolean;
  /** A due retry is still needed (not connected, or media stalled). */
  needed(): boolean;
  /** Restart ICE now (through the negotiation). */
  restartIce(): void;
}

export class RestartPolicy {
  /** Restarts since the path was last fine. */
  attempts = 0;
  private lastAt = 0;
  private timer: Timer;
  private waitingForSignalling = false;

  constructor(private readonly hooks: RestartHooks) {}

  /** Restart as soon as the minimum gap since the last one allows. */
  now(): void {
    const wait = this.lastAt + MIN_RESTART_GAP_MS - Date.now();
    this.clearTimer();
    if (wait > 0) this.schedule(wait);
    else this.restart();
  }

  /** A restart in `delayMs` if none is scheduled yet and it is still needed then. */
  schedule(delayMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.hooks.needed()) this.restart();
    }, delayMs);
  }

  /** The other side restarted ICE (we answered its offer): as good as one of ours. */
  noteRestart(): void {
    this.lastAt = Date.now();
  }

  /** The way is known to be open again: the next `now()` must not wait for the gap. */
  allowNow(): void {
    this.lastAt = 0;
  }

  /** Connected (again): no retry, the back-off starts over. */
  reset(): void {
    this.attempts = 0;
    this.clearTimer();
  }

  /** The peer connection is gone. */
  stop(): void {
    this.reset();
    this.lastAt = 0;
  }

  /** Signals may have been lost (socket down, or a signal could not be sent). */
  signallingLost(): void {
    this.waitingForSignalling = true;
  }

  /** The conversation is subscribed again: whether a restart waits for that. */
  resubscribed(): boolean {
    const waiting = this.waitingForSignalling;
    this.waitingForSignalling = false;
    return waiting;
  }

  private restart(): void {
    if (!this.hooks.active()) return;
    if (!this.hooks.signalling()) {
      // Nobody would hear the offer: done after resubscribing.
      this.waitingForSignalling = true;
      return;
    }
    this.hooks.restartIce();
    this.attempts += 1;
    this.lastAt = Date.now();
    this.schedule(retryDelayMs(this.attempts));
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
