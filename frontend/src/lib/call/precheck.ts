// The pre-call check: which candidates can this browser gather with the servers it
// was given? A relay candidate means a call works even behind a strict firewall.
import { browserGatherer, type Gatherer, type GathererFactory } from "./gatherer";
import { hasTurn } from "./ice-cache";
import type { CheckResult, ConnectionCheck, IceConfig, Timer } from "./types";

/** Gathering that found no relay gives up after this long. */
export const CHECK_TIMEOUT_MS = 6000;

export function idleCheck(): ConnectionCheck {
  return { result: "idle", servers: 0, turn: false, policy: "all", candidateTypes: [] };
}

export interface PreCallCheckHooks {
  /** Fresh ICE servers from the server (null: it could not be asked). */
  ice(): Promise<IceConfig | null>;
  changed(): void;
}

export class PreCallCheck {
  check: ConnectionCheck = idleCheck();
  private run = 0;
  private gatherer: Gatherer | null = null;
  /** Ends the running check's wait (it was dropped). */
  private finish: (() => void) | null = null;

  constructor(
    private readonly hooks: PreCallCheckHooks,
    private readonly open: GathererFactory = browserGatherer,
  ) {}

  /** Runs the check (again); a check still running is dropped. */
  async start(): Promise<void> {
    const run = ++this.run;
    this.close();
    this.set({ ...idleCheck(), result: "running" });
    const ice = await this.hooks.ice();
    if (run !== this.run) return;
    if (!ice) {
      this.set({ ...this.check, result: "error" });
      return;
    }
    const turn = hasTurn(ice.iceServers);
    this.check = { ...this.check, servers: ice.iceServers.length, turn, policy: ice.policy };
    const types = new Set<string>();
    let timer: Timer;
    let g: Gatherer;
    try {
      g = this.open({ iceServers: ice.iceServers, iceTransportPolicy: ice.policy });
    } catch {
      this.set({ ...this.check, result: "error" });
      return;
    }
    this.gatherer = g;
    const finished = new Promise<void>((resolve) => {
      this.finish = resolve;
      timer = setTimeout(resolve, CHECK_TIMEOUT_MS);
      g.oncandidate = (type) => {
        types.add(type);
        if (type === "relay") resolve();
      };
      g.ondone = resolve;
    });
    try {
      await g.gather("check");
      await finished;
    } catch {
      /* reported below by what was found */
    }
    clearTimeout(timer);
    g.close();
    if (this.gatherer === g) this.gatherer = null;
    if (run !== this.run) return;
    const result: CheckResult = !turn ? "none" : types.has("relay") ? "relay" : "no-relay";
    this.set({ ...this.check, result, candidateTypes: [...types].sort() });
  }

  /** Drops a running check (it reads "idle" again). */
  stop(): void {
    this.run += 1;
    this.close();
    if (this.check.result === "running") this.check = { ...this.check, result: "idle" };
  }

  /** Back to "not checked" (the call is over). */
  reset(): void {
    this.stop();
    this.check = idleCheck();
  }

  private close(): void {
    this.finish?.();
    this.finish = null;
    this.gatherer?.close();
    this.gatherer = null;
  }

  private set(check: ConnectionCheck): void {
    this.check = check;
    this.hooks.changed();
  }
}
