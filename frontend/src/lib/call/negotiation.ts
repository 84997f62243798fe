// Perfect negotiation (W3C WebRTC §10.7) for one peer connection over `rtc.signal`:
// the customer is polite, the adviser impolite. When both offer at once (glare), the
// impolite side ignores the other's offer and the polite side rolls its own back and
// answers. An offer that got no answer (lost while signalling was down) is rolled
// back and re-made with an ICE restart; a polite side that was offered nothing for a
// while offers itself.
import type { IceCandidate, SessionDescription } from "../protocol.gen";
import type { Timer } from "./types";

/** An offer unanswered this long was lost: roll back, offer again. */
export const OFFER_TIMEOUT_MS = 4000;
/** A polite side that was not offered anything this long offers itself. */
export const POLITE_WAIT_MS = 3000;

export interface NegotiationTransceiver {
  readonly mid: string | null;
  readonly direction: RTCRtpTransceiverDirection;
  stop(): void;
}

/** The part of RTCPeerConnection the negotiation drives. */
export interface NegotiationPc {
  readonly signalingState: RTCSignalingState;
  readonly localDescription: { readonly type: RTCSdpType; readonly sdp: string } | null;
  readonly remoteDescription: { readonly sdp: string } | null;
  setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(candidate: RTCIceCandidateInit): Promise<void>;
  restartIce(): void;
  getTransceivers(): NegotiationTransceiver[];
}

export interface Signal {
  description?: SessionDescription;
  candidate?: IceCandidate;
}

export interface NegotiationHooks {
  send(signal: Signal): void;
  /** Our audio and video m-lines (we offer first). */
  addTransceivers(): void;
  /** An offer is being answered: own tracks onto the senders (the answer says what we
   * send); the returned promise is awaited once the answer is out. */
  answering(): Promise<void>;
  /** The answer is out; `iceRestart`: the offer restarted ICE. */
  answered(iceRestart: boolean): Promise<void>;
  /** Our ICE restart is about to be offered (from a stable state). */
  restarting(): void;
}

export function ufrag(sdp: string | null | undefined): string {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp ?? "");
  return m?.[1] ?? "";
}

export function fingerprint(sdp: string | null | undefined): string {
  const m = /^a=fingerprint:(.+)$/m.exec(sdp ?? "");
  return m?.[1]?.trim() ?? "";
}

/** A gathered candidate as it goes into `rtc.signal`. */
export function candidateOut(c: RTCIceCandidateInit): IceCandidate {
  const out: IceCandidate = { candidate: c.candidate ?? "" };
  if (c.sdpMid != null) out.sdpMid = c.sdpMid;
  if (c.sdpMLineIndex != null) out.sdpMLineIndex = c.sdpMLineIndex;
  if (c.usernameFragment != null) out.usernameFragment = c.usernameFragment;
  return out;
}

export class Negotiation {
  private makingOffer = false;
  private ignoreOffer = false;
  private answerPending = false;
  private offerTimer: Timer;
  private politeTimer: Timer;
  private closed = false;

  constructor(
    private readonly pc: NegotiationPc,
    private readonly polite: boolean,
    private readonly hooks: NegotiationHooks,
  ) {}

  /** `offer`: offer at once (else wait for the other side's offer, a while). */
  start(offer: boolean): void {
    if (offer) {
      this.hooks.addTransceivers();
      // Offer now rather than when `negotiationneeded` gets its turn after rendering;
      // the event then finds nothing left to negotiate.
      void this.negotiate();
      return;
    }
    clearTimeout(this.politeTimer);
    this.politeTimer = setTimeout(() => {
      const pc = this.pc;
      if (!this.closed && !pc.remoteDescription && pc.getTransceivers().length === 0) {
        this.hooks.addTransceivers();
        void this.negotiate();
      }
    }, POLITE_WAIT_MS);
  }

  /** The peer connection is gone (or replaced): nothing more from here. */
  close(): void {
    this.closed = true;
    clearTimeout(this.offerTimer);
    clearTimeout(this.politeTimer);
  }

  /** An offer with another DTLS fingerprint: the other side has a new peer connection
   * (it reloaded, or another tab took the call), so ours must be rebuilt too. */
  isNewPeer(desc: SessionDescription): boolean {
    const remote = this.pc.remoteDescription;
    return desc.type === "offer" && !!remote && fingerprint(remote.sdp) !== fingerprint(desc.sdp);
  }

  /** `negotiationneeded`, or our own first offer. */
  async negotiate(): Promise<void> {
    if (this.closed || this.makingOffer) return;
    const pc = this.pc;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      const d = pc.localDescription;
      if (!this.closed && d && d.type === "offer") {
        this.hooks.send({ description: { type: "offer", sdp: d.sdp } });
        this.armOfferTimer();
      }
    } catch (err) {
      console.warn("visavis call: offer", err);
    } finally {
      this.makingOffer = false;
    }
  }

  /** Restart ICE: an offer of ours still unanswered is rolled back first. */
  restartIce(): void {
    const pc = this.pc;
    if (pc.signalingState === "have-local-offer" && !this.makingOffer) {
      void pc
        .setLocalDescription({ type: "rollback" })
        .then(() => {
          this.hooks.restarting();
          pc.restartIce();
        })
        .catch((err: unknown) => console.warn("visavis call: rollback", err));
    } else {
      if (pc.signalingState === "stable") this.hooks.restarting();
      pc.restartIce();
    }
  }

  async onDescription(desc: SessionDescription): Promise<void> {
    const pc = this.pc;
    const remoteRestart =
      desc.type === "offer" &&
      !!pc.remoteDescription &&
      ufrag(pc.remoteDescription.sdp) !== ufrag(desc.sdp);
    const readyForOffer =
      !this.makingOffer && (pc.signalingState === "stable" || this.answerPending);
    const collision = desc.type === "offer" && !readyForOffer;
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    this.answerPending = desc.type === "answer";
    try {
      await pc.setRemoteDescription({ type: desc.type, sdp: desc.sdp ?? "" });
    } finally {
      this.answerPending = false;
    }
    if (desc.type === "answer") {
      clearTimeout(this.offerTimer);
      return;
    }
    if (desc.type !== "offer") return;
    // Our own never-negotiated transceivers (from an offer of ours that lost the
    // collision) would become extra m-lines: the offer's lines are used instead.
    if (this.polite)
      for (const t of pc.getTransceivers())
        if (t.mid === null && t.direction !== "stopped") t.stop();
    clearTimeout(this.politeTimer);
    const tracks = this.hooks.answering();
    await pc.setLocalDescription();
    const d = pc.localDescription;
    if (!this.closed && d) this.hooks.send({ description: { type: "answer", sdp: d.sdp } });
    await tracks;
    await this.hooks.answered(remoteRestart);
  }

  async onCandidate(candidate: IceCandidate): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      // Candidates of an offer we ignored fail: expected.
      if (!this.ignoreOffer) console.warn("visavis call: candidate", err);
    }
  }

  private armOfferTimer(): void {
    clearTimeout(this.offerTimer);
    this.offerTimer = setTimeout(() => {
      const pc = this.pc;
      if (this.closed || pc.signalingState !== "have-local-offer") return;
      // No answer: the offer (or the answer) was lost. Start over.
      void pc
        .setLocalDescription({ type: "rollback" })
        .then(() => pc.restartIce())
        .catch((err: unknown) => console.warn("visavis call: rollback", err));
    }, OFFER_TIMEOUT_MS);
  }
}
