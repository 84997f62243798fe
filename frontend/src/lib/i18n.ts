// German and English for every visible string. The language comes from `?lang=`
// (the widget passes the host page's navigator.language), else from the browser;
// the DE/EN toggle switches it at run time and <html lang> follows.
//
// Nothing is persisted here: before a customer starts a conversation the apps must
// not write any storage, so a switched language lives in the URL (replaceState) only.

export type Lang = "de" | "en";
export type Strings = Record<string, readonly [de: string, en: string]>;
export type Params = Record<string, string | number>;

const listeners = new Set<(lang: Lang) => void>();

function normalise(value: string | null | undefined): Lang | null {
  if (!value) return null;
  const v = value.trim().toLowerCase();
  if (v.startsWith("de")) return "de";
  if (v.startsWith("en")) return "en";
  return null;
}

/** The language to start with: `?lang=`, then the browser's preferences, then German. */
export function pickLang(
  search: string = location.search,
  prefs: readonly string[] = navigator.languages ?? [navigator.language],
): Lang {
  const fromUrl = normalise(new URLSearchParams(search).get("lang"));
  if (fromUrl) return fromUrl;
  for (const pref of prefs) {
    const l = normalise(pref);
    if (l) return l;
  }
  return "en";
}

// Decided when this module loads, before any component renders.
let current: Lang = pickLang();
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

/** Set the language, update <html lang> and re-render every subscriber. */
export function setLang(next: Lang, updateUrl = false): void {
  current = next;
  document.documentElement.lang = next;
  if (updateUrl) {
    const url = new URL(location.href);
    url.searchParams.set("lang", next);
    history.replaceState(history.state, "", url);
  }
  for (const fn of listeners) fn(next);
}

export function initLang(): Lang {
  setLang(pickLang());
  return current;
}

/** "Deutsch" / "German" for "de", in the UI language (a customer's language code as
 * advisers read it). An unknown code is shown as it is. */
export function languageName(code: string): string {
  try {
    const name = new Intl.DisplayNames([current], { type: "language" }).of(code);
    return name ? name.charAt(0).toUpperCase() + name.slice(1) : code;
  } catch {
    return code; // not a valid language tag
  }
}

export function onLangChange(fn: (lang: Lang) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A translate function bound to one app's dictionary. */
export function translator<S extends Strings>(
  strings: S,
): (key: keyof S & string, params?: Params) => string {
  return (key, params) => {
    const entry = strings[key];
    let text: string = entry ? entry[current === "de" ? 0 : 1] : key;
    if (params) {
      for (const [name, value] of Object.entries(params)) {
        text = text.split(`{${name}}`).join(String(value));
      }
    }
    return text;
  };
}

/** Shared strings (used by lib components of both apps). */
export const common = {
  connecting: ["Verbinde …", "Connecting…"],
  reconnecting: ["Verbindung unterbrochen – verbinde neu …", "Reconnecting…"],
  connected: ["Verbunden", "Connected"],
  offline: ["Keine Netzwerkverbindung – verbinde neu …", "Offline – reconnecting…"],
  authFailed: ["Nicht angemeldet", "Not signed in"],
  langToggle: ["EN", "DE"],
  // the visible "EN"/"DE" starts the name (WCAG 2.5.3, label in name)
  langToggleLabel: ["EN – Switch to English", "DE – Auf Deutsch umschalten"],
  messageLabel: ["Nachricht", "Message"],
  messagePlaceholder: ["Nachricht schreiben …", "Write a message…"],
  send: ["Senden", "Send"],
  sendHint: [
    "Enter sendet, Umschalt+Enter für neue Zeile",
    "Enter sends, Shift+Enter for a new line",
  ],
  messages: ["Nachrichten", "Messages"],
  you: ["Sie", "You"],
  customer: ["Kundin oder Kunde", "Customer"],
  adviser: ["Beraterin oder Berater", "Adviser"],
  statusSending: ["wird gesendet", "sending"],
  statusSent: ["gesendet", "sent"],
  statusDelivered: ["zugestellt", "delivered"],
  statusRead: ["gelesen", "read"],
  statusFailed: ["nicht gesendet", "not sent"],
  eventCreated: ["Gespräch begonnen", "Conversation started"],
  eventAccepted: ["{name} hat das Gespräch übernommen", "{name} joined the conversation"],
  eventEndedCustomer: [
    "Die Kundin oder der Kunde hat das Gespräch beendet",
    "The customer ended the conversation",
  ],
  eventEndedCustomerSelf: ["Sie haben das Gespräch beendet", "You ended the conversation"],
  eventEndedAdviser: [
    "Die Beraterin oder der Berater hat das Gespräch beendet",
    "The adviser ended the conversation",
  ],
  eventEndedBy: ["{name} hat das Gespräch beendet", "{name} ended the conversation"],
  eventEndedSystem: ["Das Gespräch wurde beendet", "The conversation was ended"],
  eventConsultantJoined: ["{name} ist dazugekommen", "{name} joined the conversation"],
  eventConsultantLeft: ["{name} hat das Gespräch verlassen", "{name} left the conversation"],
  eventFormOpened: ["Formular geöffnet: {title}", "Form opened: {title}"],
  eventFormSubmitted: ["Formular abgeschickt: {title}", "Form submitted: {title}"],
  eventFormConfirmed: ["Formular bestätigt: {title}", "Form confirmed: {title}"],
  eventFormCancelled: ["Formular geschlossen: {title}", "Form closed: {title}"],
  formAsPdf: ["PDF", "PDF"],
  formAsJson: ["JSON", "JSON"],
  formDownloads: ["Formular herunterladen", "Download the form"],
  eventAppointmentMoved: [
    "Termin verschoben: von {from} auf {to}",
    "Appointment moved from {from} to {to}",
  ],
  eventTransferredToYou: ["Sie werden jetzt von {name} beraten", "{name} is now advising you"],
  eventTransferredTo: ["Gespräch an {name} übergeben", "Conversation handed to {name}"],
  eventTransferredTeamCustomer: [
    "Sie werden an ein anderes Team weitergeleitet – einen Moment bitte",
    "You are being passed on to another team – one moment please",
  ],
  eventTransferredTeam: [
    "Gespräch an das Team {team} übergeben",
    "Conversation handed to the team {team}",
  ],
  noteLabel: [
    "Interne Notiz – für Kundinnen und Kunden unsichtbar",
    "Internal note – not visible to the customer",
  ],
  typing: ["{name} schreibt …", "{name} is typing…"],
  newMessages: ["Neue Nachrichten", "New messages"],
  foldMore: ["{n} frühere Gerätemeldungen anzeigen", "Show {n} earlier device updates"],
  foldLess: ["Frühere Gerätemeldungen ausblenden", "Hide earlier device updates"],
  confirmEnd: ["Gespräch wirklich beenden?", "Really end the conversation?"],
  confirmYes: ["Ja, beenden", "Yes, end it"],
  confirmNo: ["Abbrechen", "Cancel"],
  err_rate_limited: [
    "Zu viele Anfragen – bitte kurz warten.",
    "Too many requests – please wait a moment.",
  ],
  err_invalid_state: [
    "Das ist in diesem Zustand des Gesprächs nicht möglich.",
    "Not possible in the conversation's current state.",
  ],
  err_limit_reached: [
    "Sie betreuen bereits die maximale Zahl an Chats.",
    "You are already serving your maximum number of chats.",
  ],
  err_not_found: ["Nicht gefunden.", "Not found."],
  err_forbidden: ["Keine Berechtigung.", "Not allowed."],
  err_unauthorized: ["Nicht (mehr) angemeldet.", "Not (or no longer) signed in."],
  err_bad_request: ["Ungültige Eingabe.", "Invalid input."],
  err_network: [
    "Server nicht erreichbar – bitte erneut versuchen.",
    "Cannot reach the server – please try again.",
  ],
  err_unknown: ["Es ist ein Fehler aufgetreten ({code}).", "Something went wrong ({code})."],
} as const satisfies Strings;

export const tc = translator(common);

/** A human text for a stable error code. */
export function errorText(code: string): string {
  const key = `err_${code}` as keyof typeof common;
  return key in common ? tc(key) : tc("err_unknown", { code });
}
