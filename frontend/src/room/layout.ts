// What the room shows, as pure functions (unit-tested in layout.test.ts): which thing
// is on the stage, and which video tiles go beside it.
//
// The stage shows, in order (COLLAB-SPEC): a shared screen (the other side's; our own
// as a small preview with the "you are sharing" bar), the presented document, else the
// other side's video. "Inline" (the small chat panel, the console's conversation view)
// shows only a screen: the call panel there has the camera videos, and the apps mount
// the document stage (<vv-doc-stage>, with its shelf) above the messages themselves.

export type StageKind = "screen" | "own-screen" | "document" | "video" | "empty";
export type RoomMode = "inline" | "large";

export interface StageInput {
  /** The other side shares a screen (said so in call.media, and frames arrive). */
  remoteScreen: boolean;
  /** We share our screen. */
  ownScreen: boolean;
  /** A document is presented (document.presented, not cleared since). */
  presented: boolean;
  /** The other side's camera video arrives. */
  remoteVideo: boolean;
}

export function chooseStage(i: StageInput): StageKind {
  if (i.remoteScreen) return "screen";
  if (i.ownScreen) return "own-screen";
  if (i.presented) return "document";
  if (i.remoteVideo) return "video";
  return "empty";
}

export interface RoomView {
  stage: StageKind;
  /** The room shows anything at all (inline: only with a screen). */
  visible: boolean;
  /** Video tiles beside the stage (large only): own camera, the other's camera. */
  tiles: { self: boolean; other: boolean };
}

export function roomView(mode: RoomMode, i: StageInput & { ownVideo: boolean }): RoomView {
  const stage = chooseStage(i);
  if (mode === "inline") {
    const shown = stage === "screen" || stage === "own-screen";
    return { stage: shown ? stage : "empty", visible: shown, tiles: { self: false, other: false } };
  }
  return {
    stage,
    visible: true,
    // The other's video is a tile unless it is the stage itself.
    tiles: { self: i.ownVideo, other: i.remoteVideo && stage !== "video" },
  };
}
