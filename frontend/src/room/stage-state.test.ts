import { describe, expect, it } from "vitest";
import type { Author, EventMsg } from "../lib/protocol.gen";
import {
  annotationsOf,
  drifted,
  emptyStage,
  expectedPosition,
  isMine,
  stageOf,
  type StageState,
} from "./stage-state";

const adviser: Author = { role: "adviser", id: "adv1", name: "Jane" };
const customer: Author = { role: "customer", id: null, name: "Max" };
const T0 = Date.parse("2025-01-01T10:00:00Z");

let seq = 0;
function ev(kind: string, body: Record<string, unknown>, author: Author = adviser, atMs = T0) {
  seq += 1;
  return {
    type: "event",
    conversation_id: "c1",
    seq,
    kind,
    author,
    body,
    at: new Date(atMs).toISOString(),
  } as unknown as EventMsg;
}

const pdf = (id = "doc00001", source = "library") =>
  ev("document.shared", {
    document_id: id,
    name: "Prices.pdf",
    kind: "pdf",
    pages: [
      { w: 595, h: 842 },
      { w: 595, h: 842 },
      { w: 842, h: 595 },
    ],
    downloadable: true,
    source,
  });

const stroke = (id: string, page = 0, by: Author = customer) =>
  ev(
    "annotation.added",
    {
      document_id: "doc00001",
      page,
      annotation_id: id,
      tool: "pen",
      color: "red",
      points: [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      text: null,
    },
    by,
  );

describe("stage state", () => {
  it("knows shared documents in order, with pages and source", () => {
    const s = stageOf([pdf("doc00001"), pdf("doc00002", "upload")]);
    expect(s.order).toEqual(["doc00001", "doc00002"]);
    const d = s.documents.get("doc00002");
    expect(d?.source).toBe("upload");
    expect(d?.pages[2]).toEqual({ w: 842, h: 595 });
    expect(d?.by).toEqual(adviser);
    expect(s.presented).toBeNull();
  });

  it("follows the adviser's download decisions per document", () => {
    const rights = (id: string, downloadable: unknown) =>
      ev("document.rights", { document_id: id, downloadable });
    const events = [pdf("doc00001"), pdf("doc00002"), rights("doc00001", false)];
    let s = stageOf(events);
    expect(s.documents.get("doc00001")?.downloadable).toBe(false);
    expect(s.documents.get("doc00002")?.downloadable).toBe(true);
    const before = s;
    // malformed, unknown or unchanged: nothing changes (the same documents map)
    events.push(rights("doc00001", "true"), rights("doc00009", true), rights("doc00001", false));
    s = stageOf(events, s);
    expect(s.documents).toBe(before.documents);
    expect(s.applied).toBe(6);
    events.push(rights("doc00001", true));
    s = stageOf(events, s);
    expect(s.documents.get("doc00001")?.downloadable).toBe(true);
    expect(s.documents).not.toBe(before.documents);
    expect(before.documents.get("doc00001")?.downloadable).toBe(false); // not changed in place
    // a replay from the start comes to the same
    expect(stageOf(events).documents.get("doc00001")?.downloadable).toBe(true);
  });

  it("presents a document; the presenter is the author of the last presented event", () => {
    const events = [
      pdf(),
      ev("document.presented", { document_id: "doc00001", page: 0 }),
      ev("document.presented", { document_id: "doc00001", page: 2 }),
    ];
    let s = stageOf(events);
    expect(s.presented).toMatchObject({ documentId: "doc00001", page: 2, by: adviser });
    // Take over: the customer presents the page now; they lead from here.
    events.push(ev("document.presented", { document_id: "doc00001", page: 2 }, customer));
    s = stageOf(events, s);
    expect(s.presented?.by).toEqual(customer);
    expect(isMine(s.presented!.by, "customer", null)).toBe(true);
    expect(isMine(s.presented!.by, "adviser", "adv1")).toBe(false);
  });

  it("clears the stage", () => {
    const s = stageOf([
      pdf(),
      ev("document.presented", { document_id: "doc00001", page: 1 }),
      ev("stage.cleared", {}),
    ]);
    expect(s.presented).toBeNull();
    expect(s.documents.size).toBe(1);
  });

  it("keeps annotations per page, once each, and clears one page", () => {
    const events = [pdf(), stroke("ann00001"), stroke("ann00002"), stroke("ann00003", 1)];
    events.push(stroke("ann00001")); // a repeat of the same id draws nothing more
    let s = stageOf(events);
    expect(annotationsOf(s, "doc00001", 0).map((a) => a.id)).toEqual(["ann00001", "ann00002"]);
    expect(annotationsOf(s, "doc00001", 1)).toHaveLength(1);
    expect(annotationsOf(s, "doc00001", 0)[0]?.points[1]).toEqual([0.3, 0.4]);
    events.push(ev("annotation.cleared", { document_id: "doc00001", page: 0 }));
    events.push(stroke("ann00004"));
    s = stageOf(events, s);
    expect(annotationsOf(s, "doc00001", 0).map((a) => a.id)).toEqual(["ann00004"]);
    expect(annotationsOf(s, "doc00001", 1)).toHaveLength(1);
  });

  it("ignores malformed annotations and unknown tools", () => {
    const s = stageOf([
      ev("annotation.added", { document_id: "doc00001", page: 0, annotation_id: "x1234567" }),
      ev("annotation.added", {
        document_id: "doc00001",
        page: 0,
        annotation_id: "x1234568",
        tool: "laser",
        color: "red",
        points: [[0, 0]],
      }),
    ]);
    expect(s.annotations.size).toBe(0);
    expect(s.applied).toBe(2);
  });

  it("follows a video's play, seek and pause", () => {
    const events = [
      ev("video.control", { document_id: "vid00001", action: "play", position: 10 }, adviser, T0),
    ];
    let s = stageOf(events);
    let v = s.video.get("vid00001")!;
    expect(v.playing).toBe(true);
    expect(expectedPosition(v, T0 + 2500)).toBeCloseTo(12.5);
    // Seeking while playing plays on from there.
    events.push(
      ev(
        "video.control",
        { document_id: "vid00001", action: "seek", position: 30 },
        customer,
        T0 + 5000,
      ),
    );
    s = stageOf(events, s);
    v = s.video.get("vid00001")!;
    expect(v.playing).toBe(true);
    expect(expectedPosition(v, T0 + 6000)).toBeCloseTo(31);
    // A local arrival time stands in for a skewed event clock.
    expect(expectedPosition(v, 1000, 0)).toBeCloseTo(31);
    events.push(
      ev(
        "video.control",
        { document_id: "vid00001", action: "pause", position: 31.2 },
        adviser,
        T0 + 6200,
      ),
    );
    s = stageOf(events, s);
    v = s.video.get("vid00001")!;
    expect(v.playing).toBe(false);
    expect(expectedPosition(v, T0 + 60_000)).toBeCloseTo(31.2);
    expect(expectedPosition({ ...v, playing: true }, T0 + 600_000, v.at, 40)).toBe(40);
  });

  it("judges drift with half a second of slack", () => {
    expect(drifted(10.4, 10)).toBe(false);
    expect(drifted(10.6, 10)).toBe(true);
    expect(drifted(9.4, 10)).toBe(true);
  });

  it("tracks a snapshot request until a photo or a no", () => {
    const events = [ev("snapshot.requested", {})];
    let s = stageOf(events);
    expect(s.snapshot).toMatchObject({ pending: true, requestedBy: adviser, declined: false });
    events.push(ev("snapshot.declined", {}, customer));
    s = stageOf(events, s);
    expect(s.snapshot).toMatchObject({ pending: false, declined: true });
    events.push(ev("snapshot.requested", {}));
    events.push(pdf("snap0001", "snapshot"));
    s = stageOf(events, s);
    expect(s.snapshot.pending).toBe(false);
    expect(s.snapshot.declined).toBe(false);
    expect(s.documents.get("snap0001")?.source).toBe("snapshot");
  });

  it("applies only what was appended, and starts afresh on a different list", () => {
    const a = [pdf(), ev("document.presented", { document_id: "doc00001", page: 0 })];
    const s1 = stageOf(a);
    const s2 = stageOf(a, s1);
    expect(s2).toBe(s1);
    const b = [...a, ev("chat.message", { text: "hi" })];
    const s3 = stageOf(b, s1);
    expect(s3.applied).toBe(3);
    expect(s3.documents).toBe(s1.documents);
    expect(s3.presented).toBe(s1.presented);
    // Another conversation's list (same length, other events): replayed from scratch.
    const other = [pdf("doc00009"), ev("chat.message", { text: "x" }), ev("stage.cleared", {})];
    const s4: StageState = stageOf(other, s3);
    expect([...s4.documents.keys()]).toEqual(["doc00009"]);
    expect(stageOf([], s4)).toBe(emptyStage);
  });
});
