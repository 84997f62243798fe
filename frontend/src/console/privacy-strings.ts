// Texts of the admins' data-protection view ("Datenschutz").
import { translator, type Strings } from "../lib/i18n";

export const strings = {
  tabPrivacy: ["Datenschutz", "Data protection"],
  title: ["Datenschutz", "Data protection"],
  intro: [
    "Die Daten einer Kundin oder eines Kunden exportieren oder löschen. Gefunden wird über die angegebene E-Mail-Adresse, Telefonnummer oder Gesprächs-IDs.",
    "Export or erase one customer's data, found by the e-mail address or phone number they gave, or by conversation ids.",
  ],
  profile: ["Profil: {profile}", "Profile: {profile}"],
  kind: ["Daten", "Data"],
  days: ["Aufbewahrung (Tage nach Gesprächsende)", "Kept (days after the end)"],
  held: ["gesetzlich aufzubewahren", "kept by law"],
  email: ["E-Mail-Adresse", "E-mail address"],
  phone: ["Telefonnummer", "Phone number"],
  ids: ["Gesprächs-IDs (durch Leerzeichen getrennt)", "Conversation ids (space-separated)"],
  exportButton: ["Exportieren (ZIP)", "Export (ZIP)"],
  eraseButton: ["Löschen …", "Erase…"],
  eraseConfirm: [
    "Wirklich löschen? Was gesetzlich aufzubewahren ist, bleibt bis zum Fristende.",
    "Really erase? What the law keeps stays until its period ends.",
  ],
  eraseYes: ["Endgültig löschen", "Erase for good"],
  exported: ["{count} Gespräch(e) exportiert.", "{count} conversation(s) exported."],
  erased: [
    "{deleted} Gespräch(e) gelöscht, {partly} teilweise (Aufbewahrungspflicht).",
    "{deleted} conversation(s) erased, {partly} in part (kept by law).",
  ],
  keptLine: ["{kind} von {id} bis {until}: {reason}", "{kind} of {id} until {until}: {reason}"],
  nothing: [
    "Bitte E-Mail, Telefonnummer oder Gesprächs-IDs angeben.",
    "Please give an e-mail, phone number or conversation ids.",
  ],
  auditTitle: ["Zugriffsprotokoll", "Access log"],
  auditVerify: ["Kette prüfen", "Verify the chain"],
  auditOk: ["Unverändert: {count} Einträge, Kopf {head}", "Intact: {count} entries, head {head}"],
  auditBroken: ["Verändert: {problems}", "Broken: {problems}"],
} as const satisfies Strings;

export const tpriv = translator(strings);
