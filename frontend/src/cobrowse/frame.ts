// The protocol's one binary frame (protocol/mirror_frame.py): a chunk of the
// co-browsing mirror stream (packing.ts) as the customer's chat iframe sends it — the
// deflated bytes as they are, without base64 (a third more) or a JSON envelope (150
// bytes, more than most chunks). Its own module: the chat bundle needs this, not pako.
import type { Chunk } from "./packing";

const encoder = new TextEncoder();

/** The binary frame of a chunk (protocol/mirror_frame.py): version 1, kind 1, sent_at
 * (u64 ms), n (u32), the stream id's length and ASCII, then the data; big-endian. */
export function mirrorFrame(c: Chunk): Uint8Array {
  const id = encoder.encode(c.stream);
  const out = new Uint8Array(15 + id.length + c.data.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, 1);
  view.setUint8(1, 1);
  view.setBigUint64(2, BigInt(Math.round(c.sent_at)));
  view.setUint32(10, c.n);
  view.setUint8(14, id.length);
  out.set(id, 15);
  out.set(c.data, 15 + id.length);
  return out;
}
