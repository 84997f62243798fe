// The screen share's buttons, German and English: only in chunks loaded once a
// conversation runs (the call code, the console, the customer's chat parts).
import { translator, type Strings } from "../i18n";

export const screenStrings = {
  screenShare: ["Bildschirm teilen", "Share screen"],
  screenShareLabel: [
    "Bildschirm teilen: ein Fenster oder einen Tab",
    "Share screen: a window or a tab",
  ],
  screenStop: ["Teilen beenden", "Stop sharing"],
  screenStopLabel: ["Teilen beenden (Bildschirmfreigabe)", "Stop sharing your screen"],
} as const satisfies Strings;

export const tscreen = translator(screenStrings);
