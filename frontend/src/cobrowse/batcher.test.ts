import { describe, expect, it } from "vitest";
import { MAX_PARTS, slices, toBatches, utf8Length } from "./batcher";

const frameBytes = (b: object) =>
  utf8Length(JSON.stringify({ type: "cobrowse.batch", conversation_id: "c".repeat(32), ...b }));

describe("toBatches", () => {
  it("packs small events into one batch, in order, with the send time", () => {
    const events = [
      { type: 3, n: 1 },
      { type: 3, n: 2 },
      { type: 3, n: 3 },
    ];
    const { batches, dropped } = toBatches(events, 1234);
    expect(dropped).toBe(0);
    expect(batches).toEqual([{ events, sent_at: 1234 }]);
  });

  it("starts a new batch before one would exceed the frame limit", () => {
    const events = Array.from({ length: 40 }, (_, i) => ({ i, data: "x".repeat(5000) }));
    const { batches } = toBatches(events, 1);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.flatMap((b) => b.events)).toEqual(events);
    for (const b of batches) expect(frameBytes(b)).toBeLessThanOrEqual(64 * 1024);
  });

  it("cuts one too-large event into parts that join to its JSON text", () => {
    // quotes and umlauts: the escaped, encoded slice is larger than its characters
    const big = { type: 2, data: { text: 'Grüße "Käthe" \\ 😀 '.repeat(20_000) } };
    const small = { type: 3 };
    const { batches } = toBatches([small, big, small], 7, () => "part0001");
    expect(batches[0]).toEqual({ events: [small], sent_at: 7 });
    expect(batches.at(-1)).toEqual({ events: [small], sent_at: 7 });
    const parts = batches.slice(1, -1);
    expect(parts.length).toBeGreaterThan(3);
    parts.forEach((b, i) => {
      expect(b.events).toEqual([]);
      expect(b.part).toMatchObject({ part_id: "part0001", index: i, count: parts.length });
      expect(b.part!.data.length).toBeLessThanOrEqual(60_000);
      expect(frameBytes(b)).toBeLessThanOrEqual(64 * 1024);
    });
    const joined = parts.map((b) => b.part!.data).join("");
    expect(JSON.parse(joined)).toEqual([big]);
  });

  it("leaves out an event larger than the parts can carry", () => {
    const huge = { data: "y".repeat(MAX_PARTS * 60_000 + 10) };
    const { batches, dropped } = toBatches([huge, { type: 3 }], 1);
    expect(dropped).toBe(1);
    expect(batches).toEqual([{ events: [{ type: 3 }], sent_at: 1 }]);
  });
});

describe("slices", () => {
  it("never cuts a surrogate pair", () => {
    const text = "a" + "😀".repeat(100);
    const cut = slices(text, 30, 10);
    expect(cut.join("")).toBe(text);
    for (const s of cut) {
      const last = s.charCodeAt(s.length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
      expect(utf8Length(JSON.stringify(s))).toBeLessThanOrEqual(30);
    }
  });
});
