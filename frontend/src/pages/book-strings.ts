// The booking page's texts (de, en).
import { translator, type Strings } from "../lib/i18n";

export const strings = {
  title: ["Termin buchen", "Book an appointment"],
  managePage: ["Termin verwalten", "Manage your appointment"],
  intro: [
    "Wählen Sie einen freien Termin für eine Video- oder Chatberatung. Sie erhalten eine E-Mail mit Kalendereinladung und dem Link zum Gespräch.",
    "Choose a free slot for a video or chat consultation. You will get an e-mail with a calendar invitation and the link to the conversation.",
  ],
  topic: ["Thema (freiwillig)", "Topic (optional)"],
  anyTopic: ["– alle –", "– any –"],
  timezone: ["Zeiten in Ihrer Zeitzone ({tz}).", "Times in your time zone ({tz})."],
  loading: ["Lade freie Termine …", "Loading free slots…"],
  noSlots: [
    "Zurzeit sind keine Termine frei. Bitte schauen Sie später wieder vorbei.",
    "No free slots at the moment. Please check again later.",
  ],
  slotLabel: ["{day}, {from}–{to} mit {adviser}", "{day}, {from}–{to} with {adviser}"],
  chosen: ["Ihr Termin: {when} mit {adviser}", "Your appointment: {when} with {adviser}"],
  change: ["Anderen Termin wählen", "Choose another slot"],
  name: ["Ihr Name", "Your name"],
  email: ["Ihre E-Mail-Adresse", "Your e-mail address"],
  emailHint: [
    "Dorthin schicken wir die Einladung und den Link.",
    "We send the invitation and the link there.",
  ],
  book: ["Verbindlich buchen", "Book now"],
  booking: ["Buche …", "Booking…"],
  needName: ["Bitte geben Sie Ihren Namen an.", "Please give your name."],
  needEmail: [
    "Bitte geben Sie eine gültige E-Mail-Adresse an.",
    "Please give a valid e-mail address.",
  ],
  err_slot_taken: [
    "Dieser Termin wurde gerade vergeben. Bitte wählen Sie einen anderen.",
    "Someone was faster and took this slot. Please choose another one.",
  ],
  err_bad_request: [
    "Bitte prüfen Sie Ihre Angaben (E-Mail-Adresse?).",
    "Please check your details (e-mail address?).",
  ],
  err_invalid_state: [
    "Terminbuchung ist gerade nicht möglich (E-Mail-Versand nicht eingerichtet).",
    "Booking is not possible right now (e-mail is not set up).",
  ],
  err_mail_failed: [
    "Die Bestätigung konnte nicht verschickt werden – der Termin wurde nicht gebucht. Bitte versuchen Sie es erneut.",
    "The confirmation could not be sent – nothing was booked. Please try again.",
  ],
  err_not_found: [
    "Diesen Termin gibt es nicht mehr. Bitte wählen Sie einen anderen.",
    "This slot no longer exists. Please choose another one.",
  ],
  doneTitle: ["Ihr Termin ist gebucht", "Your appointment is booked"],
  doneWhen: ["Wann", "When"],
  doneWith: ["Mit", "With"],
  doneMail: [
    "Wir haben Ihnen eine E-Mail mit einer Kalendereinladung (.ics) geschickt. Öffnen Sie den Anhang, um den Termin in Ihren Kalender zu übernehmen. Zur Terminzeit öffnen Sie einfach den Link aus der E-Mail.",
    "We have sent you an e-mail with a calendar invitation (.ics). Open the attachment to add the appointment to your calendar. At the time, just open the link in the e-mail.",
  ],
  cancelLink: ["Termin verschieben oder absagen", "Move or cancel the appointment"],
  cancelTitle: ["Termin absagen", "Cancel your appointment"],
  cancelIntro: [
    "Möchten Sie Ihren Termin wirklich absagen? Der Termin wird wieder freigegeben.",
    "Do you really want to cancel your appointment? The slot becomes free again.",
  ],
  cancelYes: ["Ja, Termin absagen", "Yes, cancel it"],
  cancelling: ["Sage ab …", "Cancelling…"],
  cancelled: [
    "Ihr Termin ist abgesagt. Sie erhalten eine Bestätigung per E-Mail.",
    "Your appointment is cancelled. You will get a confirmation by e-mail.",
  ],
  cancelFailed: [
    "Der Termin konnte nicht abgesagt werden: {reason}",
    "The appointment could not be cancelled: {reason}",
  ],
  bookAgain: ["Neuen Termin buchen", "Book another appointment"],
  toChat: ["Zum Chat", "To the chat"],
  manageTitle: ["Ihr Termin", "Your appointment"],
  manageLoading: ["Lade Ihren Termin …", "Loading your appointment…"],
  manageInvalid: [
    "Dieser Link ist ungültig, oder den Termin gibt es nicht mehr.",
    "This link is not valid, or the appointment no longer exists.",
  ],
  stateCancelled: ["Dieser Termin wurde abgesagt.", "This appointment was cancelled."],
  stateBegun: [
    "Dieser Termin hat bereits begonnen und lässt sich nicht mehr verschieben oder absagen. Öffnen Sie den Link aus der E-Mail, um zum Gespräch zu kommen.",
    "This appointment has already begun and can no longer be moved or cancelled. Open the link in the e-mail to join the conversation.",
  ],
  stateOver: ["Dieser Termin ist vorbei.", "This appointment is over."],
  move: ["Auf eine andere Zeit verschieben", "Move to another time"],
  moveTitle: ["Neue Zeit wählen", "Choose a new time"],
  moveIntro: [
    "Freie Zeiten bei {adviser}. Ihr jetziger Termin ({when}) bleibt bestehen, bis der neue gebucht ist.",
    "Free times with {adviser}. Your current appointment ({when}) stays until the new one is booked.",
  ],
  moveNone: [
    "{adviser} hat zurzeit keine anderen freien Zeiten. Ihr Termin bleibt, wie er ist.",
    "{adviser} has no other free times at the moment. Your appointment stays as it is.",
  ],
  moveFrom: ["Bisher", "Before"],
  moveTo: ["Neu", "New"],
  moveConfirm: ["Termin verschieben", "Move the appointment"],
  moving: ["Verschiebe Ihren Termin …", "Moving your appointment…"],
  back: ["Zurück", "Back"],
  movedTitle: ["Ihr Termin ist verschoben", "Your appointment has moved"],
  movedMail: [
    "Wir haben Ihnen und {adviser} eine aktualisierte Kalendereinladung geschickt; Ihr Kalender ersetzt damit den alten Eintrag. Der Link zum Gespräch aus Ihrer E-Mail gilt weiter – zur neuen Zeit.",
    "We have sent you and {adviser} an updated calendar invitation; your calendar replaces the old entry with it. The link to the conversation in your e-mail keeps working – at the new time.",
  ],
  movedNoMail: [
    "Die E-Mail mit der neuen Zeit konnte nicht verschickt werden. Ihr Termin ist trotzdem verschoben – bitte notieren Sie sich die neue Zeit. Der Link zum Gespräch aus Ihrer E-Mail gilt weiter.",
    "The e-mail with the new time could not be sent. Your appointment has moved all the same – please note the new time. The link to the conversation in your e-mail keeps working.",
  ],
  moveTaken: [
    "Diese Zeit wurde gerade vergeben. Ihr bisheriger Termin bleibt bestehen – bitte wählen Sie eine andere.",
    "Someone was faster and took this time. Your current appointment stays as it is – please choose another one.",
  ],
  moveFailed: [
    "Der Termin konnte nicht verschoben werden: {reason}",
    "The appointment could not be moved: {reason}",
  ],
  manageAgain: ["Termin verschieben oder absagen", "Move or cancel the appointment"],
} as const satisfies Strings;
export const t = translator(strings);
