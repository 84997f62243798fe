// German and English for the room (its own chunk, loaded with it).
import { translator, type Strings } from "../lib/i18n";

export const roomStrings = {
  label: ["Beratungsraum", "Consultation room"],
  stage: ["Bühne", "Stage"],
  sharing: ["Sie teilen Ihren Bildschirm", "You are sharing your screen"],
  stop: ["Beenden", "Stop"],
  stopLabel: ["Bildschirmfreigabe beenden", "Stop sharing your screen"],
  otherScreen: ["Bildschirm von {name}", "{name}'s screen"],
  otherVideo: ["Video von {name}", "Video of {name}"],
  ownVideo: ["Ihr Video", "Your video"],
  document: ["Vorgelegtes Dokument", "Presented document"],
  empty: [
    "Hier erscheinen ein geteilter Bildschirm, Dokumente oder das Video.",
    "A shared screen, documents or the video appear here.",
  ],
  chat: ["Chat", "Chat"],
  chatHide: ["Chat einklappen", "Hide the chat"],
  chatShow: ["Chat ausklappen", "Show the chat"],
} as const satisfies Strings;

export const troom = translator(roomStrings);
