// The ICE servers a call may use: only what the server hands out (`ice.request` →
// `ice.servers`), never a default STUN server. Cached while at least half their
// lifetime is left; while a call runs, renewed at 80 % of the lifetime so the TURN
// credentials never expire under it.
import type { ServerMessage } from "../protocol.gen";
import type { IceConfig, Timer } from "./types";

/** Tries per fetch; a transient answer (offline, timeout, rate limit) waits this long. */
const FETCH_ATTEMPTS = 3;
const FETCH_RETRY_MS = 1000;
/** When the server names no lifetime. */
const DEFAULT_TTL_S = 600;
/** Never renew more often than this (a tiny TTL would otherwise mean a busy loop). */
const MIN_RENEWAL_S = 30;

/** Only well-formed STUN/TURN entries from the server's answer, nothing added. */
export function toIceServers(raw: readonly unknown[]): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  for (const item of raw) {
    if (!item || typeof item !== "object") continue;
    const o = item as Record<string, unknown>;
    const list =
      typeof o["urls"] === "string" ? [o["urls"]] : Array.isArray(o["urls"]) ? o["urls"] : [];
    const urls = list.filter(
      (u): u is string => typeof u === "string" && /^(stun|turns?):/.test(u),
    );
    if (urls.length === 0) continue;
    const server: RTCIceServer = { urls };
    if (typeof o["username"] === "string") server.username = o["username"];
    if (typeof o["credential"] === "string") server.credential = o["credential"];
    out.push(server);
  }
  return out;
}

/** Whether any of the servers is a TURN server (a relay is possible). */
export function hasTurn(servers: readonly RTCIceServer[]): boolean {
  return servers.some((s) =>
    (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/.test(u)),
  );
}

/** When to fetch new credentials: at 80 % of their lifetime. */
export function renewalDelayMs(ttlS: number): number {
  return Math.max(MIN_RENEWAL_S, ttlS * 0.8) * 1000;
}

export interface IceCacheHooks {
  /** Asks the server (`ice.request`); the answer is `ice.servers` or an error. */
  fetch(): Promise<ServerMessage>;
  /** Renewed servers (null: the server could not be asked): put them to use. Returns
   * false when no call uses them any more, which ends the renewal. */
  renewed(config: IceConfig | null): boolean;
}

export class IceCache {
  config: IceConfig | null = null;
  private pending: Promise<IceConfig | null> | null = null;
  private renewTimer: Timer;
  private stopped = false;

  constructor(private readonly hooks: IceCacheHooks) {}

  /** The cached servers while at least half their lifetime is left, else fresh ones
   * (one request at a time; null when the server could not be asked). */
  get(force = false): Promise<IceConfig | null> {
    const c = this.config;
    if (!force && c && Date.now() - c.fetchedAt < c.ttlS * 500) return Promise.resolve(c);
    if (this.pending) return this.pending;
    const pending = this.fetch();
    this.pending = pending;
    void pending.finally(() => {
      if (this.pending === pending) this.pending = null;
    });
    return pending;
  }

  private async fetch(): Promise<IceConfig | null> {
    for (let attempt = 0; attempt < FETCH_ATTEMPTS && !this.stopped; attempt += 1) {
      const a = await this.hooks.fetch();
      if (a.type === "ice.servers") {
        const cfg: IceConfig = {
          iceServers: toIceServers(a.ice_servers),
          policy: a.ice_transport_policy === "relay" ? "relay" : "all",
          ttlS: a.ttl_s > 0 ? a.ttl_s : DEFAULT_TTL_S,
          fetchedAt: Date.now(),
        };
        this.config = cfg;
        return cfg;
      }
      const transient =
        a.type === "error" &&
        (a.code === "disconnected" || a.code === "timeout" || a.code === "rate_limited");
      if (a.type === "error" && !transient) break;
      await new Promise((resolve) => setTimeout(resolve, FETCH_RETRY_MS));
    }
    return null;
  }

  /** (Re)arms the renewal for the cached servers' lifetime. */
  startRenewal(): void {
    clearTimeout(this.renewTimer);
    const ttl = this.config?.ttlS ?? DEFAULT_TTL_S;
    this.renewTimer = setTimeout(() => void this.renew(), renewalDelayMs(ttl));
  }

  stopRenewal(): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** For good (the call manager is gone): no more requests. */
  stop(): void {
    this.stopped = true;
    this.stopRenewal();
  }

  private async renew(): Promise<void> {
    const config = await this.get(true);
    if (this.stopped || !this.hooks.renewed(config)) return;
    this.startRenewal();
  }
}
