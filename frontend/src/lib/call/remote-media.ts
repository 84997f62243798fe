// The other side's media as this tab plays it. Video goes to the view (which shows
// it muted); sound plays from an element owned here, so it goes on while an adviser
// looks at another conversation. Autoplay may be refused until the user clicks.

export interface RemoteMediaEnv {
  stream(track: MediaStreamTrack): MediaStream;
  audioElement(): HTMLAudioElement;
}

export function browserRemoteMediaEnv(): RemoteMediaEnv {
  return {
    stream: (track) => new MediaStream([track]),
    audioElement: () => {
      const el = document.createElement("audio");
      el.autoplay = true;
      return el;
    },
  };
}

export class RemoteMedia {
  video: MediaStream | null = null;
  /** The video track delivers frames (not muted, not ended). */
  videoLive = false;
  /** The other side's screen share, and whether it delivers frames. */
  screen: MediaStream | null = null;
  screenLive = false;
  /** The browser refused to play the sound before a user gesture. */
  audioBlocked = false;
  private audioEl: HTMLAudioElement | null = null;

  constructor(
    private readonly changed: () => void,
    private readonly env: RemoteMediaEnv = browserRemoteMediaEnv(),
  ) {}

  /** A track of the current peer connection (`track` event). */
  add(track: MediaStreamTrack): void {
    const update = (): void => {
      if (track.kind === "video" && this.video?.getVideoTracks()[0] === track) {
        this.videoLive = !track.muted && track.readyState === "live";
        this.changed();
      }
    };
    track.addEventListener("mute", update);
    track.addEventListener("unmute", update);
    track.addEventListener("ended", update);
    if (track.kind === "video") {
      this.video = this.env.stream(track);
      this.videoLive = !track.muted;
    } else {
      this.play(track);
    }
    this.changed();
  }

  /** The other side's screen share (its own video line). */
  addScreen(track: MediaStreamTrack): void {
    const update = (): void => {
      if (this.screen?.getVideoTracks()[0] !== track) return;
      this.screenLive = !track.muted && track.readyState === "live";
      this.changed();
    };
    for (const e of ["mute", "unmute", "ended"]) track.addEventListener(e, update);
    this.screen = this.env.stream(track);
    this.screenLive = !track.muted;
    this.changed();
  }

  /** A click: try the sound again. */
  enableAudio(): void {
    void this.audioEl?.play().then(() => {
      this.audioBlocked = false;
      this.changed();
    });
  }

  /** The peer connection is gone: no video. */
  clearVideo(): void {
    this.video = null;
    this.videoLive = false;
    this.screen = null;
    this.screenLive = false;
  }

  /** The call is over: silence. */
  stopAudio(): void {
    if (this.audioEl) {
      this.audioEl.pause();
      this.audioEl.srcObject = null;
    }
    this.audioBlocked = false;
  }

  private play(track: MediaStreamTrack): void {
    this.audioEl ??= this.env.audioElement();
    this.audioEl.srcObject = this.env.stream(track);
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
}
