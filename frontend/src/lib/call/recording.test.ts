import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EventMsg } from "../protocol.gen";
import type { VisavisClient } from "../ws";
import { CallRecording } from "./recording";

/** A stand-in for the browser's RTCPeerConnection: records what the unit does. */
class FakePc {
  static made: FakePc[] = [];
  closed = false;
  iceGatheringState = "complete";
  connectionState = "new";
  localDescription: { sdp: string } | null = null;
  transceivers: (string | object)[] = [];
  remote = "";
  constructor() {
    FakePc.made.push(this);
  }
  addTransceiver(what: string | object) {
    this.transceivers.push(what);
    return { sender: { track: null, replaceTrack: () => Promise.resolve() } };
  }
  addEventListener() {}
  removeEventListener() {}
  createOffer() {
    return Promise.resolve({ type: "offer", sdp: "v=0 offer" });
  }
  setLocalDescription(d: { sdp: string }) {
    this.localDescription = d;
    return Promise.resolve();
  }
  setRemoteDescription(d: { sdp: string }) {
    this.remote = d.sdp;
    return Promise.resolve();
  }
  close() {
    this.closed = true;
  }
}

function ev(kind: string, body: Record<string, unknown>, seq = 1): EventMsg {
  return {
    type: "event",
    conversation_id: "c1",
    seq,
    kind,
    author: { role: "adviser" },
    at: "2030-01-01T00:00:00Z",
    body,
  } as EventMsg;
}

const consent = { version: "2026-12-01", de: "Einwilligung …", en: "Consent …" };

function setup(holds = true) {
  const sent: Record<string, unknown>[] = [];
  const client = {
    request: (frame: Record<string, unknown>) => {
      sent.push(frame);
      if (frame.type === "recording.offer")
        return Promise.resolve({
          type: "recording.answer",
          conversation_id: "c1",
          recording_id: "r1",
          description: { type: "answer", sdp: "v=0 answer" },
        });
      return Promise.resolve({ type: "ack" });
    },
  } as unknown as VisavisClient;
  const state = { holds };
  const rec = new CallRecording({
    client,
    conversationId: "c1",
    role: "customer",
    tracks: () => ({ mic: null, cam: null }),
    holdsCall: () => state.holds,
    changed: () => undefined,
  });
  return { rec, sent, state };
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

beforeEach(() => {
  FakePc.made = [];
  vi.stubGlobal("RTCPeerConnection", FakePc);
  vi.stubGlobal("window", { setTimeout, clearTimeout });
});
afterEach(() => vi.unstubAllGlobals());

describe("CallRecording", () => {
  it("folds the events and opens nothing before everyone consented", async () => {
    const { rec } = setup();
    rec.onEvent(ev("recording.requested", { recording_id: "r1", call_id: "k", consent }));
    rec.onEvent(ev("recording.consented", { recording_id: "r1", role: "adviser" }, 2));
    await flush();
    expect(rec.phase).toBe("requested");
    expect(rec.consent?.version).toBe("2026-12-01");
    expect(rec.consentedHere).toBe(false);
    expect(FakePc.made).toHaveLength(0);
  });

  it("opens one send-only connection once started, offers over the socket, closes on stop", async () => {
    const { rec, sent } = setup();
    rec.onEvent(ev("recording.requested", { recording_id: "r1", call_id: "k", consent }));
    rec.onEvent(ev("recording.consented", { recording_id: "r1", role: "adviser" }, 2));
    rec.onEvent(ev("recording.consented", { recording_id: "r1", role: "customer" }, 3));
    rec.onEvent(ev("recording.started", { recording_id: "r1" }, 4));
    await flush();
    expect(rec.phase).toBe("running");
    expect(FakePc.made).toHaveLength(1);
    const pc = FakePc.made[0]!;
    expect(pc.transceivers).toEqual(["audio", "video"]); // devices off: empty m-lines
    const offer = sent.find((f) => f.type === "recording.offer");
    expect(offer).toMatchObject({ recording_id: "r1", description: { type: "offer" } });
    expect(pc.remote).toBe("v=0 answer");
    rec.onEvent(ev("recording.stopped", { recording_id: "r1", reason: "withdrawn" }, 5));
    await flush();
    expect(pc.closed).toBe(true);
    expect(rec.sending).toBe(false);
  });

  it("sends nothing from a tab that does not hold the call", async () => {
    const { rec } = setup(false);
    rec.onEvent(ev("recording.requested", { recording_id: "r1", call_id: "k", consent }));
    rec.onEvent(ev("recording.started", { recording_id: "r1" }, 2));
    await flush();
    expect(FakePc.made).toHaveLength(0);
  });

  it("withdrawing closes the connection before the server answers", async () => {
    const { rec, sent } = setup();
    rec.onEvent(ev("recording.requested", { recording_id: "r1", call_id: "k", consent }));
    rec.onEvent(ev("recording.started", { recording_id: "r1" }, 2));
    await flush();
    const pc = FakePc.made[0]!;
    const stopping = rec.stop();
    expect(rec.sending).toBe(false);
    await stopping;
    await new Promise((ok) => setTimeout(ok, 0)); // closed in a task of its own
    expect(pc.closed).toBe(true);
    expect(sent.at(-1)).toMatchObject({ type: "recording.withdraw", recording_id: "r1" });
  });
});
