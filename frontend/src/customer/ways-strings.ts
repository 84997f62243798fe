// Strings of the customer app's ways in that its first load needs: the wait estimate,
// invitation links, `closed`. The lazily loaded parts (start-options.ts, offline.ts,
// code-entry.ts) carry their own.
import { translator, type Strings } from "../lib/i18n";

export const strings = {
  closedChat: [
    "Das Team für dieses Thema ist gerade nicht erreichbar. Hinterlassen Sie eine Nachricht oder bitten Sie um Rückruf.",
    "The team for this topic is closed right now. Leave a message or ask for a call-back.",
  ],
  estimate: ["Geschätzte Wartezeit: {estimate}", "Estimated wait: {estimate}"],
  estMin: ["ca. {n} Min.", "about {n} min"],
  estUnder: ["unter 1 Min.", "under a minute"],
  estUnknown: ["unbekannt", "unknown"],
  waitingForPicked: ["Sie warten auf {name}.", "You are waiting for {name}."],
  inviteOpening: ["Ihre Einladung wird geöffnet …", "Opening your invitation…"],
  invite_expired: [
    "Diese Einladung ist abgelaufen. Bitte fragen Sie Ihre Beraterin oder Ihren Berater nach einem neuen Link.",
    "This invitation has expired. Please ask your adviser for a new link.",
  ],
  invite_unauthorized: [
    "Dieser Einladungslink ist ungültig.",
    "This invitation link is not valid.",
  ],
  invite_invalid_state: [
    "Dieses Gespräch ist bereits beendet.",
    "This conversation has already ended.",
  ],
  invite_too_early: [
    "Ihr Termin beginnt am {when}. Der Link öffnet 15 Minuten vorher, um {opens} Uhr – bitte öffnen Sie ihn dann erneut.",
    "Your appointment starts on {when}. The link opens 15 minutes before, at {opens} – please open it again then.",
  ],
} as const satisfies Strings;

export const tw = translator(strings);

/** "ca. 3 Min." / "about 3 min"; "unbekannt" / "unknown" for null. */
export function formatEstimate(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return tw("estUnknown");
  if (seconds < 60) return tw("estUnder");
  return tw("estMin", { n: Math.round(seconds / 60) });
}
