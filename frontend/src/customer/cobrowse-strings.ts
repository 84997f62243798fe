import { translator, type Strings } from "../lib/i18n";

export const strings = {
  askTitle: [
    "Ihre Beratung möchte diese Seite mit Ihnen ansehen",
    "Your adviser would like to look at this page with you",
  ],
  askWhat: [
    "Geteilt wird nur dieser Tab dieser Website, solange Sie hier sind – nichts anderes auf Ihrem Gerät, keine anderen Tabs oder Programme.",
    "Only this tab of this website is shared while you are on it – nothing else on your device, no other tabs or programs.",
  ],
  askHidden: [
    "Was Sie in Felder eintippen, Passwörter und als vertraulich markierte Angaben (z. B. Kartennummern) bleiben verborgen. Sie können jederzeit beenden.",
    "What you type into fields, passwords and details marked confidential (e.g. card numbers) stay hidden. You can stop at any time.",
  ],
  accept: ["Teilen erlauben", "Allow sharing"],
  decline: ["Ablehnen", "Decline"],
  notHere: [
    "Co-Browsing geht nur im Chat auf der Website selbst, nicht in diesem Fenster.",
    "Co-browsing only works in the chat on the website itself, not in this window.",
  ],
  ok: ["Verstanden", "OK"],
  controlTitle: ["Ihre Beratung möchte mitsteuern", "Your adviser would like to take control"],
  controlWhat: [
    "Sie oder er könnte dann in diesem Tab klicken, scrollen und in Felder tippen – nie in verborgene Felder, nie auf andere Websites. Sie können die Steuerung jederzeit beenden.",
    "They could then click, scroll and type into fields in this tab – never into hidden fields, never on other websites. You can take control back at any time.",
  ],
  allowControl: ["Steuerung erlauben", "Allow control"],
  running: [
    "Co-Browsing läuft: Ihre Beratung sieht diesen Tab.",
    "Co-browsing: your adviser sees this tab.",
  ],
  controlRunning: ["Beraterin oder Berater steuert mit.", "Adviser has control."],
  stop: ["Co-Browsing beenden", "Stop sharing"],
  revoke: ["Steuerung beenden", "Revoke control"],
} as const satisfies Strings;

export const tcb = translator(strings);
