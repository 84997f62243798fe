// Texts of forms filled in together (customers and advisers, German and English).
import { translator, type Strings } from "../lib/i18n";

export const strings = {
  formLabel: ["Formular", "Form"],
  required: ["Pflichtfeld", "Required"],
  choose: ["Bitte wählen", "Please choose"],
  yes: ["Ja", "Yes"],
  no: ["Nein", "No"],
  adviserTyping: ["Ihre Beraterin oder Ihr Berater tippt …", "Adviser is typing…"],
  customerTyping: ["Die Kundin oder der Kunde tippt …", "Customer is typing…"],
  conflict: [
    "{who} hat dieses Feld gerade geändert. Ihre Eingabe „{mine}“ wurde nicht übernommen – bitte prüfen Sie den neuen Wert.",
    "{who} just changed this field. Your entry “{mine}” was not saved – please check the new value.",
  ],
  theAdviser: ["Ihre Beraterin oder Ihr Berater", "Your adviser"],
  theCustomer: ["Die Kundin oder der Kunde", "The customer"],
  refusedChange: [
    "Ihre Eingabe wurde nicht übernommen: {reason}",
    "Your entry was not saved: {reason}",
  ],
  submit: ["Formular abschicken", "Submit form"],
  submitting: ["Wird abgeschickt …", "Submitting…"],
  cancel: ["Formular schließen", "Close form"],
  notValid: [
    "Das Formular ist noch nicht vollständig oder hat Fehler ({count} Felder). Die Felder sind markiert.",
    "The form is not complete yet or has errors ({count} fields). The fields are marked.",
  ],
  customerWaits: [
    "Sie können alle Felder mit ausfüllen. Ihre Beraterin oder Ihr Berater schickt das Formular ab, wenn es vollständig ist.",
    "You can fill in any field too. Your adviser submits the form once it is complete.",
  ],
  confirmAsk: [
    "Das Formular wurde abgeschickt. Bitte prüfen Sie die Angaben und bestätigen Sie sie.",
    "The form was submitted. Please check the details and confirm them.",
  ],
  confirm: ["Angaben bestätigen", "Confirm the details"],
  waitConfirm: [
    "Abgeschickt – wartet auf die Bestätigung der Kundin oder des Kunden.",
    "Submitted – waiting for the customer to confirm.",
  ],
  confirmed: ["Abgeschickt und bestätigt.", "Submitted and confirmed."],
  cancelled: ["Das Formular wurde geschlossen.", "The form was closed."],
  downloadPdf: ["Als PDF herunterladen", "Download as PDF"],
  putUpForSignature: ["Zur Unterschrift vorlegen", "Put up for signature"],
  downloadJson: ["Als JSON herunterladen", "Download as JSON"],
  downloadFailed: ["Der Download ist fehlgeschlagen.", "The download failed."],
  // the adviser's picker (before opening)
  openForm: ["Formular", "Form"],
  pickTemplate: ["Vorlage", "Template"],
  noTemplates: ["Es gibt noch keine Formularvorlagen.", "There are no form templates yet."],
  prefillHint: [
    "Sie können Felder schon vorab ausfüllen. „Im Gespräch öffnen“ zeigt das Formular auch der Kundin oder dem Kunden.",
    "You can fill in fields beforehand. “Open in the conversation” shows the form to the customer too.",
  ],
  openInConversation: ["Im Gespräch öffnen", "Open in the conversation"],
  close: ["Abbrechen", "Cancel"],
  loading: ["Wird geladen …", "Loading…"],
  // validation messages by code (and format)
  e_required: ["Bitte ausfüllen.", "Please fill this in."],
  e_type: ["Bitte eine Zahl eingeben.", "Please enter a number."],
  e_pattern: ["Das Format stimmt nicht.", "The format is not right."],
  e_enum: ["Bitte einen der angebotenen Werte wählen.", "Please choose one of the values offered."],
  e_minimum: ["Mindestens {n}.", "At least {n}."],
  e_maximum: ["Höchstens {n}.", "At most {n}."],
  e_min_length: ["Mindestens {n} Zeichen.", "At least {n} characters."],
  e_max_length: ["Höchstens {n} Zeichen.", "At most {n} characters."],
  e_invalid: ["Dieser Wert ist ungültig.", "This value is not valid."],
  e_cents: ["Höchstens zwei Nachkommastellen.", "At most two decimals."],
  e_format: ["Das Format stimmt nicht.", "The format is not right."],
  f_iban: [
    "Diese IBAN ist ungültig (Länge oder Prüfziffer).",
    "This IBAN is not valid (length or check digits).",
  ],
  f_bic: ["Diese BIC ist ungültig.", "This BIC is not valid."],
  f_phone: [
    "Bitte eine gültige Telefonnummer, z. B. 030 1234567.",
    "Please enter a valid phone number, e.g. +49 30 1234567.",
  ],
  f_email: ["Bitte eine gültige E-Mail-Adresse.", "Please enter a valid e-mail address."],
  "f_postcode-de": ["Bitte eine fünfstellige Postleitzahl.", "Please enter a five-digit postcode."],
  f_date: ["Bitte ein gültiges Datum.", "Please enter a valid date."],
  // the admin's view of templates
  tabForms: ["Formulare", "Forms"],
  templatesTitle: ["Formularvorlagen", "Form templates"],
  templatesIntro: [
    "Vorlagen sind JSON-Dateien: JSON Schema (Entwurf 2020-12) und eine Beschreibung der Oberfläche. Eine geänderte Datei wird eine neue Version; laufende und abgeschickte Formulare behalten ihre.",
    "Templates are JSON files: JSON Schema (draft 2020-12) and a description of the UI. A changed file becomes a new version; running and submitted forms keep theirs.",
  ],
  upload: ["JSON-Datei hochladen", "Upload a JSON file"],
  uploaded: ["{title}: Version {version} gespeichert.", "{title}: version {version} saved."],
  unchanged: [
    "{title}: unverändert (Version {version}).",
    "{title}: unchanged (version {version}).",
  ],
  remove: ["Entfernen", "Remove"],
  removeLabel: ["{title} entfernen", "Remove {title}"],
  removed: ["{id} entfernt.", "{id} removed."],
  version: ["Version {version} · {fields} Felder", "Version {version} · {fields} fields"],
} satisfies Strings;

export const tf = translator(strings);
