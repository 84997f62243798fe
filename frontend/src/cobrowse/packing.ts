// The mirror stream (protocol/cobrowse.py): the customer's recorded rrweb events as one
// DEFLATE stream per page snapshot, one JSON events array per line, cut at a sync
// flush into chunks. The customer's browser sends each chunk as the protocol's one
// binary frame (frame.ts); advisers get them base64 in `cobrowse.batch` frames. Compressing with the stream's context shrinks
// rrweb's JSON five- to tenfold (each small batch alone would hardly shrink), and the
// server keeps no per-socket compression state. pako (zlib's own code): the browser's
// CompressionStream cannot flush without ending its stream, and fflate's sync flush
// wrote streams zlib could not read.
import { Deflate, Inflate, Z_SYNC_FLUSH } from "pako";
import type { CobrowseBatchOutMsg } from "../lib/protocol.gen";
import { META } from "./events";

/** The server's limits (MAX_CHUNK_BYTES: the deflated bytes of one frame;
 * MAX_LINE_BYTES: one batch inflated). */
export const MAX_CHUNK_BYTES = 45_000;
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

/** One chunk of a stream: `data` the stream's next deflated bytes. */
export type Chunk = Pick<CobrowseBatchOutMsg, "stream" | "n" | "sent_at"> & { data: Uint8Array };

const encoder = new TextEncoder();

/** A `cobrowse.batch` frame's base64 data as bytes (the adviser's side). */
export function fromBase64(data: string): Uint8Array {
  return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
}

/** A random stream id (the server wants 8–64 of [A-Za-z0-9_-]). */
export function streamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join("");
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The customer's side: recorded events → chunks, in order. */
export class MirrorPacker {
  private deflater: Deflate | null = null;
  private out: Uint8Array[] = [];
  private stream = "";
  private n = 0;

  constructor(private readonly newId: () => string = streamId) {}

  /** The next stream begins with the next batch (after a refused or lost chunk; the
   * recorder takes a full snapshot with it). */
  restart(): void {
    this.deflater = null;
  }

  /** The chunks for `events` recorded since the last flush; none when the batch is
   * larger than the server takes (a huge page's snapshot: the mirror waits for the next). */
  pack(events: readonly unknown[], sentAt: number): Chunk[] {
    const line = encoder.encode(`${JSON.stringify(events)}\n`);
    if (line.length > MAX_LINE_BYTES) {
      this.restart();
      return [];
    }
    const snapshot = events.some((e) => (e as { type?: unknown } | null)?.type === META);
    if (snapshot || !this.deflater) {
      this.deflater = new Deflate({ raw: true, level: 6 });
      this.deflater.onData = (chunk) => this.out.push(chunk);
      this.stream = this.newId();
      this.n = 0;
    }
    this.deflater.push(line, Z_SYNC_FLUSH);
    const data = joined(this.out);
    this.out = [];
    const chunks: Chunk[] = [];
    for (let i = 0; i < data.length; i += MAX_CHUNK_BYTES)
      chunks.push({
        stream: this.stream,
        n: this.n++,
        data: data.slice(i, i + MAX_CHUNK_BYTES),
        sent_at: sentAt,
      });
    return chunks;
  }
}

/** The adviser's side: chunks → the events arrays they complete. */
export class MirrorUnpacker {
  private inflater: Inflate | null = null;
  private decoder = new TextDecoder();
  private stream = "";
  private next = 0;
  private line = "";
  private broken = "";
  private done: string[] = [];

  /**
   * The batches this chunk completes (parsed JSON arrays), or `null` once per broken
   * stream — a chunk is missing (joined late, a frame lost) or does not inflate — so the
   * caller asks for a fresh snapshot; later chunks of that stream give `[]`.
   */
  take(chunk: Chunk): unknown[][] | null {
    if (chunk.n === 0) {
      this.inflater = new Inflate({ raw: true });
      this.inflater.onData = (data) => {
        this.line += this.decoder.decode(data, { stream: true });
        const lines = this.line.split("\n");
        this.line = lines.pop() ?? "";
        this.done.push(...lines);
      };
      this.decoder = new TextDecoder();
      this.stream = chunk.stream;
      this.line = "";
      this.broken = "";
    } else if (chunk.stream !== this.stream || chunk.n !== this.next || !this.inflater)
      return this.breaks(chunk.stream);
    this.next = chunk.n + 1;
    try {
      const inflater = this.inflater;
      inflater.push(chunk.data, Z_SYNC_FLUSH);
      if (inflater.err) throw new Error(inflater.msg);
      if (this.line.length > MAX_LINE_BYTES) throw new RangeError("batch too large");
      const batches = this.done.map((l) => JSON.parse(l) as unknown);
      this.done = [];
      if (!batches.every(Array.isArray)) throw new TypeError("a batch is not an array");
      return batches as unknown[][];
    } catch {
      return this.breaks(chunk.stream);
    }
  }

  private breaks(stream: string): null | [] {
    this.inflater = null;
    this.done = [];
    if (this.broken === stream) return [];
    this.broken = stream;
    return null;
  }
}
