// What both ends of the mirror need to know about rrweb's events.

/** rrweb's Meta event: the first of every full snapshot (a new page). */
export const META = 4;
/** rrweb's FullSnapshot event: the page's whole DOM. */
export const FULL_SNAPSHOT = 2;

/** rrweb's incremental snapshots (type 3) of pointer moves (source 1), scrolling (3) and
 * touch moves (6): they come several times a second while the customer moves, each
 * with its own time, so they may travel late and still replay smoothly. */
export function isMotion(event: unknown): boolean {
  const e = event as { type?: unknown; data?: { source?: unknown } } | null;
  const source = e?.data?.source;
  return e?.type === 3 && (source === 1 || source === 3 || source === 6);
}
