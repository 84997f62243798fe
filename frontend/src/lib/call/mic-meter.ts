// The microphone level the view shows (WebAudio AnalyserNode), read every 100 ms.
import type { Timer } from "./types";

const METER_MS = 100;

export type AudioContextFactory = () => AudioContext;

export class MicMeter {
  /** 0 … 1; 0 while the microphone is off or muted. */
  level = 0;
  private ctx: AudioContext | null = null;
  private timer: Timer;

  /** `onLevel` after each reading; `newContext` undefined: no WebAudio, no meter. */
  constructor(
    private readonly onLevel: () => void,
    private readonly newContext: AudioContextFactory | undefined,
  ) {}

  start(track: MediaStreamTrack): void {
    this.stop();
    if (!this.newContext) return;
    try {
      const ctx = this.newContext();
      const source = ctx.createMediaStreamSource(new MediaStream([track]));
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      source.connect(analyser);
      const buf = new Float32Array(analyser.fftSize);
      this.ctx = ctx;
      this.timer = setInterval(() => {
        if (ctx.state === "suspended") void ctx.resume();
        analyser.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const x of buf) sum += x * x;
        const rms = Math.sqrt(sum / buf.length);
        // roughly: speech at a normal distance fills a good part of the meter
        this.level = track.enabled ? Math.min(1, rms * 5) : 0;
        this.onLevel();
      }, METER_MS);
    } catch {
      this.stop();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.level = 0;
    const ctx = this.ctx;
    this.ctx = null;
    if (ctx) void ctx.close().catch(() => undefined);
  }
}
