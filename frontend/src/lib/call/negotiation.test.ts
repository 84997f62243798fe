import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  candidateOut,
  Negotiation,
  OFFER_TIMEOUT_MS,
  POLITE_WAIT_MS,
  type NegotiationPc,
  type NegotiationTransceiver,
  type Signal,
} from "./negotiation";

function sdp(ufrag: string, fingerprint = "sha-256 AA"): string {
  return `v=0\r\na=ice-ufrag:${ufrag}\r\na=fingerprint:${fingerprint}\r\n`;
}

/** Just enough of RTCPeerConnection's offer/answer state machine. */
class FakePc implements NegotiationPc {
  signalingState: RTCSignalingState = "stable";
  localDescription: { type: RTCSdpType; sdp: string } | null = null;
  remoteDescription: { sdp: string } | null = null;
  transceivers: NegotiationTransceiver[] = [];
  remoteSet: string[] = [];
  candidates: RTCIceCandidateInit[] = [];
  rollbacks = 0;
  restarts = 0;
  ufrag = "local1";
  /** While set, setLocalDescription waits for it (an offer being made). */
  hold: Promise<void> | null = null;

  async setLocalDescription(d?: RTCLocalSessionDescriptionInit): Promise<void> {
    if (this.hold) await this.hold;
    if (d?.type === "rollback") {
      this.rollbacks += 1;
      this.signalingState = "stable";
      return;
    }
    if (this.signalingState === "have-remote-offer") {
      this.localDescription = { type: "answer", sdp: sdp(this.ufrag) };
      this.signalingState = "stable";
    } else {
      this.localDescription = { type: "offer", sdp: sdp(this.ufrag) };
      this.signalingState = "have-local-offer";
    }
  }

  setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.remoteSet.push(d.type);
    if (d.type === "answer" && this.signalingState !== "have-local-offer")
      return Promise.reject(new Error("InvalidStateError"));
    // An offer in have-local-offer rolls ours back implicitly (the polite side).
    this.signalingState = d.type === "offer" ? "have-remote-offer" : "stable";
    this.remoteDescription = { sdp: d.sdp ?? "" };
    return Promise.resolve();
  }

  addIceCandidate(c: RTCIceCandidateInit): Promise<void> {
    if (!this.remoteDescription) return Promise.reject(new Error("no remote description"));
    this.candidates.push(c);
    return Promise.resolve();
  }

  restartIce(): void {
    this.restarts += 1;
  }

  getTransceivers(): NegotiationTransceiver[] {
    return this.transceivers;
  }
}

function transceiver(mid: string | null) {
  const t = { mid, direction: "sendrecv" as RTCRtpTransceiverDirection, stopped: false };
  return Object.assign(t, {
    stop: () => {
      t.stopped = true;
      t.direction = "stopped";
    },
  });
}

function setup(polite: boolean) {
  const pc = new FakePc();
  const sent: Signal[] = [];
  const calls = { answering: 0, answered: [] as boolean[], restarting: 0 };
  const negotiation = new Negotiation(pc, polite, {
    send: (s) => sent.push(s),
    addTransceivers: () => pc.transceivers.push(transceiver(null), transceiver(null)),
    answering: () => {
      calls.answering += 1;
      return Promise.resolve();
    },
    answered: (iceRestart) => {
      calls.answered.push(iceRestart);
      return Promise.resolve();
    },
    restarting: () => (calls.restarting += 1),
  });
  return { pc, sent, calls, negotiation };
}

const offer = (ufrag = "remote1", fp?: string) => ({ type: "offer" as const, sdp: sdp(ufrag, fp) });

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("Negotiation", () => {
  it("offers at once with its m-lines; an unanswered offer is rolled back and re-made", async () => {
    const { pc, sent, negotiation } = setup(false);
    negotiation.start(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(pc.transceivers).toHaveLength(2);
    expect(sent.map((s) => s.description?.type)).toEqual(["offer"]);
    await vi.advanceTimersByTimeAsync(OFFER_TIMEOUT_MS);
    expect(pc.rollbacks).toBe(1);
    expect(pc.restarts).toBe(1);
  });

  it("an answer in time ends the wait", async () => {
    const { pc, negotiation } = setup(false);
    negotiation.start(true);
    await vi.advanceTimersByTimeAsync(0);
    await negotiation.onDescription({ type: "answer", sdp: sdp("remote1") });
    expect(pc.signalingState).toBe("stable");
    await vi.advanceTimersByTimeAsync(OFFER_TIMEOUT_MS * 2);
    expect(pc.rollbacks).toBe(0);
  });

  it("glare, impolite side: ignores the other's offer and its candidates, quietly", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { pc, sent, calls, negotiation } = setup(false);
    negotiation.start(true);
    await vi.advanceTimersByTimeAsync(0);
    await negotiation.onDescription(offer());
    await negotiation.onCandidate({ candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host" });
    expect(pc.remoteSet).toEqual([]);
    expect(pc.signalingState).toBe("have-local-offer");
    expect(sent.map((s) => s.description?.type)).toEqual(["offer"]);
    expect(calls.answering).toBe(0);
    expect(warn).not.toHaveBeenCalled();
  });

  it("glare, impolite side: an offer arriving while ours is being made is ignored", async () => {
    const { pc, negotiation } = setup(false);
    let release = (): void => undefined;
    pc.hold = new Promise((resolve) => (release = resolve));
    const making = negotiation.negotiate();
    await negotiation.onDescription(offer());
    expect(pc.remoteSet).toEqual([]);
    pc.hold = null;
    release();
    await making;
    expect(pc.signalingState).toBe("have-local-offer");
  });

  it("glare, polite side: drops its own offer and answers, without extra m-lines", async () => {
    const { pc, sent, calls, negotiation } = setup(true);
    negotiation.start(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(pc.signalingState).toBe("have-local-offer");
    await negotiation.onDescription(offer());
    expect(pc.remoteSet).toEqual(["offer"]);
    expect(sent.map((s) => s.description?.type)).toEqual(["offer", "answer"]);
    expect(pc.signalingState).toBe("stable");
    expect(pc.transceivers.every((t) => t.direction === "stopped")).toBe(true);
    expect(calls.answering).toBe(1);
    expect(calls.answered).toEqual([false]);
    // the answer counts: our lost offer is not rolled back later
    await vi.advanceTimersByTimeAsync(OFFER_TIMEOUT_MS);
    expect(pc.rollbacks).toBe(0);
  });

  it("tells when an offer restarted ICE (another ufrag)", async () => {
    const { calls, negotiation } = setup(true);
    await negotiation.onDescription(offer("remote1"));
    await negotiation.onDescription(offer("remote1"));
    await negotiation.onDescription(offer("remote2"));
    expect(calls.answered).toEqual([false, false, true]);
  });

  it("a polite side offered nothing for a while offers itself", async () => {
    const { pc, sent, negotiation } = setup(true);
    negotiation.start(false);
    await vi.advanceTimersByTimeAsync(POLITE_WAIT_MS - 1);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(pc.transceivers).toHaveLength(2);
    expect(sent.map((s) => s.description?.type)).toEqual(["offer"]);
  });

  it("a polite side that was offered something in time does not", async () => {
    const { sent, negotiation } = setup(true);
    negotiation.start(false);
    await negotiation.onDescription(offer());
    await vi.advanceTimersByTimeAsync(POLITE_WAIT_MS * 2);
    expect(sent.map((s) => s.description?.type)).toEqual(["answer"]);
  });

  it("restarts ICE; an unanswered offer of ours is rolled back first", async () => {
    const { pc, calls, negotiation } = setup(false);
    negotiation.restartIce();
    expect([pc.restarts, calls.restarting]).toEqual([1, 1]);
    await negotiation.negotiate();
    negotiation.restartIce();
    await vi.advanceTimersByTimeAsync(0);
    expect([pc.rollbacks, pc.restarts, calls.restarting]).toEqual([1, 2, 2]);
  });

  it("after close() it sends nothing and its timers are gone", async () => {
    const { pc, sent, negotiation } = setup(true);
    negotiation.start(false);
    negotiation.close();
    await negotiation.negotiate();
    await vi.advanceTimersByTimeAsync(POLITE_WAIT_MS + OFFER_TIMEOUT_MS);
    expect(sent).toHaveLength(0);
    expect(pc.transceivers).toHaveLength(0);
  });

  it("sees a new peer in an offer with another DTLS fingerprint", async () => {
    const { negotiation } = setup(true);
    expect(negotiation.isNewPeer(offer("r1", "sha-256 AA"))).toBe(false); // nothing yet
    await negotiation.onDescription(offer("r1", "sha-256 AA"));
    expect(negotiation.isNewPeer(offer("r2", "sha-256 AA"))).toBe(false);
    expect(negotiation.isNewPeer(offer("r2", "sha-256 BB"))).toBe(true);
    expect(negotiation.isNewPeer({ type: "answer", sdp: sdp("r2", "sha-256 BB") })).toBe(false);
  });
});

describe("candidateOut", () => {
  it("keeps only what is set", () => {
    expect(candidateOut({ candidate: "c", sdpMid: "0", sdpMLineIndex: null })).toEqual({
      candidate: "c",
      sdpMid: "0",
    });
  });
});
