// One call's peer connection and its recovery after a network loss. Puts together
// the negotiation, the stall monitor, the TURN probe and the restart policy, and
// sums them up as the link the user sees (connecting → connected ⇄ reconnecting):
//
// - ICE `disconnected`/`failed`, or a media stall (noticed long before ICE gives
//   up), or the socket back: "reconnecting" and an ICE restart, repeated with
//   back-off; with TURN, the probe restarts the moment the TURN server answers.
// - With a restart after an outage the impolite side replaces the video transceiver,
//   so video restarts on new SSRCs (Chromium may hold the first frames after an
//   outage for up to 3 s).
// - Fresh TURN credentials go into the peer connection with an ICE restart.
import type { RtcSignalOutMsg } from "../protocol.gen";
import { hasTurn, type IceCache } from "./ice-cache";
import { candidateOut, Negotiation, type Signal } from "./negotiation";
import { RestartPolicy } from "./restart-policy";
import { StallMonitor } from "./stall-monitor";
import {
  addTransceivers,
  applyLocalTracks,
  applyScreen,
  isScreenTrack,
  replaceVideoLine,
  transceiverFor,
  type ScreenLines,
} from "./tracks";
import { TurnProbe } from "./turn-probe";
import type { IceConfig, LinkState, MediaFlags, Timer } from "./types";

declare global {
  interface Window {
    /** Tests read the live peer connection's getStats() (nothing else is exposed). */
    __visavisCall?: { pc: RTCPeerConnection };
  }
}

/** Not connected this long after the start: tell the user, keep trying. */
const SLOW_CONNECT_MS = 12_000;
/** At most one video m-line swap (see swapVideo) per this long. */
const SWAP_GAP_MS = 3000;

export interface ConnectionHooks {
  /** The call is active in this tab. */
  active(): boolean;
  /** This call is still the one active in this tab. */
  holds(callId: string): boolean;
  /** The conversation is subscribed on a live socket. */
  signalling(): boolean;
  send(signal: Signal): void;
  mic(): MediaStreamTrack | null;
  cam(): MediaStreamTrack | null;
  /** Own screen share (its own video line). */
  screen(): MediaStreamTrack | null;
  /** What the other side says it sends. */
  remoteFlags(): MediaFlags;
  /** Whether the other side's video arrived. */
  remoteVideo(): boolean;
  /** A track of the other side (camera or microphone). */
  track(track: MediaStreamTrack): void;
  /** The other side's screen share (see tracks.ts isScreenTrack). */
  remoteScreen(track: MediaStreamTrack): void;
  /** The peer connection was closed (or replaced): its video is gone. */
  closed(): void;
  /** Connected for the first time. */
  connected(): void;
  changed(): void;
}

export class CallConnection {
  link: LinkState = "connecting";
  everConnected = false;
  /** Not connected for a while after the start. */
  slow = false;
  private pc: RTCPeerConnection | null = null;
  private negotiation: Negotiation | null = null;
  private callId = "";
  private swappedAt = 0;
  /** Screen lines of the current peer connection, and our own one. */
  private screens: ScreenLines = new WeakSet();
  private screenLine: RTCRtpTransceiver | null = null;
  private slowTimer: Timer;
  private readonly restarts: RestartPolicy;
  private readonly monitor: StallMonitor;
  private readonly probe: TurnProbe;

  constructor(
    private readonly polite: boolean,
    private readonly ice: IceCache,
    private readonly hooks: ConnectionHooks,
  ) {
    this.restarts = new RestartPolicy({
      active: () => !!this.pc && hooks.active(),
      signalling: () => hooks.signalling(),
      needed: () => !!this.pc && (this.pc.connectionState !== "connected" || this.monitor.stalled),
      restartIce: () => this.negotiation?.restartIce(),
    });
    this.monitor = new StallMonitor({
      expecting: () => {
        const flags = hooks.remoteFlags();
        return this.everConnected && (flags.audio || flags.video);
      },
      active: () => hooks.active(),
      videoSender: () =>
        this.pc ? (transceiverFor(this.pc, "video", this.screens)?.sender ?? null) : null,
      stalled: () => {
        this.link = "reconnecting";
        hooks.changed();
        this.restarts.now();
        this.probe.start();
      },
      flowing: () => {
        if (this.pc?.connectionState === "connected") this.recovered();
        hooks.changed();
      },
    });
    this.probe = new TurnProbe({
      servers: () => ice.config?.iceServers ?? null,
      reconnecting: () => !!this.pc && this.link === "reconnecting",
      reachable: () => {
        // A fresh restart gets a new allocation at once (one earlier attempt may
        // still be waiting for a retransmission).
        this.restarts.allowNow();
        this.restarts.now();
      },
    });
  }

  /** A peer connection for this call exists. */
  has(callId: string): boolean {
    return !!this.negotiation && this.callId === callId;
  }

  /** The call starts (or is rejoined) here: connecting. */
  begin(): void {
    this.link = "connecting";
    this.everConnected = false;
    this.slow = false;
    clearTimeout(this.slowTimer);
    this.slowTimer = setTimeout(() => {
      if (!this.everConnected) {
        this.slow = true;
        this.hooks.changed();
      }
    }, SLOW_CONNECT_MS);
  }

  /** The call is over here. */
  end(): void {
    this.close();
    clearTimeout(this.slowTimer);
    this.link = "connecting";
    this.everConnected = false;
    this.slow = false;
  }

  /** A new peer connection (the old one is closed); `offer`: we offer first. */
  open(ice: IceConfig, callId: string, offer: boolean): Negotiation {
    this.close();
    const pc = new RTCPeerConnection({
      iceServers: ice.iceServers,
      iceTransportPolicy: ice.policy,
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
    });
    const hooks = this.hooks;
    const screens: ScreenLines = new WeakSet();
    this.screens = screens;
    this.screenLine = null;
    const negotiation = new Negotiation(pc, this.polite, {
      send: (signal) => hooks.send(signal),
      addTransceivers: () => {
        addTransceivers(pc, hooks.mic(), hooks.cam());
        this.syncScreen(pc);
      },
      answering: () => {
        // Answering an offer restarts ICE as much as our own restart would: do not
        // start another right after (it would throw this one's progress away).
        this.restarts.noteRestart();
        this.probe.noteRestart();
        return applyLocalTracks(pc, hooks.mic(), hooks.cam(), screens);
      },
      answered: async (iceRestart) => {
        // An offer during an outage may bring a fresh video line: it must not send
        // into the void either (see StallMonitor).
        if (this.monitor.videoPaused && pc === this.pc) await this.monitor.setVideoSending(false);
        // The other side restarted ICE after an outage: fresh video too (one more offer).
        if (iceRestart && pc === this.pc && pc.signalingState === "stable") this.swapVideo(pc);
        // Our screen line, if the answer left it out (the polite side drops its own
        // not yet negotiated lines when an offer crosses): added again, offered next.
        if (pc === this.pc) this.syncScreen(pc);
      },
      restarting: () => this.swapVideo(pc),
    });
    this.pc = pc;
    this.negotiation = negotiation;
    this.callId = callId;
    window.__visavisCall = { pc };
    pc.onnegotiationneeded = () => void negotiation.negotiate();
    pc.onicecandidate = (e) => {
      if (pc !== this.pc || !e.candidate || !e.candidate.candidate) return;
      hooks.send({ candidate: candidateOut(e.candidate.toJSON()) });
    };
    pc.ontrack = (e) => {
      if (pc !== this.pc) return;
      if (isScreenTrack(e)) {
        screens.add(e.transceiver);
        hooks.remoteScreen(e.track);
      } else {
        hooks.track(e.track);
      }
    };
    pc.onconnectionstatechange = () => this.onState(pc);
    this.monitor.start(pc);
    negotiation.start(offer);
    this.ice.startRenewal();
    return negotiation;
  }

  /** A signal of the other side for this call (the call is active here). */
  async onSignal(msg: RtcSignalOutMsg, callId: string): Promise<void> {
    let negotiation = this.has(callId) ? this.negotiation : null;
    if (!negotiation) {
      const ice = await this.ice.get();
      if (!ice || !this.hooks.holds(callId)) return;
      negotiation = this.has(callId) ? this.negotiation : null;
      negotiation ??= this.open(ice, callId, false);
    }
    const desc = msg.description;
    if (desc) {
      if (negotiation.isNewPeer(desc)) {
        // The other side started a new peer connection (it reloaded): so do we.
        const ice = this.ice.config;
        if (!ice) return;
        negotiation = this.open(ice, callId, false);
        this.link = this.everConnected ? "reconnecting" : "connecting";
      }
      await negotiation.onDescription(desc);
    } else if (msg.candidate) {
      await negotiation.onCandidate(msg.candidate);
    }
  }

  /** Own tracks changed: onto the senders. */
  async applyLocalTracks(): Promise<void> {
    if (this.pc) await applyLocalTracks(this.pc, this.hooks.mic(), this.hooks.cam(), this.screens);
  }

  /** Own screen share started or stopped: its line added (a renegotiation, see
   * negotiation.ts) or stopped. */
  applyScreen(): void {
    if (this.pc && this.pc.signalingState !== "closed") this.syncScreen(this.pc);
  }

  private syncScreen(pc: RTCPeerConnection): void {
    this.screenLine = applyScreen(pc, this.hooks.screen(), this.screenLine, this.screens);
  }

  /** Signals may have been lost: a restart waits for the resubscribe. */
  signallingLost(): void {
    this.restarts.signallingLost();
  }

  /** Subscribed again after a socket loss: the network may have changed under us
   * (new address, dead pair), so restart ICE now rather than wait for ICE to notice. */
  resubscribed(): void {
    const pc = this.pc;
    if (!this.restarts.resubscribed() || !pc || !this.hooks.active()) return;
    if (pc.connectionState !== "connected")
      this.link = this.everConnected ? "reconnecting" : "connecting";
    this.restarts.now();
  }

  /** Fresh TURN credentials: into the peer connection, and an ICE restart makes them
   * used. False when there is no call to use them (the renewal stops). */
  renewed(ice: IceConfig | null): boolean {
    const pc = this.pc;
    if (!pc || !this.hooks.active()) return false;
    if (!ice) return true;
    try {
      pc.setConfiguration({
        ...pc.getConfiguration(),
        iceServers: ice.iceServers,
        iceTransportPolicy: ice.policy,
      });
      if (hasTurn(ice.iceServers)) this.restarts.now();
    } catch (err) {
      console.warn("visavis call: setConfiguration", err);
    }
    return true;
  }

  private close(): void {
    const pc = this.pc;
    this.pc = null;
    this.callId = "";
    this.negotiation?.close();
    this.negotiation = null;
    this.restarts.stop();
    this.monitor.stop();
    this.probe.stop();
    if (pc) {
      pc.onnegotiationneeded = null;
      pc.onicecandidate = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
      if (window.__visavisCall?.pc === pc) delete window.__visavisCall;
    }
    this.hooks.closed();
  }

  private onState(pc: RTCPeerConnection): void {
    if (pc !== this.pc) return;
    switch (pc.connectionState) {
      case "connected":
        if (!this.everConnected) {
          this.everConnected = true;
          this.hooks.connected();
        }
        this.slow = false;
        if (!this.monitor.stalled) this.recovered();
        break;
      case "disconnected":
      case "failed":
        this.link = this.everConnected ? "reconnecting" : "connecting";
        // At once: the old pair is gone (or going); a restart gathers afresh and keeps
        // media on the old pair should it come back meanwhile.
        this.restarts.now();
        this.probe.start();
        break;
      case "new":
      case "connecting":
        this.link = this.everConnected ? "reconnecting" : "connecting";
        if (!this.everConnected) this.restarts.schedule(SLOW_CONNECT_MS);
        break;
      default:
        break;
    }
    this.hooks.changed();
  }

  private recovered(): void {
    if (this.monitor.videoPaused && this.pc) void this.monitor.setVideoSending(true);
    this.link = "connected";
    this.restarts.reset();
    this.probe.stop();
  }

  /** A fresh video m-line with an ICE restart after an outage (impolite side only, so
   * there is one; see replaceVideoLine). */
  private swapVideo(pc: RTCPeerConnection): void {
    if (this.polite || Date.now() - this.swappedAt < SWAP_GAP_MS) return;
    const cam = this.hooks.cam();
    if (!cam && !this.hooks.remoteFlags().video && !this.hooks.remoteVideo()) return;
    if (replaceVideoLine(pc, cam, this.monitor.videoPaused, this.screens))
      this.swappedAt = Date.now();
  }
}
