// German and English for co-browsing in the console.
import { translator, type Strings } from "../lib/i18n";

export const cobrowseStrings = {
  ask: ["Co-Browsing anfragen", "Ask to co-browse"],
  // the visible text starts the name (WCAG 2.5.3, label in name)
  askLabel: [
    "Co-Browsing anfragen: {name} fragen, ob Sie den Browser-Tab mit unserer Website sehen dürfen",
    "Ask to co-browse: ask {name} to show you their browser tab with our website",
  ],
  region: ["Co-Browsing", "Co-browsing"],
  asked: [
    "Angefragt – warte auf die Zustimmung von {name} …",
    "Asked – waiting for {name} to agree…",
  ],
  waiting: ["Zugestimmt – warte auf die Seite …", "Agreed – waiting for the page…"],
  live: ["Live: Sie sehen den Tab von {name}.", "Live: you see {name}'s tab."],
  controlAsked: ["Steuerung angefragt – warte auf {name} …", "Control asked – waiting for {name}…"],
  controlActive: [
    "Steuerung aktiv: Klicken, Scrollen und Tippen wirken bei {name}.",
    "Control active: clicks, scrolling and typing act in {name}'s tab.",
  ],
  declined: ["{name} hat das Co-Browsing abgelehnt.", "{name} declined co-browsing."],
  endedCustomer: ["{name} hat das Co-Browsing beendet.", "{name} stopped co-browsing."],
  endedAdviser: ["Co-Browsing beendet.", "Co-browsing ended."],
  endedConversation: ["Das Gespräch wurde beendet.", "The conversation has ended."],
  endedTransferred: [
    "Co-Browsing endete mit der Weitergabe des Gesprächs.",
    "Co-browsing ended when the conversation was handed on.",
  ],
  askControl: ["Steuerung anfragen", "Ask for control"],
  end: ["Co-Browsing beenden", "Stop co-browsing"],
  withdraw: ["Anfrage zurückziehen", "Withdraw request"],
  mirrorLabel: ["Gespiegelter Tab von {name}", "{name}'s mirrored tab"],
  notMirrored: ["Nicht übertragen: {what}", "Not mirrored: {what}"],
  iframe: ["eingebettete fremde Seite", "embedded page of another site"],
  video: ["Video", "video"],
  canvas: ["Zeichenfläche", "canvas"],
  resync: ["Neu laden", "Reload mirror"],
  resyncLabel: [
    "Neu laden: den Tab neu übertragen lassen",
    "Reload mirror: have the tab sent again",
  ],
} satisfies Strings;

export const tcb = translator(cobrowseStrings);
