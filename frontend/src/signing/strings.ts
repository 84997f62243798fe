// Texts of signing, German and English. Never call the result a "qualifizierte
// elektronische Signatur": the drawn signature is a simple electronic signature,
// sealed with the organisation's electronic seal.
import { translator, type Strings } from "../lib/i18n";

export const strings = {
  prepare: ["Zur Unterschrift vorlegen", "Put up for signature"],
  prepareTitle: ["Unterschrift anfordern", "Ask for a signature"],
  placeHint: [
    "Ziehen Sie auf der Seite ein Feld auf, wo unterschrieben wird. Tastatur: Feld auswählen, Pfeiltasten verschieben, mit Umschalt die Größe ändern.",
    "Drag a box on the page where the signature goes. Keyboard: select a box, arrow keys move it, with Shift they resize it.",
  ],
  boxOf: ["Unterschriftsfeld: {who}", "Signature box: {who}"],
  placeFor: ["Feld aufziehen für: {who}", "Drag a box for: {who}"],
  customer: ["Kundin oder Kunde", "Customer"],
  adviser: ["Beraterin oder Berater", "Adviser"],
  adviserSigns: ["Ich unterschreibe auch", "I sign too"],
  usePdfFields: [
    "Die Unterschriftsfelder des PDFs verwenden",
    "Use the PDF's own signature fields",
  ],
  pageOf: ["Seite {page} von {pages}", "Page {page} of {pages}"],
  send: ["Anfordern", "Ask to sign"],
  cancel: ["Abbrechen", "Cancel"],
  withdraw: ["Anfrage zurückziehen", "Withdraw the request"],
  signTitle: ["„{name}“ unterschreiben", "Sign “{name}”"],
  signHint: [
    "Bitte lesen Sie das Dokument. Die markierten Felder zeigen, wo Ihre Unterschrift erscheint.",
    "Please read the document. The marked boxes show where your signature will appear.",
  ],
  draw: ["Zeichnen", "Draw"],
  type: ["Namen tippen", "Type your name"],
  drawHere: [
    "Unterschreiben Sie hier mit Finger, Stift oder Maus",
    "Sign here with your finger, pen or mouse",
  ],
  drawLabel: ["Unterschriftsfeld zum Zeichnen", "Area to draw your signature"],
  clear: ["Löschen", "Clear"],
  typedName: ["Ihr vollständiger Name", "Your full name"],
  consentLabel: ["Einverständnis (Version {version})", "Consent (version {version})"],
  sign: ["Unterschreiben", "Sign"],
  decline: ["Ablehnen", "Decline"],
  needSignature: ["Bitte unterschreiben Sie zuerst.", "Please sign first."],
  needConsent: ["Bitte bestätigen Sie das Einverständnis.", "Please confirm your consent."],
  sending: ["Wird gesendet …", "Sending…"],
  waitingFor: ["Warten auf die Unterschrift: {who}", "Waiting for the signature: {who}"],
  sealing: ["Wird versiegelt …", "Sealing…"],
  completed: ["Unterschrieben und versiegelt: „{name}“", "Signed and sealed: “{name}”"],
  download: ["Unterschriebenes PDF herunterladen", "Download the signed PDF"],
  declined: ["Die Unterschrift wurde abgelehnt.", "The signature was declined."],
  cancelled: ["Die Anfrage wurde zurückgezogen.", "The request was withdrawn."],
  failed: [
    "Das Versiegeln ist fehlgeschlagen ({code}). Bitte erneut vorlegen.",
    "Sealing failed ({code}). Please put it up again.",
  ],
  kind: [
    "Einfache elektronische Signatur, versiegelt mit dem elektronischen Siegel der Organisation",
    "Simple electronic signature, sealed with the organisation's electronic seal",
  ],
  err_signature_consent_missing: [
    "Bitte bestätigen Sie das Einverständnis.",
    "Please confirm your consent.",
  ],
  err_signature_consent_outdated: [
    "Der Einverständnistext hat sich geändert. Bitte neu laden und erneut lesen.",
    "The consent text has changed. Please reload and read it again.",
  ],
  err_signature_document_changed: [
    "Das Dokument hat sich geändert; es kann so nicht unterschrieben werden.",
    "The document has changed; it cannot be signed like this.",
  ],
  err_signature_image_invalid: [
    "Die Unterschrift konnte nicht gelesen werden. Bitte erneut zeichnen.",
    "The signature could not be read. Please draw it again.",
  ],
  err_signature_spots_invalid: [
    "Die Unterschriftsfelder passen nicht: jede unterschreibende Person braucht ein Feld auf einer Seite.",
    "The signature boxes do not fit: everyone who signs needs one box on a page.",
  ],
  err_signature_not_open: [
    "Diese Anfrage ist nicht mehr offen.",
    "This request is no longer open.",
  ],
  err_pdf_encrypted: [
    "Das PDF ist verschlüsselt und kann nicht unterschrieben werden.",
    "The PDF is encrypted and cannot be signed.",
  ],
  err_pdf_malformed: ["Das PDF ist beschädigt.", "The PDF is damaged."],
  err_pdf_already_signed: [
    "Das PDF ist bereits digital signiert.",
    "The PDF is already digitally signed.",
  ],
} as const satisfies Strings;

export const ts = translator(strings);

/** A text for an error code of signing, else the common one. */
export function signError(code: string, fallback: (code: string) => string): string {
  const key = `err_${code}`;
  return key in strings ? ts(key as keyof typeof strings) : fallback(code);
}
