// Recording a call: the state from the conversation's events, the consent steps, and
// this browser's send-only connection to the recorder.
//
// The state is a fold over recording.* events (like the server's): idle → requested
// (with the consent text shown to everyone) → running (everyone consented) → idle.
// While it runs and this tab holds the call, one extra RTCPeerConnection sends the
// call's own microphone and camera tracks (no second getUserMedia) to the recorder:
// the offer travels over the visavis socket, the server hands it to the recorder and
// returns the answer. It closes as soon as the log says the recording stopped.
import type { ConsentText, EventMsg } from "../protocol.gen";
import type { VisavisClient } from "../ws";

export type RecordingPhase = "idle" | "requested" | "running";

export interface RecordingHooks {
  client: VisavisClient;
  conversationId: string;
  role: "customer" | "adviser";
  /** The call's own tracks (null: that device is off). */
  tracks(): { mic: MediaStreamTrack | null; cam: MediaStreamTrack | null };
  /** Does this tab hold the running call (only it sends to the recorder)? */
  holdsCall(): boolean;
  changed(): void;
}

const GATHER_TIMEOUT_MS = 5000;

export class CallRecording {
  phase: RecordingPhase = "idle";
  recordingId = "";
  consent: ConsentText | null = null;
  consents = new Set<string>();
  /** The send-only connection's state ("" while none). */
  link = "";
  error = "";
  busy = false;
  private pc: RTCPeerConnection | null = null;
  private senders: { audio: RTCRtpSender; video: RTCRtpSender } | null = null;
  private syncQueued = false;

  constructor(private readonly hooks: RecordingHooks) {}

  get consentedHere(): boolean {
    return this.consents.has(this.hooks.role);
  }

  onEvent(ev: EventMsg): void {
    const body = ev.body as { recording_id?: string; role?: string; consent?: ConsentText };
    switch (ev.kind) {
      case "recording.requested":
        this.phase = "requested";
        this.recordingId = body.recording_id ?? "";
        this.consent = body.consent ?? null;
        this.consents = new Set();
        break;
      case "recording.consented":
        if (body.recording_id === this.recordingId && body.role) this.consents.add(body.role);
        break;
      case "recording.started":
        if (body.recording_id === this.recordingId) this.phase = "running";
        break;
      case "recording.declined":
      case "recording.stopped":
        if (body.recording_id === this.recordingId) this.phase = "idle";
        break;
      default:
        return;
    }
    this.queueSync();
    this.hooks.changed();
  }

  /** Something else changed (the call, own tracks): re-check the connection. */
  queueSync(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    queueMicrotask(() => {
      this.syncQueued = false;
      this.sync();
    });
  }

  private sync(): void {
    const wanted = this.phase === "running" && this.hooks.holdsCall();
    if (wanted && !this.pc) void this.open(this.recordingId);
    else if (!wanted && this.pc) this.close();
    else {
      if (this.senders) void this.applyTracks();
      return; // nothing the view shows changed here
    }
    this.hooks.changed();
  }

  // ------------------------------------------------------------------ commands
  async request(callId: string): Promise<void> {
    await this.step({
      type: "recording.request",
      conversation_id: this.hooks.conversationId,
      call_id: callId,
    });
  }

  async agree(): Promise<void> {
    if (!this.consent) return;
    await this.step({
      type: "recording.consent",
      conversation_id: this.hooks.conversationId,
      recording_id: this.recordingId,
      text_version: this.consent.version,
    });
  }

  async decline(): Promise<void> {
    await this.step({
      type: "recording.decline",
      conversation_id: this.hooks.conversationId,
      recording_id: this.recordingId,
    });
  }

  /** Withdraw consent (anyone) or stop (the adviser): it stops at once. */
  async stop(): Promise<void> {
    // Nothing more leaves this browser, whatever the server says. Closed in a task of
    // its own: close() blocks until the transports are down, which on a busy machine
    // can take long enough to hold up the click that asked for it.
    this.close(true);
    await this.step({
      type: this.hooks.role === "adviser" ? "recording.stop" : "recording.withdraw",
      conversation_id: this.hooks.conversationId,
      recording_id: this.recordingId,
    });
  }

  private async step(frame: Parameters<VisavisClient["request"]>[0]): Promise<void> {
    this.busy = true;
    this.error = "";
    this.hooks.changed();
    const answer = await this.hooks.client.request(frame);
    this.busy = false;
    if (answer.type === "error") this.error = answer.code;
    this.hooks.changed();
  }

  // ------------------------------------------------------------------ connection
  private async open(recordingId: string): Promise<void> {
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    this.link = "connecting";
    const { mic, cam } = this.hooks.tracks();
    this.senders = {
      audio: pc.addTransceiver(mic ?? "audio", { direction: "sendonly" }).sender,
      video: pc.addTransceiver(cam ?? "video", { direction: "sendonly" }).sender,
    };
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc !== pc) return;
      this.link = pc.connectionState;
      this.hooks.changed();
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.pc !== pc) return;
    const answer = await this.hooks.client.request(
      {
        type: "recording.offer",
        conversation_id: this.hooks.conversationId,
        recording_id: recordingId,
        description: { type: "offer", sdp: pc.localDescription?.sdp ?? "" },
      },
      20_000,
    );
    if (this.pc !== pc) return;
    if (answer.type !== "recording.answer") {
      this.error = answer.type === "error" ? answer.code : "recorder_failed";
      this.close();
      this.hooks.changed();
      return;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: answer.description.sdp ?? "" });
  }

  private async applyTracks(): Promise<void> {
    const s = this.senders;
    if (!s) return;
    const { mic, cam } = this.hooks.tracks();
    if (s.audio.track !== mic) await s.audio.replaceTrack(mic);
    if (s.video.track !== cam) await s.video.replaceTrack(cam);
  }

  close(deferred = false): void {
    const pc = this.pc;
    if (deferred) window.setTimeout(() => pc?.close(), 0);
    else pc?.close();
    this.pc = null;
    this.senders = null;
    this.link = "";
  }

  /** For tests and the view: is a connection to the recorder open? */
  get sending(): boolean {
    return this.pc !== null;
  }
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      window.clearTimeout(timer);
      resolve();
    };
    const timer = window.setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", done);
  });
}
