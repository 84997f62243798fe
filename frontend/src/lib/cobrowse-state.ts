// Co-browsing as a state of the conversation, derived from its log like the server does
// (docs/protocol.md, `cobrowse.request`): idle → requested → started (control none →
// requested → granted) → idle after `cobrowse.ended` or `cobrowse.declined`. Both apps
// use it: the customer's consent dialogs and bridge, the adviser's console (with `last`
// for its status line).
import type { CobrowseEndedBody, EventMsg } from "./protocol.gen";

type CobrowseEndReason = CobrowseEndedBody["reason"];

export type CobrowsePhase = "idle" | "requested" | "started";
export type CobrowseControl = "none" | "requested" | "granted";

export interface CobrowseState {
  readonly phase: CobrowsePhase;
  readonly control: CobrowseControl;
  /** The seq of the event that set the phase (a new request is a new question). */
  readonly since: number;
  /** The seq of the latest request, for sharing or for control (a new question). */
  readonly asked: number;
  /** Why the last session ended (or was declined), for the adviser's status line. */
  readonly last: "none" | "declined" | CobrowseEndReason;
}

export const COBROWSE_IDLE: CobrowseState = {
  phase: "idle",
  control: "none",
  since: 0,
  asked: 0,
  last: "none",
};

type Step = Pick<EventMsg, "kind" | "seq"> & { body?: EventMsg["body"] };

/** The state after one more event (events that are not co-browsing's leave it). */
export function nextCobrowse(s: CobrowseState, ev: Step): CobrowseState {
  switch (ev.kind) {
    case "cobrowse.requested":
      return { phase: "requested", control: "none", since: ev.seq, asked: ev.seq, last: "none" };
    case "cobrowse.started":
      return s.phase === "requested"
        ? { ...s, phase: "started", control: "none", since: ev.seq }
        : s;
    case "cobrowse.declined":
      return { ...s, phase: "idle", control: "none", since: ev.seq, last: "declined" };
    case "cobrowse.ended": {
      const reason = (ev.body as { reason?: CobrowseEndReason } | undefined)?.reason;
      return { ...s, phase: "idle", control: "none", since: ev.seq, last: reason ?? "adviser" };
    }
    case "cobrowse.control_requested":
      return s.phase === "started" ? { ...s, control: "requested", asked: ev.seq } : s;
    case "cobrowse.control_granted":
      return s.phase === "started" ? { ...s, control: "granted" } : s;
    case "cobrowse.control_declined":
    case "cobrowse.control_revoked":
      return s.phase === "started" ? { ...s, control: "none" } : s;
    case "conversation.ended":
      return s.phase === "idle"
        ? s
        : { ...s, phase: "idle", control: "none", since: ev.seq, last: "conversation_ended" };
    default:
      return s;
  }
}

export function cobrowseState(events: readonly Step[]): CobrowseState {
  return events.reduce(nextCobrowse, COBROWSE_IDLE);
}
