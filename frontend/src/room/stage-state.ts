// The stage of a conversation, as its events say it (a pure reducer, replayed from the
// log after a reload or by a late joiner): which documents it has (and whether the
// customer may download each: `document.shared`, then the adviser's `document.rights`), which one is
// presented at which page and by whom (the presenter = the author of the last
// `document.presented`), the annotations of every page, each video's play state, and
// whether the adviser's request for a photo waits for the customer.
//
// State is never changed in place, so components compare by identity; `stageOf`
// applies only the events after the ones it has seen.
import type {
  AnnotationAddedBody,
  Author,
  DocumentSharedBody,
  EventMsg,
  PageSize,
} from "../lib/protocol.gen";

export type DocKind = DocumentSharedBody["kind"];
export type DocSource = DocumentSharedBody["source"];
export type Tool = AnnotationAddedBody["tool"];
export type Color = AnnotationAddedBody["color"];

export const TOOLS: readonly Tool[] = ["pen", "arrow", "highlighter", "text"];
export const COLORS: readonly Color[] = ["red", "yellow", "blue", "green", "black"];

export interface DocumentInfo {
  readonly id: string;
  readonly name: string;
  readonly kind: DocKind;
  readonly pages: readonly PageSize[];
  readonly downloadable: boolean;
  readonly source: DocSource;
  readonly by: Author;
  readonly at: string;
  readonly seq: number;
}

export interface Presented {
  readonly documentId: string;
  /** 0-based page index. */
  readonly page: number;
  readonly by: Author;
  readonly seq: number;
}

export interface Annotation {
  readonly id: string;
  readonly documentId: string;
  readonly page: number;
  readonly tool: Tool;
  readonly color: Color;
  readonly points: readonly (readonly [number, number])[];
  readonly text: string | null;
  readonly by: Author;
  readonly seq: number;
}

export interface VideoState {
  readonly documentId: string;
  readonly playing: boolean;
  /** Seconds into the video when the event happened. */
  readonly position: number;
  /** When it happened (the event's time, ms since the epoch). */
  readonly at: number;
  readonly by: Author;
  readonly seq: number;
}

export interface SnapshotState {
  /** The adviser asked for a photo and the customer has neither sent nor declined one. */
  readonly pending: boolean;
  readonly requestedBy: Author | null;
  /** The seq of the last request (0: none). */
  readonly seq: number;
  /** The customer declined the last request. */
  readonly declined: boolean;
}

export interface StageState {
  readonly documents: ReadonlyMap<string, DocumentInfo>;
  /** Document ids in the order they were shared. */
  readonly order: readonly string[];
  readonly presented: Presented | null;
  /** By `pageKey(document, page)`, in the order drawn. */
  readonly annotations: ReadonlyMap<string, readonly Annotation[]>;
  /** By document id. */
  readonly video: ReadonlyMap<string, VideoState>;
  readonly snapshot: SnapshotState;
  /** The seq of the last event applied. */
  readonly lastSeq: number;
  /** How many events were applied (a shorter or different list starts afresh). */
  readonly applied: number;
  /** The last event applied (to notice a replaced list). */
  readonly lastEvent: EventMsg | null;
}

export const emptyStage: StageState = {
  documents: new Map(),
  order: [],
  presented: null,
  annotations: new Map(),
  video: new Map(),
  snapshot: { pending: false, requestedBy: null, seq: 0, declined: false },
  lastSeq: 0,
  applied: 0,
  lastEvent: null,
};

export function pageKey(documentId: string, page: number): string {
  return `${documentId}#${page}`;
}

/** The annotations of one page (none: an empty list). */
export function annotationsOf(
  state: StageState,
  documentId: string,
  page: number,
): readonly Annotation[] {
  return state.annotations.get(pageKey(documentId, page)) ?? [];
}

/** The stage after `events` (a conversation's applied events, in seq order), reusing
 * `prev` when the list only grew since. */
export function stageOf(events: readonly EventMsg[], prev: StageState = emptyStage): StageState {
  let state = prev;
  const n = prev.applied;
  if (n > events.length || (n > 0 && events[n - 1] !== prev.lastEvent)) state = emptyStage;
  for (const ev of events.slice(state.applied)) state = applyEvent(state, ev);
  return state;
}

/** One event more (kinds the stage does not care about change nothing but the count). */
export function applyEvent(state: StageState, ev: EventMsg): StageState {
  const next = reduceKind(state, ev) ?? state;
  return {
    ...next,
    lastSeq: Math.max(state.lastSeq, ev.seq),
    applied: state.applied + 1,
    lastEvent: ev,
  };
}

function reduceKind(state: StageState, ev: EventMsg): StageState | null {
  const b = ev.body;
  // Bodies are checked field by field: a malformed one changes nothing.
  switch (ev.kind) {
    case "document.shared": {
      const doc = parseDocument(b, ev);
      if (!doc) return null;
      const documents = new Map(state.documents).set(doc.id, doc);
      const order = state.documents.has(doc.id) ? state.order : [...state.order, doc.id];
      const snapshot =
        doc.source === "snapshot" && state.snapshot.pending
          ? { ...state.snapshot, pending: false, declined: false }
          : state.snapshot;
      return { ...state, documents, order, snapshot };
    }
    case "document.rights": {
      const id = str(b["document_id"]);
      const downloadable = b["downloadable"];
      const doc = id ? state.documents.get(id) : undefined;
      if (!doc || typeof downloadable !== "boolean" || doc.downloadable === downloadable)
        return null;
      const documents = new Map(state.documents).set(doc.id, { ...doc, downloadable });
      return { ...state, documents };
    }
    case "document.presented": {
      const id = str(b["document_id"]);
      const page = int(b["page"]);
      if (!id || page === null) return null;
      return { ...state, presented: { documentId: id, page, by: ev.author, seq: ev.seq } };
    }
    case "stage.cleared":
      return { ...state, presented: null };
    case "annotation.added": {
      const a = parseAnnotation(b, ev);
      if (!a) return null;
      const key = pageKey(a.documentId, a.page);
      const list = state.annotations.get(key) ?? [];
      if (list.some((x) => x.id === a.id)) return null;
      return { ...state, annotations: new Map(state.annotations).set(key, [...list, a]) };
    }
    case "annotation.cleared": {
      const id = str(b["document_id"]);
      const page = int(b["page"]);
      if (!id || page === null) return null;
      const key = pageKey(id, page);
      if (!state.annotations.has(key)) return null;
      const annotations = new Map(state.annotations);
      annotations.delete(key);
      return { ...state, annotations };
    }
    case "video.control": {
      const id = str(b["document_id"]);
      const action = b["action"];
      const position = num(b["position"]);
      if (!id || position === null) return null;
      if (action !== "play" && action !== "pause" && action !== "seek") return null;
      const before = state.video.get(id);
      // A seek keeps playing what played (and paused what was paused).
      const playing = action === "seek" ? (before?.playing ?? false) : action === "play";
      const v: VideoState = {
        documentId: id,
        playing,
        position,
        at: Date.parse(ev.at) || 0,
        by: ev.author,
        seq: ev.seq,
      };
      return { ...state, video: new Map(state.video).set(id, v) };
    }
    case "snapshot.requested":
      return {
        ...state,
        snapshot: { pending: true, requestedBy: ev.author, seq: ev.seq, declined: false },
      };
    case "snapshot.declined":
      return { ...state, snapshot: { ...state.snapshot, pending: false, declined: true } };
    default:
      return null;
  }
}

/** Where a video should be now (seconds): paused where it stopped, playing on from
 * where it was when the event happened. `eventAt` overrides the event's time (e.g.
 * when it arrived live: the local clock then, so a skewed clock does not matter). */
export function expectedPosition(
  v: VideoState,
  nowMs: number,
  eventAt: number = v.at,
  duration = Infinity,
): number {
  if (!v.playing) return Math.min(v.position, duration);
  const elapsed = Math.max(0, (nowMs - eventAt) / 1000);
  return Math.min(v.position + elapsed, duration);
}

/** Whether the shown position is far enough from the expected one to jump (0.5 s). */
export function drifted(current: number, expected: number, tolerance = 0.5): boolean {
  return Math.abs(current - expected) > tolerance;
}

/** The presenter is me (same role, and for advisers the same id). */
export function isMine(by: Author, role: "customer" | "adviser", selfId: string | null): boolean {
  if (by.role !== role) return false;
  return role === "customer" || !selfId || !by.id || by.id === selfId;
}

// ---------------------------------------------------------------- parsing
function str(v: unknown): string | null {
  return typeof v === "string" && v ? v : null;
}

function int(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function parseDocument(b: Record<string, unknown>, ev: EventMsg): DocumentInfo | null {
  const id = str(b["document_id"]);
  const kind = b["kind"];
  if (!id || (kind !== "pdf" && kind !== "image" && kind !== "video")) return null;
  const source = b["source"];
  const pages: PageSize[] = [];
  if (Array.isArray(b["pages"])) {
    for (const p of b["pages"] as unknown[]) {
      const r = p as Record<string, unknown> | null;
      const w = num(r?.["w"]);
      const h = num(r?.["h"]);
      pages.push(w && h && w > 0 && h > 0 ? { w, h } : { w: 1, h: 1.4142 });
    }
  }
  return {
    id,
    name: str(b["name"]) ?? id,
    kind,
    pages,
    downloadable: b["downloadable"] === true,
    source: source === "library" || source === "snapshot" ? source : "upload",
    by: ev.author,
    at: ev.at,
    seq: ev.seq,
  };
}

function parseAnnotation(b: Record<string, unknown>, ev: EventMsg): Annotation | null {
  const documentId = str(b["document_id"]);
  const page = int(b["page"]);
  const id = str(b["annotation_id"]);
  const tool = b["tool"];
  const color = b["color"];
  if (!documentId || page === null || !id) return null;
  if (!TOOLS.includes(tool as Tool) || !COLORS.includes(color as Color)) return null;
  const points: [number, number][] = [];
  if (Array.isArray(b["points"])) {
    for (const p of b["points"] as unknown[]) {
      if (!Array.isArray(p)) continue;
      const x = num(p[0]);
      const y = num(p[1]);
      if (x !== null && y !== null) points.push([x, y]);
    }
  }
  if (points.length === 0) return null;
  const text = typeof b["text"] === "string" ? b["text"] : null;
  return {
    id,
    documentId,
    page,
    tool: tool as Tool,
    color: color as Color,
    points,
    text,
    by: ev.author,
    seq: ev.seq,
  };
}
