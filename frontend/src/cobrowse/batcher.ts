// Recorded events → `cobrowse.batch` payloads that each fit one WebSocket frame
// (protocol/cobrowse.py: ≤ 64 KiB a frame). Events are packed in order while they fit;
// one event too large for a frame on its own (a page's full snapshot, usually) travels
// as the JSON text of `[event]` cut into numbered parts the console joins again.
import type { Batch } from "./bridge";

/** The server's limit for one batch frame (MAX_BATCH_FRAME_BYTES). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Room for the frame around the events: type, conversation_id, sent_at, part fields. */
const ENVELOPE_BYTES = 1024;
const BUDGET = MAX_FRAME_BYTES - ENVELOPE_BYTES;
/** The server's limits for parts (MAX_PART_CHARS, MAX_PARTS). */
export const MAX_PART_CHARS = 60_000;
export const MAX_PARTS = 128;

const encoder = new TextEncoder();
export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

/** A random id for the parts of one events array (the server wants 8–64 of [A-Za-z0-9_-]). */
export function partId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join("");
}

/** Cuts `text` into slices each of which, as a JSON string inside the frame, stays within
 * the budget (quotes and backslashes grow when escaped, non-ASCII is several bytes) and
 * within the server's character limit; never between the two halves of a surrogate pair. */
export function slices(text: string, budget = BUDGET, maxChars = MAX_PART_CHARS): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + maxChars, text.length);
    for (;;) {
      const high = text.charCodeAt(end - 1);
      if (end < text.length && end - start > 1 && high >= 0xd800 && high <= 0xdbff) end -= 1;
      const size = utf8Length(JSON.stringify(text.slice(start, end)));
      if (size <= budget) break;
      // Shrink in proportion to the overshoot (a little more, to converge fast).
      end = start + Math.max(1, Math.floor(((end - start) * budget) / size) - 8);
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

/**
 * The payloads for `events` recorded since the last flush, in order. An event too large
 * even for parts (a snapshot above MAX_PARTS frames) is left out and named in `dropped`:
 * the mirror then waits for the next full snapshot.
 */
export function toBatches(
  events: readonly unknown[],
  sentAt: number,
  newId: () => string = partId,
  budget = BUDGET,
): { batches: Batch[]; dropped: number } {
  const batches: Batch[] = [];
  let dropped = 0;
  let current: unknown[] = [];
  let size = 2; // "[]"
  const flush = () => {
    if (current.length) batches.push({ events: current, sent_at: sentAt });
    current = [];
    size = 2;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const bytes = utf8Length(json);
    if (bytes + 2 > budget) {
      flush();
      const parts = slices(`[${json}]`, budget);
      if (parts.length > MAX_PARTS) {
        dropped += 1;
        continue;
      }
      const id = newId();
      parts.forEach((data, index) =>
        batches.push({
          events: [],
          sent_at: sentAt,
          part: { part_id: id, index, count: parts.length, data },
        }),
      );
      continue;
    }
    if (size + bytes + 1 > budget) flush();
    current.push(event);
    size += bytes + 1;
  }
  flush();
  return { batches, dropped };
}
