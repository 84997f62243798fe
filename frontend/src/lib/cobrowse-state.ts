// Co-browsing as a state of the conversation, derived from its log like the server does
// (docs/protocol.md, `cobrowse.request`): idle → requested → started (control none →
// requested → granted) → idle after `cobrowse.ended` or `cobrowse.declined`. Both apps
// use it: the customer's consent dialogs and bridge, the adviser's console.
import type { EventMsg } from "./protocol.gen";

export type CobrowsePhase = "idle" | "requested" | "started";
export type CobrowseControl = "none" | "requested" | "granted";

export interface CobrowseState {
  readonly phase: CobrowsePhase;
  readonly control: CobrowseControl;
  /** The seq of the event that set the phase (a new request is a new question). */
  readonly since: number;
  /** The seq of the latest request, for sharing or for control (a new question). */
  readonly asked: number;
}

export const COBROWSE_IDLE: CobrowseState = { phase: "idle", control: "none", since: 0, asked: 0 };

/** The state after one more event (events that are not co-browsing's leave it). */
export function nextCobrowse(s: CobrowseState, ev: Pick<EventMsg, "kind" | "seq">): CobrowseState {
  switch (ev.kind) {
    case "cobrowse.requested":
      return { phase: "requested", control: "none", since: ev.seq, asked: ev.seq };
    case "cobrowse.started":
      return s.phase === "requested"
        ? { ...s, phase: "started", control: "none", since: ev.seq }
        : s;
    case "cobrowse.declined":
    case "cobrowse.ended":
      return { ...s, phase: "idle", control: "none", since: ev.seq };
    case "cobrowse.control_requested":
      return s.phase === "started" ? { ...s, control: "requested", asked: ev.seq } : s;
    case "cobrowse.control_granted":
      return s.phase === "started" ? { ...s, control: "granted" } : s;
    case "cobrowse.control_declined":
    case "cobrowse.control_revoked":
      return s.phase === "started" ? { ...s, control: "none" } : s;
    case "conversation.ended":
      return s.phase === "idle" ? s : { ...s, phase: "idle", control: "none", since: ev.seq };
    default:
      return s;
  }
}

export function cobrowseState(events: readonly Pick<EventMsg, "kind" | "seq">[]): CobrowseState {
  return events.reduce(nextCobrowse, COBROWSE_IDLE);
}
