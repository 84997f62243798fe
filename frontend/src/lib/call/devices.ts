// Own camera and microphone. Gentle start: getUserMedia only on a click that turns a
// device on (one prompt for both when both are asked for). The microphone, once on,
// is muted and unmuted without closing it; the camera is closed when turned off.
// Switching devices replaces the track (the call swaps it on its sender).
import { MicMeter, type AudioContextFactory } from "./mic-meter";
import type { DeviceError, MediaFlags } from "./types";

/** The part of `navigator.mediaDevices` used here (absent on insecure origins). */
export interface MediaDevicesLike {
  getUserMedia?(constraints: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices?(): Promise<MediaDeviceInfo[]>;
  addEventListener?(type: "devicechange", listener: () => void): void;
  removeEventListener?(type: "devicechange", listener: () => void): void;
}

export interface DevicesEnv {
  media: MediaDevicesLike | undefined;
  /** A stream around one track (the preview). */
  stream(track: MediaStreamTrack): MediaStream;
  audioContext: AudioContextFactory | undefined;
  /** A phone or tablet (probably a front and a back camera). */
  mobile: boolean;
}

export function browserDevicesEnv(): DevicesEnv {
  return {
    // Absent on insecure origins, whatever the DOM types say.
    media: navigator.mediaDevices,
    stream: (track) => new MediaStream([track]),
    audioContext: window.AudioContext ? () => new AudioContext() : undefined,
    mobile: navigator.maxTouchPoints > 0 && /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent),
  };
}

export interface DevicesHooks {
  changed(): void;
  /** The microphone level was read again. */
  level(): void;
  /** A track came or went: onto the senders, tell the other side. */
  tracksChanged(): Promise<void>;
  /** The microphone was muted or unmuted (tell the other side). */
  mutedChanged(): void;
  /** The call at this moment: a device opened for a call that is over is closed. */
  callId(): string | null;
}

export function deviceErrorOf(err: unknown): DeviceError {
  const dom = typeof DOMException !== "undefined" && err instanceof DOMException;
  const name = dom || err instanceof Error ? err.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "notfound";
  if (name === "NotReadableError" || name === "AbortError") return "busy";
  return "other";
}

export class LocalDevices {
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
  /** What "Accept"/"Video call" turns on (advisers: what the call is for). */
  wantAudio = false;
  wantVideo = false;
  /** The user turned a device on or off during this call (a choice to keep). */
  userChose = false;
  private readonly meter: MicMeter;
  private stopped = false;

  constructor(
    private readonly hooks: DevicesHooks,
    private readonly env: DevicesEnv = browserDevicesEnv(),
  ) {
    this.meter = new MicMeter(() => hooks.level(), env.audioContext);
  }

  get micLevel(): number {
    return this.meter.level;
  }

  /** What this side sends. */
  get flags(): MediaFlags {
    return { audio: !!this.micTrack && !this.micMuted, video: !!this.camTrack };
  }

  /** Whether there is another camera to switch to: once the cameras are known (after
   * the first one was allowed), more than one; before, a phone or tablet probably has a
   * front and a back camera. Hidden with only one camera. */
  get canFlip(): boolean {
    return this.cameras.length > 0 ? this.cameras.length > 1 : this.env.mobile;
  }

  start(): void {
    this.env.media?.addEventListener?.("devicechange", this.onDeviceChange);
  }

  /** For good: devices off, nothing opened any more. */
  stop(): void {
    this.stopped = true;
    this.env.media?.removeEventListener?.("devicechange", this.onDeviceChange);
    this.release();
  }

  async toggleCamera(): Promise<void> {
    this.userChose = true;
    if (this.camTrack) {
      this.wantVideo = false;
      this.setCamTrack(null);
      await this.hooks.tracksChanged();
    } else {
      this.wantVideo = true;
      await this.acquire(false, true);
    }
  }

  /** Microphone: first click turns it on; then mute / unmute (the device stays open). */
  async toggleMic(): Promise<void> {
    this.userChose = true;
    if (!this.micTrack) {
      this.wantAudio = true;
      this.micMuted = false;
      await this.acquire(true, false);
      return;
    }
    this.micMuted = !this.micMuted;
    this.micTrack.enabled = !this.micMuted;
    this.hooks.mutedChanged();
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

  /** getUserMedia for what is asked (one prompt for both), then into the call. */
  async acquire(audio: boolean, video: boolean, exactFacing = false): Promise<void> {
    if (!audio && !video) return;
    const md = this.env.media;
    if (!md?.getUserMedia) {
      this.deviceError = "unsupported";
      this.hooks.changed();
      return;
    }
    const callAtStart = this.hooks.callId();
    let stream: MediaStream;
    try {
      stream = await md.getUserMedia({
        audio: audio ? this.audioConstraints() : false,
        video: video ? this.videoConstraints(exactFacing) : false,
      });
    } catch (err) {
      if (!exactFacing || !video) {
        this.fail(err, audio, video);
        return;
      }
      // No camera facing that way: fall back to any camera.
      try {
        stream = await md.getUserMedia({ video: this.videoConstraints(false) });
      } catch (err2) {
        this.fail(err2, audio, video);
        return;
      }
    }
    // The call may have ended (or another started) while the browser asked.
    if (this.stopped || (callAtStart !== null && this.hooks.callId() !== callAtStart)) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.deviceError = "";
    const a = stream.getAudioTracks()[0] ?? null;
    const v = stream.getVideoTracks()[0] ?? null;
    if (a) this.setMicTrack(a);
    if (v) this.setCamTrack(v);
    void this.refresh();
    await this.hooks.tracksChanged();
  }

  /** Both devices closed. */
  release(): void {
    this.setCamTrack(null, false);
    this.setMicTrack(null, false);
    this.micMuted = false;
  }

  /** The call is over: devices closed, no wishes, no error. */
  reset(): void {
    this.release();
    this.wantAudio = false;
    this.wantVideo = false;
    this.userChose = false;
    this.deviceError = "";
  }

  /** The lists of cameras and microphones (labels only once a device was allowed). */
  async refresh(): Promise<void> {
    const md = this.env.media;
    if (!md?.enumerateDevices) return;
    try {
      const all = await md.enumerateDevices();
      this.cameras = all.filter((d) => d.kind === "videoinput" && d.deviceId);
      this.mics = all.filter((d) => d.kind === "audioinput" && d.deviceId);
      this.hooks.changed();
    } catch {
      /* keep the old lists */
    }
  }

  private readonly onDeviceChange = (): void => {
    if (this.camTrack || this.micTrack) void this.refresh();
  };

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

  private fail(err: unknown, audio: boolean, video: boolean): void {
    this.deviceError = deviceErrorOf(err);
    if (audio) this.wantAudio = false;
    if (video) this.wantVideo = false;
    this.hooks.changed();
  }

  private setCamTrack(track: MediaStreamTrack | null, notify = true): void {
    const old = this.camTrack;
    if (old && old !== track) old.stop();
    this.camTrack = track;
    this.localPreview = track ? this.env.stream(track) : null;
    if (track) {
      const s = track.getSettings();
      if (s.deviceId) this.camDeviceId = s.deviceId;
      if (s.facingMode === "user" || s.facingMode === "environment") this.facing = s.facingMode;
      track.addEventListener("ended", () => {
        if (this.camTrack !== track) return;
        this.setCamTrack(null);
        void this.hooks.tracksChanged();
      });
    }
    if (notify) this.hooks.changed();
  }

  private setMicTrack(track: MediaStreamTrack | null, notify = true): void {
    const old = this.micTrack;
    if (old && old !== track) old.stop();
    this.micTrack = track;
    this.meter.stop();
    if (track) {
      track.enabled = !this.micMuted;
      const s = track.getSettings();
      if (s.deviceId) this.micDeviceId = s.deviceId;
      this.meter.start(track);
      track.addEventListener("ended", () => {
        if (this.micTrack !== track) return;
        this.setMicTrack(null);
        void this.hooks.tracksChanged();
      });
    }
    if (notify) this.hooks.changed();
  }
}
