// The consultation room (src/room/) as its own chunk, loaded once per page when first
// needed: a call starts, a document is presented, or the conversation is opened large.
// Text-only conversations never load it.
import type { EventMsg } from "./protocol.gen";

let loading: Promise<unknown> | null = null;

export function loadRoom(): Promise<unknown> {
  loading ??= import("../room/room").catch((err: unknown) => {
    loading = null; // offline: tried again next time
    throw err;
  });
  return loading;
}

/** Whether a conversation needs the room now (a document was presented in it). */
export function hasPresented(events: readonly EventMsg[]): boolean {
  return events.some((e) => (e.kind as string) === "document.presented");
}
