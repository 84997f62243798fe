// Knows when the TURN server answers again. While the call reconnects through TURN,
// a throw-away peer connection tries a relay allocation, again ~150 ms after each
// try; the first that gets one means the way is open: ICE restarts right then
// instead of waiting for the back-off (an earlier attempt may still be waiting for a
// retransmission). Direct paths need no probe: ICE keeps checking the pair itself.
import { browserGatherer, type Gatherer, type GathererFactory } from "./gatherer";
import { hasTurn } from "./ice-cache";
import type { Timer } from "./types";

/** One try gives up after this long without a relay candidate. */
export const PROBE_TIMEOUT_MS = 400;
/** Pause between tries. */
export const PROBE_GAP_MS = 150;
/** After a restart (ours or the other side's), a success restarts again only after
 * this long (the restart needs time to gather). */
export const PROBE_RESTART_GAP_MS = 2000;

export interface TurnProbeHooks {
  /** The servers to allocate on (the current ones; null when there are none). */
  servers(): RTCIceServer[] | null;
  /** Still worth probing: a peer connection exists and it is reconnecting. */
  reconnecting(): boolean;
  /** A relay allocation worked: restart ICE now. */
  reachable(): void;
}

export class TurnProbe {
  probing = false;
  private timer: Timer;
  private current: Gatherer | null = null;
  private restartAt = 0;

  constructor(
    private readonly hooks: TurnProbeHooks,
    private readonly open: GathererFactory = browserGatherer,
  ) {}

  /** Starts probing unless already probing or there is no TURN server to probe. */
  start(): void {
    const servers = this.hooks.servers();
    if (this.probing || !servers || !hasTurn(servers)) return;
    this.probing = true;
    this.next();
  }

  stop(): void {
    this.probing = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.current?.close();
    this.current = null;
  }

  /** ICE just restarted (we answered the other side's restart). */
  noteRestart(): void {
    this.restartAt = Date.now();
  }

  private next(): void {
    if (this.probing)
      this.timer = setTimeout(() => void this.probe().then(() => this.next()), PROBE_GAP_MS);
  }

  /** One relay allocation attempt. */
  private async probe(): Promise<void> {
    const servers = this.hooks.servers();
    if (!servers || !this.hooks.reconnecting()) {
      this.stop();
      return;
    }
    let g: Gatherer;
    try {
      g = this.open({ iceServers: servers, iceTransportPolicy: "relay" });
    } catch {
      return;
    }
    this.current = g;
    const relay = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      g.oncandidate = (type) => {
        if (type === "relay") {
          clearTimeout(timer);
          resolve(true);
        }
      };
      g.gather("probe").catch(() => resolve(false));
    });
    g.close();
    if (this.current === g) this.current = null;
    if (!this.probing || !this.hooks.reconnecting()) return;
    if (relay && Date.now() - this.restartAt > PROBE_RESTART_GAP_MS) {
      this.restartAt = Date.now();
      this.hooks.reachable();
    }
  }
}
