// German and English for everything about calls (both apps and the message list).
import { translator, type Strings } from "./i18n";

export const callStrings = {
  // header buttons
  audioCall: ["Audioanruf", "Audio call"],
  videoCall: ["Videoanruf", "Video call"],
  audioShort: ["Audio", "Audio"],
  videoShort: ["Video", "Video"],
  startAudioLabel: ["Audioanruf mit {name} starten", "Start an audio call with {name}"],
  startVideoLabel: ["Videoanruf mit {name} starten", "Start a video call with {name}"],
  busyElsewhere: ["Sie sind bereits in einem Anruf.", "You are already in a call."],
  // ringing
  panelLabel: ["Anruf", "Call"],
  calling: ["Rufe {name} an …", "Calling {name}…"],
  incoming: ["{name} ruft an: {kind}", "{name} is calling: {kind}"],
  incomingElsewhere: ["{name} ruft an ({kind})", "{name} is calling ({kind})"],
  goToConversation: ["Zum Gespräch", "Go to conversation"],
  accept: ["Annehmen", "Accept"],
  acceptLabel: ["{kind} von {name} annehmen", "Accept the {kind} from {name}"],
  decline: ["Ablehnen", "Decline"],
  declineLabel: ["{kind} von {name} ablehnen", "Decline the {kind} from {name}"],
  cancel: ["Abbrechen", "Cancel"],
  cancelLabel: ["Anruf abbrechen", "Cancel the call"],
  noAnswer: ["Keine Antwort – der Anruf wurde beendet.", "No answer – the call was ended."],
  // pre-call check
  precheckTitle: ["Vor dem Gespräch: Technik prüfen", "Before the call: check your setup"],
  precheckGentle: [
    "Kamera und Mikrofon bleiben aus, bis Sie sie selbst einschalten. Sie können die Beratung auch ohne eigene Kamera sehen und hören.",
    "Camera and microphone stay off until you turn them on. You can see and hear your adviser without your own camera.",
  ],
  precheckAccept: [
    "Beim Annehmen wird eingeschaltet, was unten steht. Sie können Kamera und Mikrofon vorher aus- oder einschalten.",
    "Accepting turns on what is shown below. You can turn camera and microphone on or off first.",
  ],
  precheckScreen: [
    "Beim Annehmen sehen Sie den Bildschirm von {name}. Ihre Kamera und Ihr Mikrofon bleiben aus.",
    "When you accept you see {name}'s screen. Your camera and microphone stay off.",
  ],
  acceptTurnsOn: ["Beim Annehmen an: {what}", "On when you accept: {what}"],
  precheckOpen: [
    "Kamera, Mikrofon und Verbindung prüfen",
    "Check camera, microphone and connection",
  ],
  precheckSkip: ["Vorschau schließen", "Close the preview"],
  previewLabel: ["Ihre Kamera (Vorschau)", "Your camera (preview)"],
  cameraIsOff: ["Kamera ist aus", "Camera is off"],
  micLevel: ["Mikrofonpegel", "Microphone level"],
  micIsOff: ["Mikrofon ist aus", "Microphone is off"],
  micMutedNote: ["Mikrofon stummgeschaltet", "Microphone muted"],
  checkTitle: ["Verbindung", "Connection"],
  checkServerOk: ["Server erreichbar", "Server reachable"],
  checkServerDown: [
    "Server nicht erreichbar – verbinde neu …",
    "Server not reachable – reconnecting…",
  ],
  checkRunning: ["Prüfe die Verbindung …", "Checking the connection…"],
  checkRelayOk: [
    "Verbindung bereit – auch durch Firewalls",
    "Connection ready – also through firewalls",
  ],
  checkRelayMissing: [
    "Die Verbindung ist hier eingeschränkt. In manchen Firmen- oder Gastnetzen kann der Anruf scheitern – der Chat funktioniert weiter.",
    "Your connection is restricted here. On some company or guest networks the call may fail – the chat keeps working.",
  ],
  checkNoTurn: [
    "Verbindung bereit. In manchen Firmen- oder Gastnetzen kann der Anruf scheitern – der Chat funktioniert weiter.",
    "Connection ready. On some company or guest networks the call may fail – the chat keeps working.",
  ],
  checkError: ["Verbindungstest nicht möglich.", "Connection check not possible."],
  checkRelayOnly: [
    "Medien laufen nur über den Server dieses Unternehmens.",
    "Media goes through this company's own server only.",
  ],
  // controls
  controlsLabel: ["Anrufsteuerung", "Call controls"],
  micOn: ["Mikrofon ein", "Mic on"],
  micOnLabel: ["Mikrofon einschalten", "Turn microphone on"],
  mute: ["Stumm", "Mute"],
  muteLabel: ["Mikrofon stummschalten", "Mute the microphone"],
  unmute: ["Ton an", "Unmute"],
  unmuteLabel: ["Stummschaltung aufheben", "Unmute the microphone"],
  camOn: ["Kamera ein", "Camera on"],
  camOnLabel: ["Kamera einschalten", "Turn camera on"],
  camOff: ["Kamera aus", "Camera off"],
  camOffLabel: ["Kamera ausschalten", "Turn camera off"],
  flip: ["Kamera wechseln", "Switch camera"],
  flipLabel: ["Kamera wechseln (vorne/hinten)", "Switch camera (front/back)"],
  devices: ["Geräte", "Devices"],
  devicesLabel: ["Geräte: Kamera und Mikrofon auswählen", "Devices: choose camera and microphone"],
  cameraSelect: ["Kamera", "Camera"],
  micSelect: ["Mikrofon", "Microphone"],
  deviceDefault: ["Standard", "Default"],
  deviceUnnamed: ["Gerät {n}", "Device {n}"],
  hangup: ["Auflegen", "Hang up"],
  hangupLabel: [
    "Auflegen: Anruf beenden und zum Chat zurückkehren",
    "Hang up: end the call and return to the chat",
  ],
  enableAudio: ["Ton einschalten", "Turn sound on"],
  // the call is held by another tab or device of this side
  elsewhere: [
    "Der {kind} läuft in einem anderen Fenster oder auf einem anderen Gerät.",
    "The {kind} continues in another window or on another device.",
  ],
  takeHere: ["Hierher holen", "Move here"],
  takeHereLabel: ["Hierher holen: Anruf in dieses Fenster", "Move here: the call to this window"],
  // status
  statusConnecting: ["Verbinde …", "Connecting…"],
  statusConnected: ["Verbunden", "Connected"],
  statusReconnecting: ["Verbindung unterbrochen – verbinde neu …", "Reconnecting…"],
  statusSlow: [
    "Die Verbindung dauert ungewöhnlich lange. Der Chat funktioniert weiter.",
    "Connecting takes unusually long. The chat keeps working.",
  ],
  remoteCameraOff: ["{name}: Kamera aus", "{name}: camera off"],
  remoteMuted: ["{name} ist stummgeschaltet", "{name} is muted"],
  you: ["Sie", "You"],
  // device errors
  err_denied: [
    "Zugriff auf Kamera/Mikrofon wurde nicht erlaubt. Sie können ihn in den Browser-Einstellungen freigeben.",
    "Access to camera/microphone was not allowed. You can allow it in your browser settings.",
  ],
  err_notfound: ["Kein passendes Gerät gefunden.", "No suitable device found."],
  err_busy: [
    "Das Gerät wird gerade von einer anderen Anwendung benutzt.",
    "The device is in use by another application.",
  ],
  err_unsupported: [
    "Dieser Browser erlaubt hier keinen Zugriff auf Kamera/Mikrofon.",
    "This browser does not allow camera/microphone access here.",
  ],
  err_other: [
    "Kamera/Mikrofon konnte nicht gestartet werden.",
    "Could not start camera/microphone.",
  ],
  // history lines
  evRequestedSelf: ["Sie haben {aKind} gestartet", "You started {aKind}"],
  evRequested: ["{who} hat {aKind} gestartet", "{who} started {aKind}"],
  evStarted: ["{Kind} begonnen", "{Kind} started"],
  evDeclinedSelf: ["Sie haben {theKind} abgelehnt", "You declined {theKind}"],
  evDeclined: ["{who} hat {theKind} abgelehnt", "{who} declined {theKind}"],
  evCancelled: ["{Kind} abgebrochen", "{Kind} cancelled"],
  evEnded: ["{Kind}, {duration}", "{Kind}, {duration}"],
  evMedia: ["{who}: Kamera {video}, Mikrofon {audio}", "{who}: camera {video}, microphone {audio}"],
  on: ["an", "on"],
  off: ["aus", "off"],
  kindAudio: ["Audioanruf", "audio call"],
  kindVideo: ["Videoanruf", "video call"],
  kindScreen: ["Bildschirmfreigabe", "screen share"],
  // with the article the German noun needs (die Bildschirmfreigabe, der Anruf)
  aAudio: ["einen Audioanruf", "an audio call"],
  aVideo: ["einen Videoanruf", "a video call"],
  aScreen: ["eine Bildschirmfreigabe", "a screen share"],
  theAudio: ["den Audioanruf", "the audio call"],
  theVideo: ["den Videoanruf", "the video call"],
  theScreen: ["die Bildschirmfreigabe", "the screen share"],
  evScreen: [", Bildschirm geteilt", ", screen shared"],
  seconds: ["{n} Sek.", "{n} s"],
  minutes: ["{n} Min.", "{n} min"],
} as const satisfies Strings;

export const tcall = translator(callStrings);

/** "Videoanruf" / "video call" (lower case in English inside sentences). */
export function callKind(media: unknown): string {
  return tcall(media === "audio" ? "kindAudio" : media === "screen" ? "kindScreen" : "kindVideo");
}

/** "einen Videoanruf" / "eine Bildschirmfreigabe": the kind with its indefinite article. */
export function callKindA(media: unknown): string {
  return tcall(media === "audio" ? "aAudio" : media === "screen" ? "aScreen" : "aVideo");
}

/** "den Videoanruf" / "die Bildschirmfreigabe": the kind with its definite article. */
export function callKindThe(media: unknown): string {
  return tcall(media === "audio" ? "theAudio" : media === "screen" ? "theScreen" : "theVideo");
}

/** The same, capitalised at the start of a line ("Video call, 4 min"). */
export function callKindTitle(media: unknown): string {
  const k = callKind(media);
  return k.charAt(0).toUpperCase() + k.slice(1);
}

/** "4 Min." / "4 min" from seconds; under a minute in seconds. */
export function formatCallDuration(seconds: unknown): string {
  const s = typeof seconds === "number" && Number.isFinite(seconds) ? Math.max(0, seconds) : 0;
  if (s < 60) return tcall("seconds", { n: Math.round(s) });
  return tcall("minutes", { n: Math.round(s / 60) });
}

/** mm:ss (or h:mm:ss) for the running call timer. */
export function formatClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
