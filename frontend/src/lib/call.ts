// Audio/video calls inside a conversation, the logic both apps share.
//
// One CallManager per conversation an app shows: it follows the conversation
// summary's `call` (null → ringing → active → null), runs the call commands, and
// ties together the units under call/, each with one job and its own timers:
// devices.ts (own camera and microphone), precheck.ts (pre-call check),
// ice-cache.ts (ICE servers, TURN credential renewal), connection.ts (the peer
// connection and its recovery: negotiation.ts, stall-monitor.ts, turn-probe.ts,
// restart-policy.ts), media-state.ts (who sends what), remote-media.ts (the other
// side's video, screen and sound), screen.ts (own screen share). The view
// (call-view.ts, and the room's stage) only renders the state.
//
// Gentle start: getUserMedia only on a click that turns a device on (customers: the
// camera/microphone buttons; advisers also "Accept"/"Video call", which turn on what
// the call is for). Without own devices a side still receives. A screen share,
// also only on a click, runs inside a call; without one, the click asks for a call
// of media "screen" (no camera, no microphone) and the share starts once accepted.
import { CallConnection } from "./call/connection";
import { LocalDevices } from "./call/devices";
import { IceCache } from "./call/ice-cache";
import { MediaState } from "./call/media-state";
import type { Signal } from "./call/negotiation";
import { PreCallCheck } from "./call/precheck";
import { CallRecording } from "./call/recording";
import { RemoteMedia } from "./call/remote-media";
import { canShareScreen, ScreenShare, shareWasTheCall } from "./call/screen";
import type { IceConfig, LinkState, Media, MediaFlags, Phase, Role, Timer } from "./call/types";
import type { CallMovedMsg, CallSummary, EventMsg, RtcSignalOutMsg } from "./protocol.gen";
import type { ConnState, VisavisClient } from "./ws";

export type {
  CheckResult,
  ConnectionCheck,
  DeviceError,
  LinkState,
  Media,
  MediaFlags,
  Phase,
  Role,
} from "./call/types";
export { toIceServers } from "./call/ice-cache";
export { canShareScreen } from "./call/screen";

const RING_TIMEOUT_MS = 60_000;
/** No ICE servers yet: ask again after this long. */
const ICE_RETRY_MS = 1000;

let signalNo = 0;

export interface CallManagerOptions {
  client: VisavisClient;
  conversationId: string;
  role: Role;
}

export class CallManager extends EventTarget {
  readonly conversationId: string;
  readonly role: Role;
  readonly polite: boolean;
  /** The conversation's socket (the views' video pointer sends and listens on it). */
  readonly client: VisavisClient;

  call: CallSummary | null = null;
  phase: Phase = "idle";
  /** WebSocket open and the conversation subscribed on it. */
  signalling = true;
  /** A call command is in flight (buttons disabled). */
  busy = false;
  /** Last refused command (error code) or "" . */
  error = "";
  /** Shown once after the caller's ringing timed out. */
  noAnswer = false;
  precheckOpen = false;
  /** What the other side says it sends. */
  remoteFlags: MediaFlags = { audio: false, video: false };

  /** Recording the call: consent steps and the send-only connection to the recorder. */
  readonly recording: CallRecording;
  private readonly devices: LocalDevices;
  private readonly screen = new ScreenShare({
    changed: () => void this.screenChanged(),
    stopped: () => this.screenStopped(),
  });
  private readonly remote = new RemoteMedia(() => this.changed());
  private readonly media: MediaState;
  private readonly ice: IceCache;
  private readonly precheck: PreCallCheck;
  private readonly connection: CallConnection;
  private signalChain: Promise<void> = Promise.resolve();
  private ringTimer: Timer;
  private readonly seenRinging = new Set<string>();
  /** The call this tab asked for, accepted or took over: the one it holds. */
  private heldHere = "";
  /** A call.request of this tab is on its way (its call id comes with the summary). */
  private asking = false;
  /** getUserMedia started by "Accept", not finished yet. */
  private acquiring: Promise<void> | null = null;
  private disposed = false;

  constructor(opts: CallManagerOptions) {
    super();
    this.client = opts.client;
    this.conversationId = opts.conversationId;
    this.role = opts.role;
    this.polite = opts.role === "customer";
    this.devices = new LocalDevices({
      changed: () => this.changed(),
      level: () => this.dispatchEvent(new Event("level")),
      tracksChanged: () => this.localChanged(),
      mutedChanged: () => {
        this.sendMediaState();
        this.changed();
      },
      callId: () => this.call?.id ?? null,
    });
    this.recording = new CallRecording({
      client: this.client,
      conversationId: this.conversationId,
      role: this.role,
      tracks: () => ({ mic: this.devices.micTrack, cam: this.devices.camTrack }),
      holdsCall: () => this.phase === "active" && this.call !== null,
      changed: () => this.changed(),
    });
    this.media = new MediaState(this.role, {
      send: (callId, flags) =>
        void this.client.request({
          type: "call.media",
          conversation_id: this.conversationId,
          call_id: callId,
          audio: flags.audio,
          video: flags.video,
          screen: !!flags.screen,
        }),
      due: () => this.sendMediaState(),
    });
    this.ice = new IceCache({
      fetch: () =>
        this.client.request({ type: "ice.request", conversation_id: this.conversationId }),
      renewed: (config) => this.connection.renewed(config),
    });
    this.precheck = new PreCallCheck({
      ice: () => this.ice.get(true),
      changed: () => this.changed(),
    });
    this.connection = new CallConnection(this.polite, this.ice, {
      active: () => this.phase === "active",
      holds: (callId) => this.call?.id === callId && this.phase === "active",
      signalling: () => this.signalling,
      send: (signal) => this.signal(signal),
      mic: () => this.devices.micTrack,
      cam: () => this.devices.camTrack,
      screen: () => this.screen.track,
      remoteScreen: (track) => this.remote.addScreen(track),
      remoteFlags: () => this.remoteFlags,
      remoteVideo: () => !!this.remote.video,
      track: (track) => this.remote.add(track),
      closed: () => this.remote.clearVideo(),
      connected: () => {
        this.media.release();
        this.sendMediaState();
      },
      changed: () => this.changed(),
    });
    this.devices.start();
  }

  get other(): Role {
    return this.role === "customer" ? "adviser" : "customer";
  }

  get link(): LinkState {
    return this.connection.link;
  }

  /** Not connected for a while after the start (the view says so). */
  get slow(): boolean {
    return this.connection.slow;
  }

  /** What the user sees as the call's state. */
  get status(): LinkState {
    const c = this.connection;
    if (!this.signalling && this.phase === "active" && c.everConnected) return "reconnecting";
    return c.link;
  }

  // What the view shows, kept by the units.
  get camTrack() {
    return this.devices.camTrack;
  }
  get micTrack() {
    return this.devices.micTrack;
  }
  get micMuted() {
    return this.devices.micMuted;
  }
  get micLevel() {
    return this.devices.micLevel;
  }
  get localPreview() {
    return this.devices.localPreview;
  }
  get facing() {
    return this.devices.facing;
  }
  get cameras() {
    return this.devices.cameras;
  }
  get mics() {
    return this.devices.mics;
  }
  get camDeviceId() {
    return this.devices.camDeviceId;
  }
  get micDeviceId() {
    return this.devices.micDeviceId;
  }
  get deviceError() {
    return this.devices.deviceError;
  }
  get wantAudio() {
    return this.devices.wantAudio;
  }
  get wantVideo() {
    return this.devices.wantVideo;
  }
  get ownFlags() {
    return this.devices.flags;
  }
  /** Whether this device probably has a front and a back camera (phones, tablets). */
  get canFlip() {
    return this.devices.canFlip;
  }
  get remoteVideo() {
    return this.remote.video;
  }
  get remoteVideoLive() {
    return this.remote.videoLive;
  }
  get audioBlocked() {
    return this.remote.audioBlocked;
  }
  get check() {
    return this.precheck.check;
  }
  /** This browser can share a screen (the buttons are hidden otherwise). */
  get canShareScreen(): boolean {
    return canShareScreen();
  }
  /** Own screen share (the sharer's indicator and preview). */
  get screenTrack() {
    return this.screen.track;
  }
  get screenPreview() {
    return this.screen.preview;
  }
  /** The other side's screen share, while it is on (their word and frames). */
  get remoteScreen(): MediaStream | null {
    return this.remote.screen && this.remote.screenLive && this.remoteFlags.screen
      ? this.remote.screen
      : null;
  }
  /** What this side sends (call.media). */
  private get sending(): MediaFlags {
    return { ...this.devices.flags, screen: this.screen.on };
  }

  private changed(): void {
    if (this.disposed) return;
    this.recording.queueSync(); // the call's phase or own tracks may have changed
    this.dispatchEvent(new Event("change"));
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
    this.remoteFlags = this.media.flagsOf(next.id, this.other);
    this.changed();
  }

  /** Every durable event (call.media tells who sends what). */
  onEvent(ev: EventMsg): void {
    this.recording.onEvent(ev);
    const callId = this.media.record(ev);
    if (callId !== null && this.call?.id === callId) {
      this.remoteFlags = this.media.flagsOf(callId, this.other);
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
    // "open" alone is not enough: signals reach us only once subscribed again.
    if (state === "open" || !this.signalling) return;
    this.signalling = false;
    this.connection.signallingLost();
    this.changed();
  }

  /** The conversation is (re)subscribed on a live socket: signalling works again. */
  onSubscribed(call: CallSummary | null | undefined): void {
    this.signalling = true;
    this.setCall(call);
    this.connection.resubscribed();
    this.changed();
  }

  dispose(): void {
    this.recording.close();
    this.endCall();
    this.disposed = true;
    this.devices.stop();
    this.ice.stop();
  }

  // ------------------------------------------------------------------ commands
  async request(media: Media): Promise<void> {
    if (this.phase !== "idle" || this.busy) return;
    this.busy = true;
    this.error = "";
    this.noAnswer = false;
    this.changed();
    if (this.role === "adviser" && media !== "screen") {
      // The adviser's click on "Video call" is the choice to turn the camera on.
      this.devices.wantAudio = true;
      this.devices.wantVideo = media === "video";
      await this.devices.acquire(this.devices.wantAudio, this.devices.wantVideo);
    }
    this.asking = true;
    const a = await this.client.request({
      type: "call.request",
      conversation_id: this.conversationId,
      media,
    });
    this.busy = false;
    if (a.type === "error") {
      this.asking = false;
      this.error = a.code;
      if (this.phase === "idle") {
        this.devices.release();
        this.screen.stop();
      }
    }
    this.changed();
  }

  /** Share the screen (a click): in a call, one more video line; without one, the
   * picker first (the click's user activation is needed for it), then a call of media
   * "screen" that the other side accepts as any call. */
  async shareScreen(): Promise<void> {
    if (this.busy || this.screen.on) return;
    if (this.phase !== "idle" && this.phase !== "active" && this.phase !== "outgoing") return;
    const idle = this.phase === "idle";
    if (!(await this.screen.start())) {
      this.changed();
      return;
    }
    if (idle && this.phase === "idle") await this.request("screen");
  }

  stopScreen(): void {
    this.screen.stop();
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
    const d = this.devices;
    const devices = d.acquire(d.wantAudio && !d.micTrack, d.wantVideo && !d.camTrack);
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

  /** Move this side of the running call to this tab (`call.take`). */
  async take(): Promise<void> {
    const call = this.call;
    if (!call || this.phase !== "elsewhere" || this.busy) return;
    this.busy = true;
    this.error = "";
    this.changed();
    // "Move here" is a click: the devices this side sent with in the other tab (the
    // call.media log) come on here too, so the other side sees no change.
    const was = this.media.flagsOf(call.id, this.role);
    const d = this.devices;
    d.wantAudio = was.audio;
    d.wantVideo = was.video;
    const devices = d.acquire(was.audio && !d.micTrack, was.video && !d.camTrack);
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
      this.devices.release();
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

  // Own devices (see LocalDevices) and the other side's sound.
  toggleCamera(): Promise<void> {
    return this.devices.toggleCamera();
  }

  /** Microphone: first click turns it on; then mute / unmute (the device stays open). */
  toggleMic(): Promise<void> {
    return this.devices.toggleMic();
  }

  selectCamera(deviceId: string): Promise<void> {
    return this.devices.selectCamera(deviceId);
  }

  selectMic(deviceId: string): Promise<void> {
    return this.devices.selectMic(deviceId);
  }

  /** Front ↔ back camera; the new track replaces the old one in the call. */
  flipCamera(): Promise<void> {
    return this.devices.flipCamera();
  }

  refreshDevices(): Promise<void> {
    return this.devices.refresh();
  }

  enableAudio(): void {
    this.remote.enableAudio();
  }

  openPrecheck(): void {
    this.precheckOpen = true;
    const result = this.precheck.check.result;
    if (result === "idle" || result === "error") void this.runCheck();
    this.changed();
  }

  skipPrecheck(): void {
    this.precheckOpen = false;
    this.precheck.stop();
    this.changed();
  }

  /** Which candidates can this browser gather with the servers it was given? */
  async runCheck(): Promise<void> {
    if (!this.disposed) await this.precheck.start();
  }

  // ------------------------------------------------------------------ the call's life
  private enterRinging(call: CallSummary): void {
    this.precheckOpen = true;
    this.noAnswer = false;
    if (!this.devices.userChose && this.phase === "incoming") {
      // Accepting turns on what the call is for, on both sides (the click is the
      // permission's user gesture; what is turned on shows here and can be switched
      // off first). A customer who only taps "Accept" is heard; a screen share alone
      // asks for neither camera nor microphone.
      this.devices.wantAudio = call.media !== "screen";
      this.devices.wantVideo = call.media === "video";
    }
    void this.runCheck();
    clearTimeout(this.ringTimer);
    if (this.phase === "outgoing") {
      const since = call.requested_at ? Date.now() - Date.parse(call.requested_at) : 0;
      const left = Math.max(5000, RING_TIMEOUT_MS - (Number.isFinite(since) ? since : 0));
      this.ringTimer = setTimeout(() => {
        if (this.call?.id === call.id && this.phase === "outgoing") {
          this.noAnswer = true;
          void this.hangup();
        }
      }, left);
    }
  }

  private goActive(callId: string, rejoin: boolean): void {
    this.phase = "active";
    this.precheckOpen = false;
    this.precheck.stop();
    clearTimeout(this.ringTimer);
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

  /** The call is over (or replaced): back to text, devices off. */
  private endCall(): void {
    this.connection.end();
    this.precheck.reset();
    clearTimeout(this.ringTimer);
    this.media.release();
    this.ice.stopRenewal();
    this.acquiring = null;
    this.devices.reset();
    this.screen.stop(true);
    this.remote.stopAudio();
    this.precheckOpen = false;
    this.remoteFlags = { audio: false, video: false };
    this.phase = "idle";
  }

  private async localChanged(): Promise<void> {
    if (this.phase === "active") await this.connection.applyLocalTracks();
    this.recording.queueSync();
    this.sendMediaState();
    this.changed();
  }

  /** Own screen share started or stopped: onto the peer connection, tell the other side. */
  private screenChanged(): void {
    if (this.phase === "active") this.connection.applyScreen();
    this.sendMediaState();
    this.changed();
  }

  /** The own share was stopped (Stop, or the browser's own bar): a call that was only
   * this share (shareWasTheCall) ends with it, ringing or running. */
  private screenStopped(): void {
    const call = this.call;
    if (!call || (this.phase !== "active" && this.phase !== "outgoing")) return;
    const own = { mic: !!this.micTrack, cam: !!this.camTrack };
    if (shareWasTheCall(call.media, own, this.remoteFlags)) void this.hangup();
  }

  /** Our own flags to the other side (call.media), when they changed. */
  private sendMediaState(): void {
    if (this.call && this.phase === "active") this.media.update(this.call.id, this.sending);
  }

  // ------------------------------------------------------------------ the peer connection
  private async startSession(callId: string, rejoin: boolean): Promise<void> {
    this.connection.begin();
    // Who sends what waits for the connection (see MediaState.hold).
    this.media.hold();
    const gone = (): boolean =>
      this.disposed || this.call?.id !== callId || this.phase !== "active";
    let ice: IceConfig | null = null;
    while (!ice) {
      ice = await this.ice.get();
      if (gone()) return;
      if (!ice) await new Promise((resolve) => setTimeout(resolve, ICE_RETRY_MS));
    }
    if (this.acquiring) await this.acquiring;
    if (gone()) return;
    if (this.connection.has(callId)) return; // a signal created it meanwhile
    // Customers offer themselves only when rejoining a call that is already running
    // (their page was reloaded); normally the adviser's offer comes.
    this.connection.open(ice, callId, !this.polite || rejoin);
    this.changed();
  }

  private signal(body: Signal): void {
    const call = this.call;
    if (!call) return;
    signalNo += 1;
    const sent = this.client.send({
      type: "rtc.signal",
      id: `rtc-${signalNo}`,
      conversation_id: this.conversationId,
      call_id: call.id,
      ...body,
    });
    // Lost while signalling is down: the restart after resubscribing renegotiates.
    if (!sent) this.connection.signallingLost();
  }

  private async handleSignal(msg: RtcSignalOutMsg): Promise<void> {
    const call = this.call;
    if (!call || msg.call_id !== call.id || this.phase !== "active") return;
    await this.connection.onSignal(msg, call.id);
  }
}
