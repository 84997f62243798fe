// Own tracks on the peer connection's m-lines: one audio and one video line, sending
// what is on and receiving in any case; a screen share is one more video line of its
// own (sendonly on the sharer's side), never the camera's.

/** Transceivers that carry a screen share (own or the other side's): the camera's
 * line is never one of them. */
export type ScreenLines = WeakSet<RTCRtpTransceiver>;

/** Without own devices a side still receives: the lines start `recvonly`. */
export function addTransceivers(
  pc: RTCPeerConnection,
  mic: MediaStreamTrack | null,
  cam: MediaStreamTrack | null,
): void {
  pc.addTransceiver(mic ?? "audio", { direction: mic ? "sendrecv" : "recvonly" });
  pc.addTransceiver(cam ?? "video", { direction: cam ? "sendrecv" : "recvonly" });
}

/** The live line of a kind (negotiated ones first), screen lines left out. */
export function transceiverFor(
  pc: RTCPeerConnection,
  kind: "audio" | "video",
  screens?: ScreenLines,
): RTCRtpTransceiver | null {
  const list = pc
    .getTransceivers()
    .filter(
      (t) =>
        t.direction !== "stopped" &&
        t.currentDirection !== "stopped" &&
        t.receiver.track.kind === kind &&
        !screens?.has(t),
    );
  return list.find((t) => t.mid !== null) ?? list[0] ?? null;
}

/** Own tracks onto the senders (replaceTrack: no renegotiation for switching or
 * turning off); the first track of a kind makes its transceiver sendrecv. */
export function applyLocalTracks(
  pc: RTCPeerConnection,
  mic: MediaStreamTrack | null,
  cam: MediaStreamTrack | null,
  screens?: ScreenLines,
): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const kind of ["audio", "video"] as const) {
    const tr = transceiverFor(pc, kind, screens);
    if (!tr) continue;
    const track = kind === "audio" ? mic : cam;
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

/** A fresh video m-line in place of the old one: new SSRCs in both directions (the
 * polite side moves its camera onto it when answering). Chromium holds the first
 * frames after an outage for up to 3 s (video queued during the outage arrives in a
 * burst with old timestamps, and the receiver then schedules new frames seconds
 * ahead); with new SSRCs the old packets go to a stream that is gone and the new
 * ones start with a key frame. `paused`: the new line sends nothing yet either. */
export function replaceVideoLine(
  pc: RTCPeerConnection,
  cam: MediaStreamTrack | null,
  paused: boolean,
  screens?: ScreenLines,
): boolean {
  const old = transceiverFor(pc, "video", screens);
  if (!old || old.mid === null) return false;
  old.stop();
  pc.addTransceiver(cam ?? "video", {
    direction: cam ? "sendrecv" : "recvonly",
    sendEncodings: [{ active: !paused }],
  });
  return true;
}

/** A track of the other side is its screen share when its line names a stream
 * (`a=msid:<stream> <track>`): the sharer adds the screen with one, camera and
 * microphone lines carry none (`a=msid:- <track>`). Robust where the line order is
 * not: the camera line is replaced after an outage and may then come after the
 * screen's. */
export function isScreenTrack(e: Pick<RTCTrackEvent, "track" | "streams">): boolean {
  return e.track.kind === "video" && e.streams.length > 0;
}

/** Own screen share onto the peer connection: a new sendonly line (a renegotiation)
 * when there is none, the track swapped when there is; none wanted: the line stopped.
 * Returns the line that carries it now. */
export function applyScreen(
  pc: RTCPeerConnection,
  track: MediaStreamTrack | null,
  line: RTCRtpTransceiver | null,
  screens: ScreenLines,
): RTCRtpTransceiver | null {
  const live =
    line && line.direction !== "stopped" && line.currentDirection !== "stopped" ? line : null;
  if (!track) {
    live?.stop();
    return null;
  }
  if (live) {
    if (live.sender.track !== track)
      void live.sender
        .replaceTrack(track)
        .catch((err: unknown) => console.warn("visavis call: screen replaceTrack", err));
    return live;
  }
  const added = pc.addTransceiver(track, {
    direction: "sendonly",
    streams: [new MediaStream([track])],
  });
  screens.add(added);
  return added;
}
