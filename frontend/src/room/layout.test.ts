import { describe, expect, it } from "vitest";
import { chooseStage, roomView, type StageInput } from "./layout";

const none: StageInput = {
  remoteScreen: false,
  ownScreen: false,
  presented: false,
  remoteVideo: false,
};

describe("chooseStage", () => {
  it("puts a shared screen first, then the document, then the other's video", () => {
    expect(chooseStage(none)).toBe("empty");
    expect(chooseStage({ ...none, remoteVideo: true })).toBe("video");
    expect(chooseStage({ ...none, remoteVideo: true, presented: true })).toBe("document");
    expect(chooseStage({ ...none, presented: true, ownScreen: true })).toBe("own-screen");
    expect(
      chooseStage({ remoteScreen: true, ownScreen: true, presented: true, remoteVideo: true }),
    ).toBe("screen");
  });
});

describe("roomView", () => {
  it("shows inline only a screen (the call panel has the cameras, the app the document stage)", () => {
    expect(roomView("inline", { ...none, remoteVideo: true, ownVideo: true })).toEqual({
      stage: "empty",
      visible: false,
      tiles: { self: false, other: false },
    });
    expect(roomView("inline", { ...none, presented: true, ownVideo: true }).visible).toBe(false);
    expect(roomView("inline", { ...none, ownScreen: true, ownVideo: false }).stage).toBe(
      "own-screen",
    );
  });

  it("gives the large room tiles beside the stage, the other's only when not on it", () => {
    const video = roomView("large", { ...none, remoteVideo: true, ownVideo: true });
    expect(video).toEqual({ stage: "video", visible: true, tiles: { self: true, other: false } });
    const screen = roomView("large", {
      ...none,
      remoteScreen: true,
      remoteVideo: true,
      ownVideo: false,
    });
    expect(screen.tiles).toEqual({ self: false, other: true });
    expect(roomView("large", { ...none, ownVideo: false }).visible).toBe(true);
  });
});
