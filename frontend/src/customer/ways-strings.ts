// Strings of the customer app's ways in (R5.1–R5.6): availability and wait estimate,
// the offline choices, invitation links. Loaded with the app (kept short); the lazily
// loaded forms (offline.ts, code-entry.ts) carry their own.
import { lang, translator, type Strings } from "../lib/i18n";

export const strings = {
  availNow: ["Jetzt erreichbar – geschätzte Wartezeit {estimate}.", "Available now – estimated wait {estimate}."],
  availFree: ["Jetzt erreichbar – eine Beraterin oder ein Berater ist frei.", "Available now – an adviser is free."],
  nobody: [
    "Gerade ist niemand frei. Sie können trotzdem schreiben und warten – oder uns eine Nachricht hinterlassen.",
    "Nobody is free right now. You can still write and wait – or leave us a message.",
  ],
  closed: ["Wir sind gerade nicht erreichbar.", "We are closed right now."],
  closedUntil: ["Wir sind gerade nicht erreichbar – wieder ab {when}.", "We are closed right now – back {when}."],
  closedChat: [
    "Das Team für dieses Thema ist gerade nicht erreichbar. Hinterlassen Sie eine Nachricht oder bitten Sie um Rückruf.",
    "The team for this topic is closed right now. Leave a message or ask for a call-back.",
  ],
  otherWays: ["Andere Wege zu uns", "Other ways to reach us"],
  leaveMessage: ["Nachricht hinterlassen", "Leave a message"],
  requestCallback: ["Rückruf anfordern", "Request a call-back"],
  bookAppointment: ["Termin buchen", "Book an appointment"],
  haveCode: ["Ich habe einen Code", "I have a code"],
  pickedAdviser: ["Sie möchten mit {name} sprechen", "You would like to talk to {name}"],
  pickedStatus_available: ["jetzt verfügbar", "available now"],
  pickedStatus_busy: ["gerade im Gespräch", "in a conversation"],
  pickedStatus_away: ["kurz abwesend", "away for a moment"],
  pickedStatus_offline: ["nicht online", "not online"],
  pickedFallback: [
    "Ist {name} nicht bald frei, übernimmt eine Kollegin oder ein Kollege aus dem Team.",
    "If {name} is not free soon, a colleague from the team takes over.",
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
  invite_unauthorized: ["Dieser Einladungslink ist ungültig.", "This invitation link is not valid."],
  invite_invalid_state: ["Dieses Gespräch ist bereits beendet.", "This conversation has already ended."],
  invite_too_early: [
    "Ihr Termin hat noch nicht begonnen. Bitte öffnen Sie den Link kurz vor dem Termin erneut.",
    "Your appointment has not started yet. Please open the link again shortly before it.",
  ],
} as const satisfies Strings;

export const tw = translator(strings);

/** "ca. 3 Min." / "about 3 min"; "unbekannt" / "unknown" for null. */
export function formatEstimate(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return tw("estUnknown");
  if (seconds < 60) return tw("estUnder");
  return tw("estMin", { n: Math.round(seconds / 60) });
}

/** A next opening time in the browser's time zone: "Mo., 08:00" / "Mon 08:00". */
export function formatOpening(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const sameDay = d.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", {
    ...(sameDay ? {} : { weekday: "short" as const }),
    hour: "2-digit",
    minute: "2-digit",
  }).format(d);
}
