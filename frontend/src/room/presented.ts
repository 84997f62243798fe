// LEAD: replace with `stageState(events).presented` from room/stage-state.ts
// (h-docs-ui) once merged; this reads the two events the room needs itself.
import type { EventMsg } from "../lib/protocol.gen";

export interface Presented {
  documentId: string;
  page: number;
  by: string;
}

/** The document on the stage now: the last `document.presented`, unless a
 * `stage.cleared` came after it. */
export function presentedFromEvents(events: readonly EventMsg[]): Presented | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i];
    if (!ev) continue;
    const kind = ev.kind as string; // the kinds come with h-docs-ui's protocol change
    if (kind === "stage.cleared") return null;
    if (kind === "document.presented") {
      const id = ev.body["document_id"];
      const page = ev.body["page"];
      if (typeof id !== "string") return null;
      return { documentId: id, page: typeof page === "number" ? page : 1, by: ev.author.role };
    }
  }
  return null;
}
