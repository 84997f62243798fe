// Notices a broken media path from the media itself: ICE takes ~6 s to call a
// relayed pair `disconnected`, but when the other side says it sends and no packet
// arrived for 0.8 s (audio alone brings 50 a second), the path is gone. Reads
// `getStats()` every 250 ms, every 100 ms while stalled (each side resumes its paused
// video only once media is back, so this delay is part of the recovery time).
//
// While stalled our own video encoding is paused: a sender without feedback queues
// frames that then arrive late and in a burst (the receiver holds them for seconds),
// and collapses its bandwidth estimate (measured: 30 kbit/s, 3 frames/s for seconds
// after the path was back). Resuming starts with a key frame.
import type { Timer } from "./types";

/** No packets this long from a side that says it sends: stalled. */
export const STALL_MS = 800;
export const MONITOR_MS = 250;
export const MONITOR_STALLED_MS = 100;
/** More than a straggler: media flows (again). */
export const FLOWING_PACKETS = 3;

/** What the monitor reads: a peer connection's `getStats()`. */
export interface StatsSource {
  getStats(): Promise<{
    forEach(cb: (s: { type?: string; packetsReceived?: number }) => void): void;
  }>;
}

/** The sender our video goes out on (its encodings are paused and resumed). */
export interface VideoSender {
  getParameters(): RTCRtpSendParameters;
  setParameters(p: RTCRtpSendParameters): Promise<void>;
}

export interface StallHooks {
  /** The call was connected and the other side says it sends audio or video. */
  expecting(): boolean;
  /** The call is active here (a stall only counts then). */
  active(): boolean;
  videoSender(): VideoSender | null;
  /** Media stopped: show "reconnecting", restart ICE. */
  stalled(): void;
  /** Media flows again after a stall. */
  flowing(): void;
}

export class StallMonitor {
  stalled = false;
  /** Our video encoding is paused (from a stall until the path is back). */
  videoPaused = false;
  private source: StatsSource | null = null;
  private timer: Timer;
  private packets = -1;
  private changedAt = 0;
  private expectingSince = 0;

  constructor(private readonly hooks: StallHooks) {}

  start(source: StatsSource): void {
    this.stop();
    this.source = source;
    this.packets = -1;
    this.changedAt = Date.now();
    this.expectingSince = 0;
    this.tick(source);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.source = null;
    this.stalled = false;
    this.videoPaused = false;
  }

  /** Pauses (or resumes) our video encoding; remembered for a video line made later. */
  async setVideoSending(on: boolean): Promise<void> {
    this.videoPaused = !on;
    const sender = this.hooks.videoSender();
    if (!sender) return;
    try {
      const p = sender.getParameters();
      if (!p.encodings?.length || p.encodings.every((e) => e.active === on)) return;
      for (const e of p.encodings) e.active = on;
      await sender.setParameters(p);
    } catch (err) {
      console.warn("visavis call: pause video", err);
    }
  }

  private tick(source: StatsSource): void {
    this.timer = setTimeout(
      () => {
        void this.check(source).finally(() => {
          if (this.source === source && this.timer !== undefined) this.tick(source);
        });
      },
      this.stalled ? MONITOR_STALLED_MS : MONITOR_MS,
    );
  }

  private async check(source: StatsSource): Promise<void> {
    let packets = 0;
    try {
      const report = await source.getStats();
      report.forEach((s) => {
        if (s.type === "inbound-rtp") packets += s.packetsReceived ?? 0;
      });
    } catch {
      return;
    }
    if (source !== this.source) return;
    const now = Date.now();
    const expecting = this.hooks.expecting();
    if (!expecting) this.expectingSince = 0;
    else if (!this.expectingSince) this.expectingSince = now;
    if (packets < this.packets) {
      // Stats entries come and go with renegotiation: a new baseline, not media.
      this.packets = packets;
      return;
    }
    if (packets >= this.packets + FLOWING_PACKETS || this.packets < 0) {
      this.packets = packets;
      this.changedAt = now;
      if (this.stalled) {
        this.stalled = false;
        this.hooks.flowing();
      }
      return;
    }
    const quietFor = now - Math.max(this.changedAt, this.expectingSince);
    if (expecting && !this.stalled && quietFor >= STALL_MS && this.hooks.active()) {
      this.stalled = true;
      void this.setVideoSending(false);
      this.hooks.stalled();
    }
  }
}
