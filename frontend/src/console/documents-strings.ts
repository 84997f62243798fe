// Texts of the console's document views: the shared documents of a past conversation
// and the library's admin view.
import { translator, type Strings } from "../lib/i18n";

export const strings = {
  sharedDocs: ["Geteilte Dokumente", "Shared documents"],
  noSharedDocs: [
    "In diesem Gespräch wurden keine Dokumente geteilt.",
    "No documents were shared in this conversation.",
  ],
  openDoc: ["Öffnen", "Open"],
  openDocName: ["{name} öffnen", "Open {name}"],
  src_upload: ["hochgeladen", "uploaded"],
  src_library: ["aus der Bibliothek", "from the library"],
  src_snapshot: ["Foto auf Anfrage", "requested photo"],
  src_form: ["Formular als PDF", "form as PDF"],
  src_signed: ["unterschrieben und versiegelt", "signed and sealed"],
  sharedBy: ["von {name}", "by {name}"],
  customer: ["Kunde", "customer"],
  tabLibrary: ["Bibliothek", "Library"],
  libraryTitle: ["Dokumentenbibliothek", "Document library"],
  libraryIntro: [
    "Dokumente und Produktvideos, die Beraterinnen und Berater im Gespräch teilen können.",
    "Documents and product videos advisers can share in a conversation.",
  ],
  libraryFile: ["Datei (PDF, PNG, JPEG, MP4 oder WebM)", "File (PDF, PNG, JPEG, MP4 or WebM)"],
  libraryName: ["Name", "Name"],
  libraryDownloadable: ["Kunden dürfen es herunterladen", "Customers may download it"],
  libraryAdd: ["Hinzufügen", "Add"],
  libraryAdding: ["Wird hochgeladen … {percent} %", "Uploading… {percent}%"],
  libraryAdded: ["{name} ist in der Bibliothek.", "{name} is in the library."],
  libraryRemove: ["Entfernen", "Remove"],
  libraryRemoveName: ["{name} entfernen", "Remove {name}"],
  libraryConfirm: [
    "{name} wirklich entfernen? Bereits geteilte Kopien bleiben in ihren Gesprächen.",
    "Really remove {name}? Copies already shared stay in their conversations.",
  ],
  libraryEmpty: ["Die Bibliothek ist leer.", "The library is empty."],
  downloadable: ["herunterladbar", "downloadable"],
  notDownloadable: ["nur ansehen", "view only"],
} as const satisfies Strings;

export const tdoc = translator(strings);
