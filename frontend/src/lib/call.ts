// Audio/video calls inside a conversation (issue 3), the logic both apps share.
//
// One CallManager per conversation an app shows. It follows the conversation
// summary's `call` (null → ringing → active → null) and owns everything of the
// current call: the RTCPeerConnection, own camera/microphone, the remote media and
// the recovery after network loss. The view (call-view.ts) only renders its state.
//
// - Gentle start (R9.1): getUserMedia only on a click that turns a device on
//   (customers: the camera/microphone buttons; advisers also "Accept"/"Video call",
//   which turn on what the call is for). Without own devices a side still receives:
//   the adviser's transceivers start `recvonly` and become `sendrecv` when a track
//   is attached; the customer sends on the transceivers the adviser's offer created.
// - Perfect negotiation (W3C WebRTC §10.7) over `rtc.signal`: the customer is
//   polite, the adviser impolite. The adviser offers first; a customer who rejoins an
//   active call (page reload) offers itself; an offer with a new DTLS fingerprint
//   means the other side has a new peer connection, so ours is rebuilt.
// - ICE servers only from `ice.servers` (never a default STUN), refreshed before the
//   TURN credentials expire.
// - Recovery (R8.1): "reconnecting" and `restartIce()` (repeated with back-off while it
//   lasts) when ICE goes `disconnected`/`failed`, when the WebSocket comes back, or
//   already when the other side's media stops for 0.8 s although it says it sends
//   (ICE needs ~6 s to give up on a relayed pair). Meanwhile our video encoding is
//   paused; with TURN, a throw-away relay allocation every ~0.5 s tells when the TURN
//   server answers again, and ICE restarts right then. An offer that got no answer
//   (lost while signalling was down) is rolled back and re-made. Chromium may hold
//   the first video frames after an outage for up to 3 s (old queued frames arrive
//   in a burst, new ones get scheduled seconds ahead): with the ICE restart the
//   adviser's side replaces the video transceiver, so video restarts on new SSRCs.
import type {
  CallMovedMsg,
  CallSummary,
  EventMsg,
  IceCandidate,
  RtcSignalOutMsg,
  SessionDescription,
} from "./protocol.gen";
import type { ConnState, VisavisClient } from "./ws";

export type Role = "customer" | "adviser";
export type Media = "audio" | "video";
/** `elsewhere`: the call runs, but another tab or device of this side holds it. */
export type Phase = "idle" | "outgoing" | "incoming" | "active" | "elsewhere";
export type LinkState = "connecting" | "connected" | "reconnecting";
export type DeviceError = "" | "denied" | "notfound" | "busy" | "unsupported" | "other";
export type CheckResult = "idle" | "running" | "relay" | "no-relay" | "none" | "error";

export interface MediaFlags {
  audio: boolean;
  video: boolean;
}

export interface ConnectionCheck {
  result: CheckResult;
  /** ICE servers handed out by the server (what this browser may contact). */
  servers: number;
  turn: boolean;
  policy: RTCIceTransportPolicy;
  candidateTypes: string[];
}

interface IceConfig {
  iceServers: RTCIceServer[];
  policy: RTCIceTransportPolicy;
  ttlS: number;
  fetchedAt: number;
}

declare global {
  interface Window {
    /** Tests read the live peer connection's getStats() (nothing else is exposed). */
    __visavisCall?: { pc: RTCPeerConnection };
  }
}

const RING_TIMEOUT_MS = 60_000;
/** An offer unanswered this long was lost (signalling was down): roll back, re-offer. */
const OFFER_TIMEOUT_MS = 4000;
/** A polite side that was not offered anything this long offers itself. */
const POLITE_WAIT_MS = 3000;
/** Not connected this long after the start: tell the user, keep trying. */
const SLOW_CONNECT_MS = 12_000;
const CHECK_TIMEOUT_MS = 6000;
const MIN_RESTART_GAP_MS = 1500;
/** No media from a side that says it sends for this long: the path is broken. ICE
 * itself takes ~6 s to call a relayed pair `disconnected`. */
const STALL_MS = 800;
const MONITOR_MS = 250;
/** While stalled: media coming back is noticed this fast (each side resumes its paused
 * video only then, so this delay is part of the recovery time). */
const MONITOR_STALLED_MS = 100;
/** More than a straggler: media flows (again). */
const FLOWING_PACKETS = 3;
/** At most one video m-line swap (see swapVideo) per this long. */
const SWAP_GAP_MS = 3000;
/** While reconnecting through TURN: how often to check whether the TURN server
 * answers again (a throw-away allocation), to restart ICE the moment it does. */
const PROBE_MS = 400;
const PROBE_GAP_MS = 150;
/** After a restart (ours or the other side's), give it this long before a probe
 * success restarts again. */
const PROBE_RESTART_GAP_MS = 2000;

let signalNo = 0;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

function ufrag(sdp: string | null | undefined): string {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp ?? "");
  return m?.[1] ?? "";
}

function fingerprint(sdp: string | null | undefined): string {
  const m = /^a=fingerprint:(.+)$/m.exec(sdp ?? "");
  return m?.[1]?.trim() ?? "";
}

/** Only well-formed STUN/TURN entries from the server's answer, nothing added. */
export function toIceServers(raw: readonly unknown[]): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  for (const item of raw) {
    if (!item || typeof item !== "object") continue;
    const o = item as Record<string, unknown>;
    const list =
      typeof o["urls"] === "string" ? [o["urls"]] : Array.isArray(o["urls"]) ? o["urls"] : [];
    const urls = list.filter(
      (u): u is string => typeof u === "string" && /^(stun|turns?):/.test(u),
    );
    if (urls.length === 0) continue;
    const server: RTCIceServer = { urls };
    if (typeof o["username"] === "string") server.username = o["username"];
    if (typeof o["credential"] === "string") server.credential = o["credential"];
    out.push(server);
  }
  return out;
}

function deviceErrorOf(err: unknown): DeviceError {
  const name = err instanceof DOMException || err instanceof Error ? err.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "notfound";
  if (name === "NotReadableError" || name === "AbortError") return "busy";
  return "other";
}

export interface CallManagerOptions {
  client: VisavisClient;
  conversationId: string;
  role: Role;
}

export class CallManager extends EventTarget {
  readonly conversationId: string;
  readonly role: Role;
  readonly polite: boolean;
  private readonly client: VisavisClient;

  call: CallSummary | null = null;
  phase: Phase = "idle";
  link: LinkState = "connecting";
  /** WebSocket open and the conversation subscribed on it. */
  signalling = true;
  /** A call command is in flight (buttons disabled). */
  busy = false;
  /** Last refused command (error code) or "" . */
  error = "";
  /** Shown once after the caller's ringing timed out. */
  noAnswer = false;
  slow = false;

  // own media
  camTrack: MediaStreamTrack | null = null;
  micTrack: MediaStreamTrack | null = null;
  micMuted = false;
  localPreview: MediaStream | null = null;
  facing: "user" | "environment" = "user";
  cameras: MediaDeviceInfo[] = [];
  mics: MediaDeviceInfo[] = [];
  camDeviceId = "";
  micDeviceId = "";
  deviceError: DeviceError = "";
  /** What "Accept"/"Video call" turns on (advisers: what the call is for; customers: nothing). */
  wantAudio = false;
  wantVideo = false;
  micLevel = 0;

  // the other side
  remoteVideo: MediaStream | null = null;
  remoteVideoLive = false;
  remoteFlags: MediaFlags = { audio: false, video: false };
  audioBlocked = false;

  // pre-call check
  precheckOpen = false;
  check: ConnectionCheck = {
    result: "idle",
    servers: 0,
    turn: false,
    policy: "all",
    candidateTypes: [],
  };

  private pc: RTCPeerConnection | null = null;
  private pcCallId = "";
  private makingOffer = false;
  private ignoreOffer = false;
  private answerPending = false;
  private signalChain: Promise<void> = Promise.resolve();
  private everConnected = false;
  private wsDropped = false;
  private restartTimer = 0;
  private restartAttempts = 0;
  private lastRestartAt = 0;
  private offerTimer = 0;
  private politeTimer = 0;
  private slowTimer = 0;
  private refreshTimer = 0;
  private ringTimer = 0;
  private ice: IceConfig | null = null;
  private icePending: Promise<IceConfig | null> | null = null;
  private readonly seenRinging = new Set<string>();
  /** The call this tab asked for, accepted or took over: the one it holds. */
  private heldHere = "";
  /** A call.request of this tab is on its way (its call id comes with the summary). */
  private asking = false;
  private readonly mediaByCall = new Map<string, Partial<Record<Role, MediaFlags>>>();
  private audioEl: HTMLAudioElement | null = null;
  private audioCtx: AudioContext | null = null;
  private levelTimer = 0;
  private checkPc: RTCPeerConnection | null = null;
  private checkRun = 0;
  private userChoseDevices = false;
  /** getUserMedia started by "Accept", not finished yet. */
  private acquiring: Promise<void> | null = null;
  private mediaTimer = 0;
  private monitorTimer = 0;
  private inboundPackets = -1;
  private inboundChangedAt = 0;
  private expectingSince = 0;
  private stalled = false;
  private videoPaused = false;
  private swappedAt = 0;
  private probeTimer = 0;
  private probing = false;
  private probePc: RTCPeerConnection | null = null;
  private probeRestartAt = 0;
  private disposed = false;

  constructor(opts: CallManagerOptions) {
    super();
    this.client = opts.client;
    this.conversationId = opts.conversationId;
    this.role = opts.role;
    this.polite = opts.role === "customer";
    navigator.mediaDevices?.addEventListener?.("devicechange", this.onDeviceChange);
  }

  get other(): Role {
    return this.role === "customer" ? "adviser" : "customer";
  }

  /** What the user sees as the call's state. */
  get status(): LinkState {
    if (!this.signalling && this.phase === "active" && this.everConnected) return "reconnecting";
    return this.link;
  }

  get ownFlags(): MediaFlags {
    return { audio: !!this.micTrack && !this.micMuted, video: !!this.camTrack };
  }

  /** Whether this device probably has a front and a back camera (phones, tablets). */
  get canFlip(): boolean {
    return (
      this.cameras.length > 1 ||
      (navigator.maxTouchPoints > 0 && /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent))
    );
  }

  private changed(): void {
    if (!this.disposed) this.dispatchEvent(new Event("change"));
  }

  // ------------------------------------------------------------------ inputs from the app
  /** The conversation summary's `call` (from welcome, subscribed, conversation.update). */
  setCall(call: CallSummary | null | undefined): void {
    if (this.disposed) return;
    const next = call ?? null;
    if (this.call && (!next || next.id !== this.call.id)) this.endCall();
    this.call = next;
    if (!next) {
      this.phase = "idle";
      this.changed();
      return;
    }
    if (next.status === "ringing") {
      this.seenRinging.add(next.id);
      const phase: Phase = next.requested_by === this.role ? "outgoing" : "incoming";
      if (phase === "outgoing" && this.asking) {
        this.asking = false;
        this.heldHere = next.id;
      }
      if (this.phase !== phase) {
        this.phase = phase;
        this.enterRinging(next);
      }
    } else if (this.phase !== "active" && this.phase !== "elsewhere") {
      // A call that rang here but was asked for or accepted in another tab (or on
      // another device) stays there. One found running (a reload) is rejoined; if
      // another tab still holds it, the server answers with call.moved.
      if (this.seenRinging.has(next.id) && this.heldHere !== next.id) this.goElsewhere();
      else this.goActive(next.id, !this.seenRinging.has(next.id));
    }
    this.remoteFlags = this.flagsOf(next.id, this.other);
    this.changed();
  }

  /** Every durable event (call.media tells who sends what). */
  onEvent(ev: EventMsg): void {
    if (ev.kind !== "call.media") return;
    const callId = ev.body["call_id"];
    const role = ev.body["role"];
    if (typeof callId !== "string" || (role !== "customer" && role !== "adviser")) return;
    const entry = this.mediaByCall.get(callId) ?? {};
    entry[role] = { audio: ev.body["audio"] === true, video: ev.body["video"] === true };
    this.mediaByCall.set(callId, entry);
    if (this.call?.id === callId) {
      this.remoteFlags = this.flagsOf(callId, this.other);
      this.changed();
    }
  }

  onSignal(msg: RtcSignalOutMsg): void {
    if (msg.conversation_id !== this.conversationId || msg.from_role === this.role) return;
    this.signalChain = this.signalChain
      .then(() => this.handleSignal(msg))
      .catch((err: unknown) => console.warn("visavis call: signal", err));
  }

  /** Another tab or device of this side holds the call now. */
  onMoved(msg: CallMovedMsg): void {
    if (msg.conversation_id !== this.conversationId || msg.call_id !== this.call?.id) return;
    if (this.phase === "active") this.goElsewhere();
  }

  onConnState(state: ConnState): void {
    const up = state === "open";
    if (!up) {
      if (this.signalling) {
        this.signalling = false;
        this.wsDropped = true;
        this.changed();
      }
    }
    // "open" alone is not enough: signals reach us only once subscribed again.
  }

  /** The conversation is (re)subscribed on a live socket: signalling works again. */
  onSubscribed(call: CallSummary | null | undefined): void {
    this.signalling = true;
    this.setCall(call);
    if (this.wsDropped) {
      this.wsDropped = false;
      // The network may have changed under us (new address, dead pair): restart ICE
      // now rather than waiting for ICE to notice.
      const pc = this.pc;
      if (pc && this.phase === "active") {
        if (pc.connectionState !== "connected")
          this.link = this.everConnected ? "reconnecting" : "connecting";
        this.restartNow(pc);
      }
    }
    this.changed();
  }

  dispose(): void {
    this.endCall();
    this.disposed = true;
    navigator.mediaDevices?.removeEventListener?.("devicechange", this.onDeviceChange);
  }

  // ------------------------------------------------------------------ commands
  async request(media: Media): Promise<void> {
    if (this.phase !== "idle" || this.busy) return;
    this.busy = true;
    this.error = "";
    this.noAnswer = false;
    this.changed();
    if (this.role === "adviser") {
      // The adviser's click on "Video call" is the choice to turn the camera on.
      this.wantAudio = true;
      this.wantVideo = media === "video";
      await this.acquire(this.wantAudio, this.wantVideo);
    }
    this.asking = true;
    const a = await this.client.request({
      type: "call.request",
      conversation_id: this.conversationId,
      media,
    });
    this.busy = false;
    if (a.type === "error") this.asking = false;
    if (a.type === "error") {
      this.error = a.code;
      if (this.phase === "idle") this.releaseDevices();
    }
    this.changed();
  }

  async accept(): Promise<void> {
    const call = this.call;
    if (!call || this.phase !== "incoming" || this.busy) return;
    this.busy = true;
    this.error = "";
    this.changed();
    // Devices, the answer and the peer connection at once. The answer is on the
    // socket before any offer of ours (the server handles a socket's frames in order,
    // so the call is active when the offer arrives); the peer connection waits for the
    // devices (startSession), so its first offer already sends them.
    const devices = this.acquire(
      this.wantAudio && !this.micTrack,
      this.wantVideo && !this.camTrack,
    );
    this.acquiring = devices;
    const answer = this.client.request({
      type: "call.answer",
      conversation_id: this.conversationId,
      call_id: call.id,
      accept: true,
    });
    this.heldHere = call.id;
    this.goActive(call.id, false);
    const a = await answer;
    await devices;
    if (this.acquiring === devices) this.acquiring = null;
    this.busy = false;
    if (a.type === "error") {
      this.error = a.code;
      // Not accepted after all (cancelled meanwhile, or offline): the next summary
      // (conversation.update, or the one after resubscribing) says what is true.
      if (this.call?.id === call.id && (this.phase as Phase) === "active") {
        this.endCall();
        this.call = null;
      }
    }
    this.changed();
  }

  private goActive(callId: string, rejoin: boolean): void {
    this.phase = "active";
    this.precheckOpen = false;
    this.stopCheck();
    window.clearTimeout(this.ringTimer);
    void this.startSession(callId, rejoin);
  }

  /** The call runs in another tab or on another device of this side: stop here
   * (devices off), offer to move it here. */
  private goElsewhere(): void {
    const call = this.call;
    this.endCall();
    this.call = call;
    this.phase = "elsewhere";
    this.changed();
  }

  /** Move this side of the running call to this tab (`call.take`). */
  async take(): Promise<void> {
    const call = this.call;
    if (!call || this.phase !== "elsewhere" || this.busy) return;
    this.busy = true;
    this.error = "";
    this.changed();
    // "Move here" is a click: the devices this side sent with in the other tab (the
    // call.media log) come on here too, so the other side sees no change.
    const was = this.flagsOf(call.id, this.role);
    this.wantAudio = was.audio;
    this.wantVideo = was.video;
    const devices = this.acquire(was.audio && !this.micTrack, was.video && !this.camTrack);
    this.acquiring = devices;
    const a = await this.client.request({
      type: "call.take",
      conversation_id: this.conversationId,
      call_id: call.id,
    });
    await devices;
    if (this.acquiring === devices) this.acquiring = null;
    this.busy = false;
    if (a.type === "ack" && this.call?.id === call.id) {
      this.heldHere = call.id;
      // Both sides offer on a rejoin; the other side sees a new DTLS fingerprint and
      // rebuilds its peer connection for this tab.
      this.goActive(call.id, true);
    } else {
      if (a.type === "error") this.error = a.code;
      this.releaseDevices();
    }
    this.changed();
  }

  async decline(): Promise<void> {
    const call = this.call;
    if (!call || this.phase !== "incoming" || this.busy) return;
    await this.command({
      type: "call.answer",
      conversation_id: this.conversationId,
      call_id: call.id,
      accept: false,
    });
  }

  /** Hang up an active call, or cancel one still ringing. */
  async hangup(): Promise<void> {
    const call = this.call;
    if (!call || this.busy) return;
    await this.command({
      type: "call.hangup",
      conversation_id: this.conversationId,
      call_id: call.id,
    });
  }

  private async command(frame: Parameters<VisavisClient["request"]>[0]): Promise<void> {
    this.busy = true;
    this.error = "";
    this.changed();
    const a = await this.client.request(frame);
    this.busy = false;
    // invalid_state: the call changed meanwhile (the other side was quicker); the
    // summary update shows what happened.
    if (a.type === "error" && a.code !== "invalid_state") this.error = a.code;
    this.changed();
  }

  // ------------------------------------------------------------------ own devices
  async toggleCamera(): Promise<void> {
    this.userChoseDevices = true;
    if (this.camTrack) {
      this.wantVideo = false;
      this.setCamTrack(null);
      await this.localChanged();
    } else {
      this.wantVideo = true;
      await this.acquire(false, true);
    }
  }

  /** Microphone: first click turns it on; then mute / unmute (the device stays open). */
  async toggleMic(): Promise<void> {
    this.userChoseDevices = true;
    if (!this.micTrack) {
      this.wantAudio = true;
      this.micMuted = false;
      await this.acquire(true, false);
      return;
    }
    this.micMuted = !this.micMuted;
    this.micTrack.enabled = !this.micMuted;
    this.sendMediaState();
    this.changed();
  }

  async selectCamera(deviceId: string): Promise<void> {
    this.camDeviceId = deviceId;
    if (!this.camTrack) return;
    // Stop first: phones cannot open two cameras at once.
    this.setCamTrack(null, false);
    await this.acquire(false, true);
  }

  async selectMic(deviceId: string): Promise<void> {
    this.micDeviceId = deviceId;
    if (!this.micTrack) return;
    this.setMicTrack(null, false);
    await this.acquire(true, false);
  }

  /** Front ↔ back camera (facingMode); the new track replaces the old one in the call. */
  async flipCamera(): Promise<void> {
    this.facing = this.facing === "user" ? "environment" : "user";
    this.camDeviceId = "";
    if (!this.camTrack) return;
    this.setCamTrack(null, false);
    await this.acquire(false, true, true);
  }

  private videoConstraints(exactFacing: boolean): MediaTrackConstraints {
    const c: MediaTrackConstraints = {
      width: { ideal: 640 },
      height: { ideal: 480 },
      frameRate: { ideal: 30, max: 30 },
    };
    if (this.camDeviceId) c.deviceId = { exact: this.camDeviceId };
    else c.facingMode = exactFacing ? { exact: this.facing } : this.facing;
    return c;
  }

  private audioConstraints(): MediaTrackConstraints {
    const c: MediaTrackConstraints = {
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
    };
    if (this.micDeviceId) c.deviceId = { exact: this.micDeviceId };
    return c;
  }

  /** getUserMedia for what is asked (one prompt for both), then into the call. */
  private async acquire(audio: boolean, video: boolean, exactFacing = false): Promise<void> {
    if (!audio && !video) return;
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) {
      this.deviceError = "unsupported";
      this.changed();
      return;
    }
    const callAtStart = this.call?.id ?? null;
    let stream: MediaStream;
    try {
      stream = await md.getUserMedia({
        audio: audio ? this.audioConstraints() : false,
        video: video ? this.videoConstraints(exactFacing) : false,
      });
    } catch (err) {
      if (exactFacing && video) {
        // No camera facing that way: fall back to any camera.
        try {
          stream = await md.getUserMedia({ video: this.videoConstraints(false) });
        } catch (err2) {
          this.failDevice(err2, audio, video);
          return;
        }
      } else {
        this.failDevice(err, audio, video);
        return;
      }
    }
    // The call may have ended (or another started) while the browser asked.
    const stale = this.disposed || (callAtStart !== null && this.call?.id !== callAtStart);
    if (stale) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.deviceError = "";
    const a = stream.getAudioTracks()[0] ?? null;
    const v = stream.getVideoTracks()[0] ?? null;
    if (a) this.setMicTrack(a);
    if (v) this.setCamTrack(v);
    void this.refreshDevices();
    await this.localChanged();
  }

  private failDevice(err: unknown, audio: boolean, video: boolean): void {
    this.deviceError = deviceErrorOf(err);
    if (audio) this.wantAudio = false;
    if (video) this.wantVideo = false;
    this.changed();
  }

  private setCamTrack(track: MediaStreamTrack | null, notify = true): void {
    const old = this.camTrack;
    if (old && old !== track) old.stop();
    this.camTrack = track;
    this.localPreview = track ? new MediaStream([track]) : null;
    if (track) {
      const s = track.getSettings();
      if (s.deviceId) this.camDeviceId = s.deviceId;
      if (s.facingMode === "user" || s.facingMode === "environment") this.facing = s.facingMode;
      track.addEventListener("ended", () => {
        if (this.camTrack !== track) return;
        this.setCamTrack(null);
        void this.localChanged();
      });
    }
    if (notify) this.changed();
  }

  private setMicTrack(track: MediaStreamTrack | null, notify = true): void {
    const old = this.micTrack;
    if (old && old !== track) old.stop();
    this.micTrack = track;
    this.stopMeter();
    if (track) {
      track.enabled = !this.micMuted;
      const s = track.getSettings();
      if (s.deviceId) this.micDeviceId = s.deviceId;
      this.startMeter(track);
      track.addEventListener("ended", () => {
        if (this.micTrack !== track) return;
        this.setMicTrack(null);
        void this.localChanged();
      });
    }
    if (notify) this.changed();
  }

  private releaseDevices(): void {
    this.setCamTrack(null, false);
    this.setMicTrack(null, false);
    this.micMuted = false;
    this.micLevel = 0;
  }

  private async localChanged(): Promise<void> {
    const pc = this.pc;
    if (pc && this.phase === "active") await this.applyLocalTracks(pc);
    this.sendMediaState();
    this.changed();
  }

  private readonly onDeviceChange = (): void => {
    if (this.camTrack || this.micTrack) void this.refreshDevices();
  };

  async refreshDevices(): Promise<void> {
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return;
    try {
      const all = await md.enumerateDevices();
      this.cameras = all.filter((d) => d.kind === "videoinput" && d.deviceId);
      this.mics = all.filter((d) => d.kind === "audioinput" && d.deviceId);
      this.changed();
    } catch {
      /* keep the old lists */
    }
  }

  // microphone level (WebAudio AnalyserNode), read by the view
  private startMeter(track: MediaStreamTrack): void {
    const Ctx = window.AudioContext;
    if (!Ctx) return;
    try {
      const ctx = new Ctx();
      const source = ctx.createMediaStreamSource(new MediaStream([track]));
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      source.connect(analyser);
      const buf = new Float32Array(analyser.fftSize);
      this.audioCtx = ctx;
      this.levelTimer = window.setInterval(() => {
        if (ctx.state === "suspended") void ctx.resume();
        analyser.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const x of buf) sum += x * x;
        const rms = Math.sqrt(sum / buf.length);
        // roughly: speech at a normal distance fills a good part of the meter
        this.micLevel = track.enabled ? Math.min(1, rms * 5) : 0;
        this.dispatchEvent(new Event("level"));
      }, 100);
    } catch {
      this.stopMeter();
    }
  }

  private stopMeter(): void {
    window.clearInterval(this.levelTimer);
    this.levelTimer = 0;
    this.micLevel = 0;
    const ctx = this.audioCtx;
    this.audioCtx = null;
    if (ctx) void ctx.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------ call.media
  private flagsOf(callId: string, role: Role): MediaFlags {
    return this.mediaByCall.get(callId)?.[role] ?? { audio: false, video: false };
  }

  private sendMediaState(): void {
    const call = this.call;
    if (!call || this.phase !== "active") return;
    // Not while the peer connection is being set up (mediaTimer runs): the event is a
    // database write, and the server handles a socket's frames in order, so it would
    // hold up our offer (measured: ~20 ms of the set-up). Sent once connected, or
    // when the timer gives up waiting.
    if (!this.everConnected && this.mediaTimer) return;
    const now = this.ownFlags;
    const known = this.flagsOf(call.id, this.role);
    if (known.audio === now.audio && known.video === now.video) return;
    // Remember at once (the event confirms it), so quick toggles send each change once.
    const entry = this.mediaByCall.get(call.id) ?? {};
    entry[this.role] = now;
    this.mediaByCall.set(call.id, entry);
    void this.client.request({
      type: "call.media",
      conversation_id: this.conversationId,
      call_id: call.id,
      audio: now.audio,
      video: now.video,
    });
  }

  // ------------------------------------------------------------------ ringing & pre-call check
  private enterRinging(call: CallSummary): void {
    this.precheckOpen = true;
    this.noAnswer = false;
    if (this.role === "adviser" && !this.userChoseDevices && this.phase === "incoming") {
      // Accepting turns on what the call is for (the adviser can switch it off here).
      this.wantAudio = true;
      this.wantVideo = call.media === "video";
    }
    void this.runCheck();
    window.clearTimeout(this.ringTimer);
    if (this.phase === "outgoing") {
      const since = call.requested_at ? Date.now() - Date.parse(call.requested_at) : 0;
      const left = Math.max(5000, RING_TIMEOUT_MS - (Number.isFinite(since) ? since : 0));
      this.ringTimer = window.setTimeout(() => {
        if (this.call?.id === call.id && this.phase === "outgoing") {
          this.noAnswer = true;
          void this.hangup();
        }
      }, left);
    }
  }

  openPrecheck(): void {
    this.precheckOpen = true;
    if (this.check.result === "idle" || this.check.result === "error") void this.runCheck();
    this.changed();
  }

  skipPrecheck(): void {
    this.precheckOpen = false;
    this.stopCheck();
    this.changed();
  }

  /** Which candidates can this browser gather with the servers it was given? */
  async runCheck(): Promise<void> {
    const run = ++this.checkRun;
    this.stopCheck(false);
    this.check = { result: "running", servers: 0, turn: false, policy: "all", candidateTypes: [] };
    this.changed();
    const ice = await this.iceConfig(true);
    if (run !== this.checkRun || this.disposed) return;
    if (!ice) {
      this.check = { ...this.check, result: "error" };
      this.changed();
      return;
    }
    const turn = ice.iceServers.some((s) =>
      (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/.test(u)),
    );
    this.check = { ...this.check, servers: ice.iceServers.length, turn, policy: ice.policy };
    const types = new Set<string>();
    let pc: RTCPeerConnection;
    try {
      pc = new RTCPeerConnection({ iceServers: ice.iceServers, iceTransportPolicy: ice.policy });
    } catch {
      this.check = { ...this.check, result: "error" };
      this.changed();
      return;
    }
    this.checkPc = pc;
    const finished = new Promise<void>((resolve) => {
      const timer = window.setTimeout(resolve, CHECK_TIMEOUT_MS);
      pc.onicecandidate = (e) => {
        const c = e.candidate;
        if (!c) {
          window.clearTimeout(timer);
          resolve();
          return;
        }
        if (c.type) types.add(c.type);
        if (c.type === "relay") {
          window.clearTimeout(timer);
          resolve();
        }
      };
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === "complete") {
          window.clearTimeout(timer);
          resolve();
        }
      };
    });
    try {
      pc.createDataChannel("check");
      await pc.setLocalDescription();
      await finished;
    } catch {
      /* reported below by what was found */
    }
    pc.close();
    if (this.checkPc === pc) this.checkPc = null;
    if (run !== this.checkRun || this.disposed) return;
    const result: CheckResult = !turn ? "none" : types.has("relay") ? "relay" : "no-relay";
    this.check = { ...this.check, result, candidateTypes: [...types].sort() };
    this.changed();
  }

  private stopCheck(bump = true): void {
    if (bump) this.checkRun += 1;
    this.checkPc?.close();
    this.checkPc = null;
    if (bump && this.check.result === "running") this.check = { ...this.check, result: "idle" };
  }

  // ------------------------------------------------------------------ ICE servers
  /** The servers from `ice.servers`, cached while at least half their lifetime is left. */
  private iceConfig(force = false): Promise<IceConfig | null> {
    const c = this.ice;
    if (!force && c && Date.now() - c.fetchedAt < c.ttlS * 500) return Promise.resolve(c);
    if (this.icePending) return this.icePending;
    const pending = (async (): Promise<IceConfig | null> => {
      for (let attempt = 0; attempt < 3 && !this.disposed; attempt += 1) {
        const a = await this.client.request({
          type: "ice.request",
          conversation_id: this.conversationId,
        });
        if (a.type === "ice.servers") {
          const cfg: IceConfig = {
            iceServers: toIceServers(a.ice_servers),
            policy: a.ice_transport_policy === "relay" ? "relay" : "all",
            ttlS: a.ttl_s > 0 ? a.ttl_s : 600,
            fetchedAt: Date.now(),
          };
          this.ice = cfg;
          return cfg;
        }
        if (
          a.type === "error" &&
          a.code !== "disconnected" &&
          a.code !== "timeout" &&
          a.code !== "rate_limited"
        )
          break;
        await sleep(1000);
      }
      return null;
    })();
    this.icePending = pending;
    void pending.finally(() => {
      if (this.icePending === pending) this.icePending = null;
    });
    return pending;
  }

  private scheduleRefresh(): void {
    window.clearTimeout(this.refreshTimer);
    const ttl = this.ice?.ttlS ?? 600;
    this.refreshTimer = window.setTimeout(
      () => void this.refreshIce(),
      Math.max(30, ttl * 0.8) * 1000,
    );
  }

  /** New TURN credentials before the old expire; an ICE restart makes them used. */
  private async refreshIce(): Promise<void> {
    const ice = await this.iceConfig(true);
    const pc = this.pc;
    if (!pc || this.phase !== "active") return;
    if (ice) {
      try {
        pc.setConfiguration({
          ...pc.getConfiguration(),
          iceServers: ice.iceServers,
          iceTransportPolicy: ice.policy,
        });
        if (
          ice.iceServers.some((s) =>
            (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/.test(u)),
          )
        ) {
          this.restartNow(pc);
        }
      } catch (err) {
        console.warn("visavis call: setConfiguration", err);
      }
    }
    this.scheduleRefresh();
  }

  // ------------------------------------------------------------------ the peer connection
  private async startSession(callId: string, rejoin: boolean): Promise<void> {
    this.link = "connecting";
    this.everConnected = false;
    // Who sends what (call.media) waits for the connection, at most a few seconds.
    window.clearTimeout(this.mediaTimer);
    this.mediaTimer = window.setTimeout(() => {
      this.mediaTimer = 0;
      this.sendMediaState();
    }, 3000);
    this.slow = false;
    window.clearTimeout(this.slowTimer);
    this.slowTimer = window.setTimeout(() => {
      if (this.call?.id === callId && !this.everConnected) {
        this.slow = true;
        this.changed();
      }
    }, SLOW_CONNECT_MS);
    let ice: IceConfig | null = null;
    while (!ice) {
      ice = await this.iceConfig();
      if (this.disposed || this.call?.id !== callId || this.phase !== "active") return;
      if (!ice) await sleep(1000);
    }
    if (this.acquiring) await this.acquiring;
    if (this.disposed || this.call?.id !== callId || this.phase !== "active") return;
    if (this.pc && this.pcCallId === callId) return; // a signal created it meanwhile
    // Customers offer themselves only when rejoining a call that is already running
    // (their page was reloaded); normally the adviser's offer comes.
    this.createPc(ice, callId, !this.polite || rejoin);
    this.changed();
  }

  private createPc(ice: IceConfig, callId: string, offer: boolean): RTCPeerConnection {
    this.closePc();
    const pc = new RTCPeerConnection({
      iceServers: ice.iceServers,
      iceTransportPolicy: ice.policy,
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
    });
    this.pc = pc;
    this.pcCallId = callId;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.answerPending = false;
    window.__visavisCall = { pc };
    pc.onnegotiationneeded = () => void this.negotiate(pc);
    pc.onicecandidate = (e) => {
      if (pc !== this.pc || !e.candidate || !e.candidate.candidate) return;
      const c = e.candidate.toJSON();
      const candidate: IceCandidate = { candidate: c.candidate ?? "" };
      if (c.sdpMid != null) candidate.sdpMid = c.sdpMid;
      if (c.sdpMLineIndex != null) candidate.sdpMLineIndex = c.sdpMLineIndex;
      if (c.usernameFragment != null) candidate.usernameFragment = c.usernameFragment;
      this.signal({ candidate });
    };
    pc.ontrack = (e) => this.onTrack(pc, e);
    pc.onconnectionstatechange = () => this.onPcState(pc);
    this.startMonitor(pc);
    if (offer) {
      this.addTransceivers(pc);
      // Offer now rather than when `negotiationneeded` gets its turn after rendering;
      // the event then finds nothing left to negotiate.
      void this.negotiate(pc);
    } else {
      window.clearTimeout(this.politeTimer);
      this.politeTimer = window.setTimeout(() => {
        if (pc === this.pc && !pc.remoteDescription && pc.getTransceivers().length === 0) {
          this.addTransceivers(pc);
          void this.negotiate(pc);
        }
      }, POLITE_WAIT_MS);
    }
    this.scheduleRefresh();
    return pc;
  }

  /** One audio and one video m-line: sending what is on, receiving in any case. */
  private addTransceivers(pc: RTCPeerConnection): void {
    const mic = this.micTrack;
    const cam = this.camTrack;
    pc.addTransceiver(mic ?? "audio", { direction: mic ? "sendrecv" : "recvonly" });
    pc.addTransceiver(cam ?? "video", { direction: cam ? "sendrecv" : "recvonly" });
  }

  private transceiverFor(pc: RTCPeerConnection, kind: Media): RTCRtpTransceiver | null {
    const list = pc
      .getTransceivers()
      .filter(
        (t) =>
          t.direction !== "stopped" &&
          t.currentDirection !== "stopped" &&
          t.receiver.track.kind === kind,
      );
    return list.find((t) => t.mid !== null) ?? list[0] ?? null;
  }

  /** Own tracks onto the senders (replaceTrack: no renegotiation for switching or
   * turning off); the first track of a kind makes its transceiver sendrecv. */
  private applyLocalTracks(pc: RTCPeerConnection): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const kind of ["audio", "video"] as const) {
      const tr = this.transceiverFor(pc, kind);
      if (!tr) continue;
      const track = kind === "audio" ? this.micTrack : this.camTrack;
      // The direction is set at once (it goes into the next offer/answer); the track
      // swap runs beside the negotiation.
      if (track && tr.direction !== "sendrecv") tr.direction = "sendrecv";
      if (tr.sender.track !== track) {
        pending.push(
          tr.sender
            .replaceTrack(track)
            .catch((err: unknown) => console.warn("visavis call: replaceTrack", err)),
        );
      }
    }
    return Promise.all(pending).then(() => undefined);
  }

  private signal(body: { description?: SessionDescription; candidate?: IceCandidate }): boolean {
    const call = this.call;
    if (!call) return false;
    signalNo += 1;
    const sent = this.client.send({
      type: "rtc.signal",
      id: `rtc-${signalNo}`,
      conversation_id: this.conversationId,
      call_id: call.id,
      ...body,
    });
    // Lost while signalling is down: the restart after resubscribing renegotiates.
    if (!sent) this.wsDropped = true;
    return sent;
  }

  private async negotiate(pc: RTCPeerConnection): Promise<void> {
    if (pc !== this.pc || this.makingOffer) return;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      const d = pc.localDescription;
      if (pc === this.pc && d && d.type === "offer") {
        this.signal({ description: { type: "offer", sdp: d.sdp } });
        this.armOfferTimer(pc);
      }
    } catch (err) {
      console.warn("visavis call: offer", err);
    } finally {
      this.makingOffer = false;
    }
  }

  private armOfferTimer(pc: RTCPeerConnection): void {
    window.clearTimeout(this.offerTimer);
    this.offerTimer = window.setTimeout(() => {
      if (pc !== this.pc || pc.signalingState !== "have-local-offer") return;
      // No answer: the offer (or the answer) was lost. Start over.
      void pc
        .setLocalDescription({ type: "rollback" })
        .then(() => pc.restartIce())
        .catch((err: unknown) => console.warn("visavis call: rollback", err));
    }, OFFER_TIMEOUT_MS);
  }

  private async handleSignal(msg: RtcSignalOutMsg): Promise<void> {
    const call = this.call;
    if (!call || msg.call_id !== call.id || this.phase !== "active") return;
    let pc = this.pc;
    if (!pc || this.pcCallId !== call.id) {
      const ice = await this.iceConfig();
      if (!ice || this.call?.id !== call.id || this.phase !== "active") return;
      pc = this.pc && this.pcCallId === call.id ? this.pc : this.createPc(ice, call.id, false);
    }
    const desc = msg.description;
    if (desc) {
      if (
        desc.type === "offer" &&
        pc.remoteDescription &&
        fingerprint(pc.remoteDescription.sdp) !== fingerprint(desc.sdp)
      ) {
        // The other side started a new peer connection (it reloaded): so do we.
        const ice = this.ice;
        if (!ice) return;
        pc = this.createPc(ice, call.id, false);
        this.link = this.everConnected ? "reconnecting" : "connecting";
      }
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
      if (desc.type === "offer") {
        // Answering an offer restarts ICE as much as our own restart would: do not
        // start another right after (it would throw this one's progress away).
        this.lastRestartAt = Date.now();
        this.probeRestartAt = Date.now();
        // Our own never-negotiated transceivers (from an offer of ours that lost the
        // collision) would become extra m-lines: the offer's lines are used instead.
        if (this.polite)
          for (const t of pc.getTransceivers())
            if (t.mid === null && t.direction !== "stopped") t.stop();
        window.clearTimeout(this.politeTimer);
        const tracks = this.applyLocalTracks(pc);
        await pc.setLocalDescription();
        const d = pc.localDescription;
        if (pc === this.pc && d) this.signal({ description: { type: "answer", sdp: d.sdp } });
        await tracks;
        // An offer during an outage may bring a fresh video line: it must not send
        // into the void either (a sender that does, drags the bandwidth estimate down
        // to its minimum, and video would come back at a few frames per second).
        if (this.videoPaused && pc === this.pc) await this.setVideoSending(pc, false);
        // The other side restarted ICE after an outage: fresh video too (one more offer).
        if (remoteRestart && pc === this.pc && pc.signalingState === "stable") this.swapVideo(pc);
      } else if (desc.type === "answer") {
        window.clearTimeout(this.offerTimer);
      }
    } else if (msg.candidate) {
      try {
        await pc.addIceCandidate(msg.candidate);
      } catch (err) {
        if (!this.ignoreOffer) console.warn("visavis call: candidate", err);
      }
    }
  }

  private onTrack(pc: RTCPeerConnection, e: RTCTrackEvent): void {
    if (pc !== this.pc) return;
    const track = e.track;
    const update = (): void => {
      if (track.kind === "video" && this.remoteVideo?.getVideoTracks()[0] === track) {
        this.remoteVideoLive = !track.muted && track.readyState === "live";
        this.changed();
      }
    };
    track.addEventListener("mute", update);
    track.addEventListener("unmute", update);
    track.addEventListener("ended", update);
    if (track.kind === "video") {
      this.remoteVideo = new MediaStream([track]);
      this.remoteVideoLive = !track.muted;
    } else {
      this.playAudio(track);
    }
    this.changed();
  }

  /** Remote sound plays from an element the manager owns: it goes on while an adviser
   * looks at another conversation (the view only shows video, muted). */
  private playAudio(track: MediaStreamTrack): void {
    if (!this.audioEl) {
      this.audioEl = document.createElement("audio");
      this.audioEl.autoplay = true;
    }
    this.audioEl.srcObject = new MediaStream([track]);
    this.audioEl.play().then(
      () => {
        this.audioBlocked = false;
        this.changed();
      },
      () => {
        // Autoplay refused (no user gesture yet): the view offers a button.
        this.audioBlocked = true;
        this.changed();
      },
    );
  }

  enableAudio(): void {
    void this.audioEl?.play().then(() => {
      this.audioBlocked = false;
      this.changed();
    });
  }

  private onPcState(pc: RTCPeerConnection): void {
    if (pc !== this.pc) return;
    switch (pc.connectionState) {
      case "connected":
        if (!this.everConnected) {
          this.everConnected = true;
          window.clearTimeout(this.mediaTimer);
          this.mediaTimer = 0;
          this.sendMediaState();
        }
        this.slow = false;
        if (!this.stalled) this.recovered();
        break;
      case "disconnected":
      case "failed":
        this.link = this.everConnected ? "reconnecting" : "connecting";
        // At once: the old pair is gone (or going); a restart gathers afresh and keeps
        // media on the old pair should it come back meanwhile.
        this.restartNow(pc);
        this.startProbe();
        break;
      case "new":
      case "connecting":
        this.link = this.everConnected ? "reconnecting" : "connecting";
        if (!this.everConnected) this.scheduleRestart(SLOW_CONNECT_MS);
        break;
      default:
        break;
    }
    this.changed();
  }

  private recovered(): void {
    const pc = this.pc;
    if (this.videoPaused && pc) void this.setVideoSending(pc, true);
    this.link = "connected";
    this.restartAttempts = 0;
    window.clearTimeout(this.restartTimer);
    this.restartTimer = 0;
    this.stopProbe();
  }

  /** While the path is down our encoder would queue video that then arrives late
   * and in a burst (the receiver holds such frames for seconds), and sending without
   * feedback collapses the bandwidth estimate (measured: 30 kbit/s, 3 frames/s for
   * seconds after the path was back): pause it until the path is back; resuming
   * starts with a key frame. */
  private async setVideoSending(pc: RTCPeerConnection, on: boolean): Promise<void> {
    this.videoPaused = !on;
    const sender = this.transceiverFor(pc, "video")?.sender;
    if (!sender) return;
    try {
      const p = sender.getParameters();
      if (!p.encodings?.length || p.encodings.every((e) => e.active === on)) return;
      for (const e of p.encodings) e.active = on;
      await sender.setParameters(p);
    } catch (err) {
      console.warn("visavis call: pause video", err);
    }
  }

  // ------------------------------------------------------------------ stall detection
  private startMonitor(pc: RTCPeerConnection): void {
    window.clearTimeout(this.monitorTimer);
    this.inboundPackets = -1;
    this.inboundChangedAt = Date.now();
    this.expectingSince = 0;
    this.stalled = false;
    const tick = (): void => {
      this.monitorTimer = window.setTimeout(
        () => {
          void this.monitor(pc).finally(() => {
            if (pc === this.pc && this.monitorTimer) tick();
          });
        },
        this.stalled ? MONITOR_STALLED_MS : MONITOR_MS,
      );
    };
    tick();
  }

  /** Media from the other side stopped although it says it sends: show it and
   * restart ICE now, not when ICE gives up on the pair (seconds later). */
  private async monitor(pc: RTCPeerConnection): Promise<void> {
    let packets = 0;
    try {
      const report = await pc.getStats();
      report.forEach((s: { type?: string; packetsReceived?: number }) => {
        if (s.type === "inbound-rtp") packets += s.packetsReceived ?? 0;
      });
    } catch {
      return;
    }
    if (pc !== this.pc) return;
    const now = Date.now();
    const expecting = this.everConnected && (this.remoteFlags.audio || this.remoteFlags.video);
    if (!expecting) this.expectingSince = 0;
    else if (!this.expectingSince) this.expectingSince = now;
    if (packets < this.inboundPackets) {
      // Stats entries come and go with renegotiation: a new baseline, not media.
      this.inboundPackets = packets;
      return;
    }
    if (packets >= this.inboundPackets + FLOWING_PACKETS || this.inboundPackets < 0) {
      this.inboundPackets = packets;
      this.inboundChangedAt = now;
      if (this.stalled) {
        this.stalled = false;
        if (pc.connectionState === "connected") this.recovered();
        this.changed();
      }
      return;
    }
    const quietFor = now - Math.max(this.inboundChangedAt, this.expectingSince);
    if (expecting && !this.stalled && quietFor >= STALL_MS && this.phase === "active") {
      this.stalled = true;
      this.link = "reconnecting";
      this.changed();
      void this.setVideoSending(pc, false);
      this.restartNow(pc);
      this.startProbe();
    }
  }

  /** A fresh video m-line for an ICE restart after an outage (impolite side only, so
   * there is one). Chromium holds the first frames after an outage for up to 3 s:
   * video queued during the outage arrives in a burst with old timestamps, and the
   * receiver then schedules the new frames seconds ahead. A new transceiver means new
   * SSRCs in both directions (the polite side moves its camera onto it when answering):
   * old packets go to a stream that is gone, the new ones start with a key frame. */
  private swapVideo(pc: RTCPeerConnection): void {
    if (this.polite || Date.now() - this.swappedAt < SWAP_GAP_MS) return;
    const old = this.transceiverFor(pc, "video");
    if (!old || old.mid === null) return;
    if (!this.camTrack && !this.remoteFlags.video && !this.remoteVideo) return; // no video
    this.swappedAt = Date.now();
    old.stop();
    const cam = this.camTrack;
    // Paused like the old one while the path is down (see setVideoSending).
    pc.addTransceiver(cam ?? "video", {
      direction: cam ? "sendrecv" : "recvonly",
      sendEncodings: [{ active: !this.videoPaused }],
    });
  }

  // ------------------------------------------------------------------ TURN probe
  private startProbe(): void {
    if (this.probing || !this.ice) return;
    const hasTurn = this.ice.iceServers.some((s) =>
      (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/.test(u)),
    );
    if (!hasTurn) return; // direct paths: ICE keeps checking the pair by itself
    this.probing = true;
    const tick = (): void => {
      if (this.probing)
        this.probeTimer = window.setTimeout(() => void this.probe().then(tick), PROBE_GAP_MS);
    };
    tick();
  }

  private stopProbe(): void {
    this.probing = false;
    window.clearTimeout(this.probeTimer);
    this.probeTimer = 0;
    this.probePc?.close();
    this.probePc = null;
  }

  /** One relay allocation attempt; when it works the TURN server is back: restart. */
  private async probe(): Promise<void> {
    const ice = this.ice;
    const pc = this.pc;
    if (!ice || !pc || this.link !== "reconnecting") {
      this.stopProbe();
      return;
    }
    let probe: RTCPeerConnection;
    try {
      probe = new RTCPeerConnection({ iceServers: ice.iceServers, iceTransportPolicy: "relay" });
    } catch {
      return;
    }
    this.probePc = probe;
    const relay = await new Promise<boolean>((resolve) => {
      const timer = window.setTimeout(() => resolve(false), PROBE_MS);
      probe.onicecandidate = (e) => {
        if (e.candidate?.type === "relay") {
          window.clearTimeout(timer);
          resolve(true);
        }
      };
      probe.createDataChannel("probe");
      probe.setLocalDescription().catch(() => resolve(false));
    });
    probe.close();
    if (this.probePc === probe) this.probePc = null;
    if (!this.probing || pc !== this.pc || this.link !== "reconnecting") return;
    // Reachable again: a fresh restart gets a new allocation at once (one earlier
    // attempt may still be waiting for a retransmission).
    if (relay && Date.now() - this.probeRestartAt > PROBE_RESTART_GAP_MS) {
      this.probeRestartAt = Date.now();
      this.lastRestartAt = 0;
      this.restartNow(pc);
    }
  }

  private restartNow(pc: RTCPeerConnection): void {
    // Not more often than every MIN_RESTART_GAP_MS: an attempt needs time to gather.
    const wait = this.lastRestartAt + MIN_RESTART_GAP_MS - Date.now();
    window.clearTimeout(this.restartTimer);
    this.restartTimer = 0;
    if (wait > 0) this.scheduleRestart(wait);
    else this.restart(pc);
  }

  private scheduleRestart(delayMs: number): void {
    if (this.restartTimer) return;
    this.restartTimer = window.setTimeout(() => {
      this.restartTimer = 0;
      const pc = this.pc;
      if (pc && (pc.connectionState !== "connected" || this.stalled)) this.restart(pc);
    }, delayMs);
  }

  /** ICE restart through perfect negotiation; repeated with back-off until connected. */
  private restart(pc: RTCPeerConnection): void {
    if (pc !== this.pc || this.phase !== "active") return;
    if (!this.signalling) {
      // Nobody would hear the offer: done after resubscribing (onSubscribed).
      this.wsDropped = true;
      return;
    }
    if (pc.signalingState === "have-local-offer" && !this.makingOffer) {
      void pc
        .setLocalDescription({ type: "rollback" })
        .then(() => {
          this.swapVideo(pc);
          pc.restartIce();
        })
        .catch((err: unknown) => console.warn("visavis call: rollback", err));
    } else {
      if (pc.signalingState === "stable") this.swapVideo(pc);
      pc.restartIce();
    }
    this.restartAttempts += 1;
    this.lastRestartAt = Date.now();
    // Each attempt gathers anew (a TURN allocation retried by the browser meanwhile):
    // give it time before the next, more as the outage goes on.
    this.scheduleRestart(Math.min(8000, 2000 + 1000 * this.restartAttempts));
  }

  private closePc(): void {
    const pc = this.pc;
    this.pc = null;
    this.pcCallId = "";
    window.clearTimeout(this.offerTimer);
    window.clearTimeout(this.politeTimer);
    window.clearTimeout(this.restartTimer);
    this.restartTimer = 0;
    this.restartAttempts = 0;
    this.lastRestartAt = 0;
    window.clearTimeout(this.monitorTimer);
    this.monitorTimer = 0;
    this.stalled = false;
    this.videoPaused = false;
    this.stopProbe();
    if (pc) {
      pc.onnegotiationneeded = null;
      pc.onicecandidate = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
      if (window.__visavisCall?.pc === pc) delete window.__visavisCall;
    }
    this.remoteVideo = null;
    this.remoteVideoLive = false;
  }

  /** The call is over (or replaced): back to text, devices off. */
  private endCall(): void {
    this.closePc();
    this.stopCheck();
    window.clearTimeout(this.ringTimer);
    window.clearTimeout(this.slowTimer);
    window.clearTimeout(this.refreshTimer);
    window.clearTimeout(this.mediaTimer);
    this.mediaTimer = 0;
    this.acquiring = null;
    this.releaseDevices();
    if (this.audioEl) {
      this.audioEl.pause();
      this.audioEl.srcObject = null;
    }
    this.audioBlocked = false;
    this.precheckOpen = false;
    this.wantAudio = false;
    this.wantVideo = false;
    this.userChoseDevices = false;
    this.deviceError = "";
    this.link = "connecting";
    this.everConnected = false;
    this.slow = false;
    this.remoteFlags = { audio: false, video: false };
    this.check = { result: "idle", servers: 0, turn: false, policy: "all", candidateTypes: [] };
    this.phase = "idle";
  }
}
