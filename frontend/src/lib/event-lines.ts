// History lines for the room's collaboration events (documents, drawing, the shared
// video, photos, co-browsing): every kind gets a readable line, never an empty one.
// "{who}: …" like the device lines, so "Sie" and a name read the same way.
import { translator, type Strings } from "./i18n";
import type { EventMsg } from "./protocol.gen";

export const eventStrings = {
  shared: ["{who}: Dokument geteilt – „{name}“", "{who}: shared a document – “{name}”"],
  sharedPhoto: ["{who}: Foto geteilt – „{name}“", "{who}: shared a photo – “{name}”"],
  rightsOn: ["{who}: „{name}“ darf heruntergeladen werden", "{who}: “{name}” may be downloaded"],
  rightsOff: [
    "{who}: „{name}“ darf nicht heruntergeladen werden",
    "{who}: “{name}” may not be downloaded",
  ],
  presented: ["{who}: zeigt „{name}“", "{who}: showing “{name}”"],
  presentedPage: ["{who}: zeigt „{name}“, Seite {page}", "{who}: showing “{name}”, page {page}"],
  cleared: ["{who}: Anzeige beendet", "{who}: stopped showing the document"],
  annotated: ["{who}: Markierung auf Seite {page}", "{who}: marked page {page}"],
  annotationsCleared: [
    "{who}: Markierungen auf Seite {page} entfernt",
    "{who}: cleared the marks on page {page}",
  ],
  videoPlay: ["{who}: Video gestartet", "{who}: played the video"],
  videoPause: ["{who}: Video angehalten", "{who}: paused the video"],
  videoSeek: ["{who}: Video auf {pos} gesetzt", "{who}: moved the video to {pos}"],
  photoAsked: ["{who}: bittet um ein Foto", "{who}: asked for a photo"],
  photoDeclined: ["{who}: kein Foto", "{who}: declined the photo"],
  cbRequested: ["{who}: fragt nach Co-Browsing", "{who}: asked to co-browse"],
  cbStarted: ["{who}: Co-Browsing erlaubt", "{who}: allowed co-browsing"],
  cbDeclined: ["{who}: Co-Browsing abgelehnt", "{who}: declined co-browsing"],
  cbControlAsked: [
    "{who}: fragt, ob die Seite bedient werden darf",
    "{who}: asked to control the page",
  ],
  cbControlGranted: ["{who}: Bedienen der Seite erlaubt", "{who}: allowed control of the page"],
  cbControlDeclined: ["{who}: Bedienen der Seite abgelehnt", "{who}: kept control of the page"],
  cbControlRevoked: [
    "{who}: Bedienen der Seite zurückgenommen",
    "{who}: took back control of the page",
  ],
  cbEnded: ["{who}: Co-Browsing beendet", "{who}: stopped co-browsing"],
  cbEndedWithConversation: [
    "Co-Browsing mit dem Gespräch beendet",
    "Co-browsing ended with the conversation",
  ],
  cbEndedWithTransfer: [
    "Co-Browsing mit der Weitergabe des Gesprächs beendet",
    "Co-browsing ended when the conversation was handed on",
  ],
  signRequested: [
    "{who}: „{name}“ zur Unterschrift vorgelegt",
    "{who}: put “{name}” up for signature",
  ],
  signSigned: ["{who}: unterschrieben", "{who}: signed"],
  signCompleted: ["Unterschrieben und versiegelt – „{name}“", "Signed and sealed – “{name}”"],
  signDeclined: ["{who}: Unterschrift abgelehnt", "{who}: declined to sign"],
  signCancelled: [
    "{who}: Unterschriftsanfrage zurückgezogen",
    "{who}: withdrew the signature request",
  ],
  signFailed: ["Versiegeln fehlgeschlagen ({code})", "Sealing failed ({code})"],
  document: ["Dokument", "document"],
  foldMore: ["{n} frühere Meldungen anzeigen", "Show {n} earlier updates"],
  foldMoreOne: ["1 frühere Meldung anzeigen", "Show 1 earlier update"],
  foldLess: ["Frühere Meldungen ausblenden", "Hide earlier updates"],
} as const satisfies Strings;

export const tev = translator(eventStrings);

/** Kinds that come in bursts (a drawing, page turns, the video's controls, devices):
 * runs of them are folded to each participant's latest line. */
export const NOISY_KINDS: ReadonlySet<string> = new Set([
  "call.media",
  "annotation.added",
  "annotation.cleared",
  "video.control",
  "document.presented",
]);

/** The participant and what kind of burst: the latest of each is kept when folded. */
export function noisyKey(ev: EventMsg): string {
  const group = ev.kind.startsWith("annotation.") ? "annotation" : ev.kind;
  return `${group}:${ev.author.id || ev.author.role}`;
}

function clock(seconds: unknown): string {
  const s = typeof seconds === "number" && Number.isFinite(seconds) ? Math.max(0, seconds) : 0;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
}

function pageNo(page: unknown): number {
  return typeof page === "number" ? page + 1 : 1;
}

/** The line for a collaboration event, or null for a kind that is not one of them.
 * `who` names the author ("Sie"/"You" for one's own); `docName` finds a document's
 * name and page count from its document.shared event. */
export function collabLine(
  ev: EventMsg,
  who: string,
  doc: (id: unknown) => { name: string; pages: number } | null,
): string | null {
  const b = ev.body;
  const named = () => doc(b["document_id"])?.name || tev("document");
  switch (ev.kind) {
    case "document.shared":
      return tev(b["source"] === "snapshot" ? "sharedPhoto" : "shared", {
        who,
        name: typeof b["name"] === "string" ? b["name"] : tev("document"),
      });
    case "document.rights":
      return tev(b["downloadable"] === true ? "rightsOn" : "rightsOff", { who, name: named() });
    case "document.presented": {
      const d = doc(b["document_id"]);
      const name = d?.name || tev("document");
      return d && d.pages > 1
        ? tev("presentedPage", { who, name, page: pageNo(b["page"]) })
        : tev("presented", { who, name });
    }
    case "stage.cleared":
      return tev("cleared", { who });
    case "annotation.added":
      return tev("annotated", { who, page: pageNo(b["page"]) });
    case "annotation.cleared":
      return tev("annotationsCleared", { who, page: pageNo(b["page"]) });
    case "video.control":
      if (b["action"] === "play") return tev("videoPlay", { who });
      if (b["action"] === "pause") return tev("videoPause", { who });
      return tev("videoSeek", { who, pos: clock(b["position"]) });
    case "snapshot.requested":
      return tev("photoAsked", { who });
    case "snapshot.declined":
      return tev("photoDeclined", { who });
    case "cobrowse.requested":
      return tev("cbRequested", { who });
    case "cobrowse.started":
      return tev("cbStarted", { who });
    case "cobrowse.declined":
      return tev("cbDeclined", { who });
    case "cobrowse.control_requested":
      return tev("cbControlAsked", { who });
    case "cobrowse.control_granted":
      return tev("cbControlGranted", { who });
    case "cobrowse.control_declined":
      return tev("cbControlDeclined", { who });
    case "cobrowse.control_revoked":
      return tev("cbControlRevoked", { who });
    case "cobrowse.ended":
      if (b["reason"] === "conversation_ended") return tev("cbEndedWithConversation");
      if (b["reason"] === "transferred") return tev("cbEndedWithTransfer");
      return tev("cbEnded", { who });
    case "signature.requested":
      return tev("signRequested", {
        who,
        name: typeof b["document_name"] === "string" ? b["document_name"] : tev("document"),
      });
    case "signature.signed":
      return tev("signSigned", { who });
    case "signature.completed":
      return tev("signCompleted", {
        name: typeof b["name"] === "string" ? b["name"] : tev("document"),
      });
    case "signature.declined":
      return tev("signDeclined", { who });
    case "signature.cancelled":
      return tev("signCancelled", { who });
    case "signature.failed":
      return tev("signFailed", { code: typeof b["code"] === "string" ? b["code"] : "" });
    default:
      return null;
  }
}
