// Own tracks on the peer connection's m-lines: one audio and one video line, sending
// what is on and receiving in any case.
import type { Media } from "./types";

/** Without own devices a side still receives: the lines start `recvonly`. */
export function addTransceivers(
  pc: RTCPeerConnection,
  mic: MediaStreamTrack | null,
  cam: MediaStreamTrack | null,
): void {
  pc.addTransceiver(mic ?? "audio", { direction: mic ? "sendrecv" : "recvonly" });
  pc.addTransceiver(cam ?? "video", { direction: cam ? "sendrecv" : "recvonly" });
}

/** The live line of a kind (negotiated ones first). */
export function transceiverFor(pc: RTCPeerConnection, kind: Media): RTCRtpTransceiver | null {
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
export function applyLocalTracks(
  pc: RTCPeerConnection,
  mic: MediaStreamTrack | null,
  cam: MediaStreamTrack | null,
): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const kind of ["audio", "video"] as const) {
    const tr = transceiverFor(pc, kind);
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
): boolean {
  const old = transceiverFor(pc, "video");
  if (!old || old.mid === null) return false;
  old.stop();
  pc.addTransceiver(cam ?? "video", {
    direction: cam ? "sendrecv" : "recvonly",
    sendEncodings: [{ active: !paused }],
  });
  return true;
}
