import { translator, type Strings } from "../lib/i18n";

export const strings = {
  title: ["Chat mit unserer Beratung", "Chat with our advisers"],
  startIntro: [
    "Schreiben Sie uns – ohne Anmeldung. Eine Beraterin oder ein Berater antwortet Ihnen gleich hier.",
    "Write to us – no registration needed. An adviser will answer you right here.",
  ],
  nameLabel: ["Ihr Name (freiwillig)", "Your name (optional)"],
  topicLabel: ["Thema (freiwillig)", "Topic (optional)"],
  topicNone: ["– bitte wählen –", "– please choose –"],
  firstMessageLabel: ["Ihre Nachricht", "Your message"],
  firstMessagePlaceholder: ["Worum geht es?", "How can we help?"],
  startSubmit: ["Chat starten", "Start chat"],
  starting: ["Starte …", "Starting…"],
  privacyNote: [
    "Ihr Gespräch wird auf dem Server dieses Unternehmens gespeichert. In Ihrem Browser wird erst etwas gespeichert, wenn Sie den Chat starten.",
    "Your conversation is stored on this company's own server. Nothing is stored in your browser until you start the chat.",
  ],
  privacyLink: ["Datenschutz: was gespeichert wird", "Privacy: what is kept"],
  previousGone: [
    "Ihr früheres Gespräch ist nicht mehr verfügbar. Sie können ein neues beginnen.",
    "Your previous conversation is no longer available. You can start a new one.",
  ],
  waitingTitle: ["Warten auf Beratung", "Waiting for an adviser"],
  chatWith: ["Chat mit", "Chat with"],
  queuePosition: [
    "Sie sind an Position {position} der Warteschlange ({waiting} warten).",
    "You are number {position} in the queue ({waiting} waiting).",
  ],
  queueNext: ["Sie sind als Nächste:r an der Reihe.", "You are next in line."],
  queueUnknown: [
    "Einen Moment bitte – wir verbinden Sie gleich.",
    "One moment please – we will connect you shortly.",
  ],
  noAdviser: [
    "Gerade ist niemand verfügbar. Schreiben Sie Ihr Anliegen – wir antworten so bald wie möglich.",
    "Nobody is available right now. Leave your message – we will reply as soon as possible.",
  ],
  writeWhileWaiting: [
    "Sie können schon schreiben, während Sie warten.",
    "You can already write while you wait.",
  ],
  endConversation: ["Gespräch beenden", "End conversation"],
  endedBanner: ["Das Gespräch ist beendet. Vielen Dank!", "The conversation has ended. Thank you!"],
  newConversation: ["Neues Gespräch beginnen", "Start a new conversation"],
  refused: [
    "Nachricht konnte nicht gesendet werden: {reason}",
    "Message could not be sent: {reason}",
  ],
} as const satisfies Strings;

export const t = translator(strings);
