// The consultation room (src/room/) as its own chunk, loaded once per page when first
// needed: a call starts, a document is presented, or the conversation is opened large.
// Text-only conversations never load it.
import { stageOf } from "../room/stage-state";
import type { EventMsg } from "./protocol.gen";

let loading: Promise<unknown> | null = null;

export function loadRoom(): Promise<unknown> {
  loading ??= import("../room/room").catch((err: unknown) => {
    loading = null; // offline: tried again next time
    throw err;
  });
  return loading;
}

/** Whether a document is on the stage now (presented, not cleared since). */
export function hasPresented(events: readonly EventMsg[]): boolean {
  return stageOf(events).presented !== null;
}
