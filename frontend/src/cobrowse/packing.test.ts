import { describe, expect, it } from "vitest";
import { mirrorFrame } from "./frame";
import { MAX_CHUNK_BYTES, MirrorPacker, MirrorUnpacker, fromBase64 } from "./packing";

const ids = () => {
  let i = 0;
  return () => `stream-${++i}`;
};
const meta = { type: 4, data: { href: "https://shop.example/" } };
const snapshot = { type: 2, data: { node: { tagName: "div", text: "Grüße 😀" } } };
const move = (n: number) => ({ type: 3, data: { source: 1, positions: [{ x: n, y: n }] } });

describe("MirrorPacker and MirrorUnpacker", () => {
  it("carry each batch as one line of one stream, in order", () => {
    const packer = new MirrorPacker(ids());
    const unpacker = new MirrorUnpacker();
    const first = packer.pack([meta, snapshot], 1);
    expect(first).toEqual([expect.objectContaining({ stream: "stream-1", n: 0, sent_at: 1 })]);
    const batches = [first, packer.pack([move(1)], 2), packer.pack([move(2), move(3)], 3)];
    expect(batches.flat().map((c) => c.n)).toEqual([0, 1, 2]);
    const got = batches.flat().map((c) => unpacker.take(c));
    expect(got).toEqual([[[meta, snapshot]], [[move(1)]], [[move(2), move(3)]]]);
  });

  it("compresses with the stream's context: repeated batches cost little", () => {
    const packer = new MirrorPacker(ids());
    packer.pack([meta, snapshot], 1);
    const sizes = Array.from(
      { length: 50 },
      (_, i) => packer.pack([move(i % 3)], i)[0]?.data.length ?? 0,
    );
    const raw = JSON.stringify([move(1)]).length;
    expect(Math.max(...sizes.slice(5))).toBeLessThan(raw / 3);
  });

  it("starts a new stream with every full snapshot and after restart()", () => {
    const packer = new MirrorPacker(ids());
    packer.pack([meta, snapshot], 1);
    expect(packer.pack([move(1)], 2)[0]).toMatchObject({ stream: "stream-1", n: 1 });
    expect(packer.pack([meta, snapshot], 3)[0]).toMatchObject({ stream: "stream-2", n: 0 });
    packer.restart();
    expect(packer.pack([move(2)], 4)[0]).toMatchObject({ stream: "stream-3", n: 0 });
  });

  it("cuts a chunk too large for a frame into several that join again", () => {
    // random text hardly compresses: more than one chunk's worth
    const noise = Array.from({ length: 100_000 }, () =>
      String.fromCharCode(33 + Math.floor(Math.random() * 90)),
    ).join("");
    const packer = new MirrorPacker(ids());
    const chunks = packer.pack([meta, { type: 2, data: noise }], 1);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.data.length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    const unpacker = new MirrorUnpacker();
    const got = chunks.map((c) => unpacker.take(c));
    expect(got.slice(0, -1).every((g) => g?.length === 0)).toBe(true);
    expect(got.at(-1)).toEqual([[meta, { type: 2, data: noise }]]);
  });

  it("asks once for a fresh snapshot after a gap, and recovers with the next stream", () => {
    const packer = new MirrorPacker(ids());
    const unpacker = new MirrorUnpacker();
    const [c0] = packer.pack([meta], 1);
    packer.pack([move(1)], 2); // lost on the way
    const [c2] = packer.pack([move(2)], 3);
    const [c3] = packer.pack([move(3)], 4);
    expect(unpacker.take(c0!)).toEqual([[meta]]);
    expect(unpacker.take(c2!)).toBeNull();
    expect(unpacker.take(c3!)).toEqual([]);
    const [d0] = packer.pack([meta, snapshot], 5);
    expect(unpacker.take(d0!)).toEqual([[meta, snapshot]]);
  });

  it("a receiver that joins mid-stream waits for the next one; garbage breaks the stream", () => {
    const packer = new MirrorPacker(ids());
    packer.pack([meta], 1);
    const late = new MirrorUnpacker();
    expect(late.take(packer.pack([move(1)], 2)[0]!)).toBeNull();
    const [c0] = packer.pack([meta], 3);
    expect(late.take(c0!)).toEqual([[meta]]);
    const garbage = { stream: c0!.stream, n: 1, data: fromBase64("////"), sent_at: 4 };
    expect(late.take(garbage)).toBeNull();
  });

  it("drops a batch larger than the server takes and restarts the stream", () => {
    const packer = new MirrorPacker(ids());
    packer.pack([meta], 1);
    expect(packer.pack([{ type: 2, data: "a".repeat(8 * 1024 * 1024) }], 2)).toEqual([]);
    expect(packer.pack([move(1)], 3)[0]).toMatchObject({ stream: "stream-2", n: 0 });
  });

  it("writes the binary frame the server reads (protocol/mirror_frame.py)", () => {
    const frame = mirrorFrame({
      stream: "page-0001",
      n: 7,
      sent_at: 1_750_000_000_000,
      data: new Uint8Array([1, 2, 3]),
    });
    expect(frame.length).toBe(15 + 9 + 3);
    const view = new DataView(frame.buffer);
    expect([view.getUint8(0), view.getUint8(1)]).toEqual([1, 1]);
    expect(view.getBigUint64(2)).toBe(1_750_000_000_000n);
    expect([view.getUint32(10), view.getUint8(14)]).toEqual([7, 9]);
    expect(new TextDecoder().decode(frame.subarray(15, 24))).toBe("page-0001");
    expect(Array.from(frame.subarray(24))).toEqual([1, 2, 3]);
  });
});
