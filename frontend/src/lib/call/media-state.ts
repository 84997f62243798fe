// Who sends what (`call.media`): the other side's word from the events, our own
// sent whenever it changes. The events are the durable word of each side, also for
// a tab that takes the call over.
import type { EventMsg } from "../protocol.gen";
import type { MediaFlags, Role, Timer } from "./types";

/** Our own flags wait for the connection at most this long. */
export const HOLD_MS = 3000;

export interface MediaStateHooks {
  /** Send `call.media` with our flags. */
  send(callId: string, flags: MediaFlags): void;
  /** The hold ran out: send what is due now. */
  due(): void;
}

export class MediaState {
  private readonly byCall = new Map<string, Partial<Record<Role, MediaFlags>>>();
  /** What this tab sent per call since its session began. The events of our own role
   * come a round trip later: compared with them, a quick toggle back looked like no
   * change and was not sent, and the other side kept a state that was no longer true. */
  private readonly sent = new Map<string, MediaFlags>();
  private holdTimer: Timer;

  constructor(
    private readonly role: Role,
    private readonly hooks: MediaStateHooks,
  ) {}

  /** A durable event; returns the call it told about (null: not `call.media`). */
  record(ev: EventMsg): string | null {
    if (ev.kind !== "call.media") return null;
    const callId = ev.body["call_id"];
    const role = ev.body["role"];
    if (typeof callId !== "string" || (role !== "customer" && role !== "adviser")) return null;
    const flags: MediaFlags = {
      audio: ev.body["audio"] === true,
      video: ev.body["video"] === true,
    };
    if (ev.body["screen"] === true) flags.screen = true;
    this.set(callId, role, flags);
    return callId;
  }

  flagsOf(callId: string, role: Role): MediaFlags {
    return this.byCall.get(callId)?.[role] ?? { audio: false, video: false };
  }

  /** The peer connection is being set up: hold our flags back until `release()` (or
   * a few seconds). The event is a database write, and the server handles a socket's
   * frames in order, so it would hold up our offer (measured: ~20 ms of the set-up). */
  hold(): void {
    // A session begins (a new call, a take-over, a rejoin): the log is the word again.
    this.sent.clear();
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.hooks.due();
    }, HOLD_MS);
  }

  /** No more holding back (connected, or the call is over). */
  release(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  /** Our flags now: sent unless held back or already known. */
  update(callId: string, flags: MediaFlags): void {
    if (this.holdTimer !== undefined) return;
    const known = this.sent.get(callId) ?? this.flagsOf(callId, this.role);
    if (
      known.audio === flags.audio &&
      known.video === flags.video &&
      !!known.screen === !!flags.screen
    )
      return;
    this.sent.set(callId, flags);
    this.hooks.send(callId, flags);
  }

  private set(callId: string, role: Role, flags: MediaFlags): void {
    const entry = this.byCall.get(callId) ?? {};
    entry[role] = flags;
    this.byCall.set(callId, entry);
  }
}
