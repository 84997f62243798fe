// German and English for the console's recordings of a conversation.
import { translator, type Strings } from "../lib/i18n";

export const recordingListStrings = {
  title: ["Aufnahmen des Anrufs", "Call recordings"],
  customer: ["Kundin oder Kunde", "Customer"],
  adviser: ["Beratung", "Adviser"],
  seconds: ["{n} Sek.", "{n} s"],
  play: ["Abspielen", "Play"],
  download: ["Herunterladen", "Download"],
  videoOf: ["Aufnahme: {who}", "Recording: {who}"],
} as const satisfies Strings;

export const trecs = translator(recordingListStrings);
