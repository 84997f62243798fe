import { describe, expect, it, vi } from "vitest";
import { LocalDevices, type DevicesEnv } from "./devices";

class FakeTrack {
  enabled = true;
  stopped = false;
  private readonly listeners = new Map<string, (() => void)[]>();
  constructor(
    readonly kind: "audio" | "video",
    private readonly settings: MediaTrackSettings = {},
  ) {}
  getSettings(): MediaTrackSettings {
    return this.settings;
  }
  stop(): void {
    this.stopped = true;
  }
  addEventListener(type: string, fn: () => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  fire(type: string): void {
    for (const fn of this.listeners.get(type) ?? []) fn();
  }
}

function stream(...tracks: FakeTrack[]): MediaStream {
  return {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === "audio"),
    getVideoTracks: () => tracks.filter((t) => t.kind === "video"),
  } as unknown as MediaStream;
}

function domError(name: string): Error {
  const e = new Error(name);
  e.name = name;
  return e;
}

type Gum = (c: MediaStreamConstraints) => Promise<MediaStream>;

function setup(gum: Gum | undefined, mobile = false) {
  const state = { changes: 0, tracks: 0, muted: 0, callId: "k1" as string | null };
  const getUserMedia = gum ? vi.fn(gum) : undefined;
  const env: DevicesEnv = {
    media: {
      getUserMedia,
      enumerateDevices: () =>
        Promise.resolve([
          { kind: "videoinput", deviceId: "cam1", label: "Front" },
          { kind: "audioinput", deviceId: "mic1", label: "Mic" },
          { kind: "audioinput", deviceId: "", label: "" },
        ] as MediaDeviceInfo[]),
    },
    stream: (track) => ({ preview: track }) as unknown as MediaStream,
    audioContext: undefined,
    mobile,
  };
  const devices = new LocalDevices(
    {
      changed: () => (state.changes += 1),
      level: () => undefined,
      tracksChanged: () => {
        state.tracks += 1;
        return Promise.resolve();
      },
      mutedChanged: () => (state.muted += 1),
      callId: () => state.callId,
    },
    env,
  );
  return { state, devices, getUserMedia };
}

describe("LocalDevices", () => {
  it("offers the camera switch only with another camera to switch to", async () => {
    const phone = setup(undefined, true);
    expect(phone.devices.canFlip).toBe(true); // a phone, cameras not known yet
    await phone.devices.refresh();
    expect(phone.devices.cameras).toHaveLength(1);
    expect(phone.devices.canFlip).toBe(false); // only one: hidden
    const desk = setup(undefined);
    expect(desk.devices.canFlip).toBe(false);
  });

  it("opens the microphone on the first click, then mutes and unmutes it", async () => {
    const mic = new FakeTrack("audio", { deviceId: "mic1" });
    const { state, devices, getUserMedia } = setup(() => Promise.resolve(stream(mic)));
    await devices.toggleMic();
    expect(getUserMedia).toHaveBeenCalledTimes(1);
    const asked = getUserMedia!.mock.calls[0]![0];
    expect(asked.video).toBe(false);
    expect(asked.audio).toMatchObject({ echoCancellation: true });
    expect(devices.micTrack).toBe(mic);
    expect(devices.micDeviceId).toBe("mic1");
    expect(devices.flags).toEqual({ audio: true, video: false });
    expect(state.tracks).toBe(1);
    expect(devices.mics.map((d) => d.deviceId)).toEqual(["mic1"]);

    await devices.toggleMic();
    expect(mic.enabled).toBe(false);
    expect(devices.flags).toEqual({ audio: false, video: false });
    expect(state.muted).toBe(1);
    await devices.toggleMic();
    expect(mic.enabled).toBe(true);
    expect(getUserMedia).toHaveBeenCalledTimes(1);
  });

  it("turns the camera on and off (the device is closed)", async () => {
    const cam = new FakeTrack("video", { deviceId: "cam1", facingMode: "user" });
    const { state, devices } = setup(() => Promise.resolve(stream(cam)));
    await devices.toggleCamera();
    expect(devices.camTrack).toBe(cam);
    expect(devices.localPreview).not.toBeNull();
    expect(devices.wantVideo).toBe(true);
    await devices.toggleCamera();
    expect(devices.camTrack).toBeNull();
    expect(devices.localPreview).toBeNull();
    expect(cam.stopped).toBe(true);
    expect(devices.wantVideo).toBe(false);
    expect(state.tracks).toBe(2);
  });

  it("names a refusal and drops the wish", async () => {
    const { devices } = setup(() => Promise.reject(domError("NotAllowedError")));
    devices.wantAudio = true;
    devices.wantVideo = true;
    await devices.acquire(true, true);
    expect(devices.deviceError).toBe("denied");
    expect([devices.wantAudio, devices.wantVideo]).toEqual([false, false]);

    const busy = setup(() => Promise.reject(domError("NotReadableError")));
    await busy.devices.acquire(false, true);
    expect(busy.devices.deviceError).toBe("busy");

    const none = setup(undefined);
    await none.devices.acquire(true, false);
    expect(none.devices.deviceError).toBe("unsupported");
  });

  it("closes what the browser gave after the call was over", async () => {
    const mic = new FakeTrack("audio");
    let give: ((s: MediaStream) => void) | null = null;
    const { state, devices } = setup(() => new Promise((resolve) => (give = resolve)));
    const asking = devices.acquire(true, false);
    state.callId = null;
    give!(stream(mic));
    await asking;
    expect(mic.stopped).toBe(true);
    expect(devices.micTrack).toBeNull();
    expect(state.tracks).toBe(0);
  });

  it("flips to the other camera, falling back to any camera", async () => {
    const front = new FakeTrack("video", { facingMode: "user" });
    const any = new FakeTrack("video", { deviceId: "cam1" });
    const answers: Gum[] = [
      () => Promise.resolve(stream(front)),
      () => Promise.reject(domError("OverconstrainedError")),
      () => Promise.resolve(stream(any)),
    ];
    const { devices, getUserMedia } = setup((c) => answers.shift()!(c));
    await devices.toggleCamera();
    await devices.flipCamera();
    expect(front.stopped).toBe(true);
    const [, exact, fallback] = getUserMedia!.mock.calls.map((c) => c[0].video);
    expect(exact).toMatchObject({ facingMode: { exact: "environment" } });
    expect(fallback).toMatchObject({ facingMode: "environment" });
    expect(devices.camTrack).toBe(any);
    expect(devices.deviceError).toBe("");
  });

  it("notices a device that went away", async () => {
    const cam = new FakeTrack("video");
    const { state, devices } = setup(() => Promise.resolve(stream(cam)));
    await devices.toggleCamera();
    cam.fire("ended");
    expect(devices.camTrack).toBeNull();
    expect(state.tracks).toBe(2);
  });

  it("reset() closes the devices and forgets wishes and errors", async () => {
    const mic = new FakeTrack("audio");
    const cam = new FakeTrack("video");
    const { devices } = setup(() => Promise.resolve(stream(mic, cam)));
    await devices.acquire(true, true);
    await devices.toggleMic();
    devices.wantVideo = true;
    devices.deviceError = "busy";
    devices.reset();
    expect([mic.stopped, cam.stopped]).toEqual([true, true]);
    expect([devices.micTrack, devices.camTrack, devices.micMuted]).toEqual([null, null, false]);
    expect([devices.wantVideo, devices.userChose, devices.deviceError]).toEqual([false, false, ""]);
  });
});
