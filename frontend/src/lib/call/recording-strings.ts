// German and English for recording a call (loaded with the call's chunk).
import { translator, type Strings } from "../i18n";

export const recordingStrings = {
  start: ["Aufnahme starten", "Start recording"],
  // begins with the visible text, so speech input finds the button by what it shows
  startLabel: [
    "Aufnahme starten – alle Beteiligten müssen zustimmen",
    "Start recording – everyone must agree",
  ],
  askTitle: ["Darf dieses Gespräch aufgezeichnet werden?", "May this conversation be recorded?"],
  agree: ["Ich stimme zu", "I agree"],
  refuse: ["Nicht aufzeichnen", "Do not record"],
  waiting: [
    "Aufnahme angefragt – wartet auf die Zustimmung aller Beteiligten.",
    "Recording requested – waiting for everyone to agree.",
  ],
  running: ["● Aufnahme läuft", "● Recording"],
  stop: ["Aufnahme beenden", "Stop recording"],
  withdraw: ["Einwilligung widerrufen", "Withdraw consent"],
  withdrawLabel: [
    "Einwilligung widerrufen – die Aufnahme endet sofort",
    "Withdraw consent – recording stops at once",
  ],
  version: ["Fassung {v}", "Version {v}"],
  err_recording_not_allowed: [
    "Aufnahmen sind in diesem Dienst nicht erlaubt.",
    "Recordings are not allowed in this service.",
  ],
  err_recording_needs_consent: [
    "Die Aufnahme braucht die Zustimmung aller Beteiligten.",
    "Recording needs everyone's consent.",
  ],
  err_recording_needs_call: [
    "Aufgezeichnet werden kann nur ein laufender Anruf.",
    "Only a running call can be recorded.",
  ],
  err_recorder_unavailable: [
    "Die Aufnahme ist gerade nicht verfügbar.",
    "Recording is not available right now.",
  ],
  err_recorder_failed: ["Die Aufnahme ist fehlgeschlagen.", "Recording failed."],
} as const satisfies Strings;

export const trec = translator(recordingStrings);

export function recordingError(code: string): string | null {
  const key = `err_${code}` as keyof typeof recordingStrings;
  return key in recordingStrings ? trec(key) : null;
}
