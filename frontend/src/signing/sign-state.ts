// Where the conversation's signature request stands, folded from its events (the
// server folds the same events: collab/signing.py). Only the latest request matters
// to the screens: one is open at a time.
import type { EventMsg, SignatureSpotBody } from "../lib/protocol.gen";

export type Side = "customer" | "adviser";
export type SignStatus = "open" | "sealing" | "completed" | "declined" | "cancelled" | "failed";

export interface SignRequest {
  requestId: string;
  documentId: string;
  documentName: string;
  sha256: string;
  signers: readonly Side[];
  spots: readonly SignatureSpotBody[];
  consentVersion: string;
  signed: ReadonlySet<Side>;
  status: SignStatus;
  /** The sealed PDF (completed). */
  signedDocumentId: string | null;
  signedName: string | null;
  failure: string | null;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** The latest request of the log, or null if none was made. */
export function signRequestOf(events: readonly EventMsg[]): SignRequest | null {
  let req: SignRequest | null = null;
  for (const e of events) {
    if (!e.kind.startsWith("signature.")) continue;
    const b = e.body;
    if (e.kind === "signature.requested") {
      const signers = Array.isArray(b["signers"]) ? (b["signers"] as Side[]) : ["customer"];
      req = {
        requestId: str(b["request_id"]),
        documentId: str(b["document_id"]),
        documentName: str(b["document_name"]),
        sha256: str(b["document_sha256"]),
        signers: signers as Side[],
        spots: Array.isArray(b["spots"]) ? (b["spots"] as SignatureSpotBody[]) : [],
        consentVersion: str(b["consent_version"]),
        signed: new Set(),
        status: "open",
        signedDocumentId: null,
        signedName: null,
        failure: null,
      };
      continue;
    }
    if (!req || b["request_id"] !== req.requestId) continue;
    switch (e.kind) {
      case "signature.signed": {
        const cur: SignRequest = req;
        const signed = new Set<Side>(cur.signed);
        signed.add(b["signer"] === "adviser" ? "adviser" : "customer");
        const done: boolean = cur.signers.every((s) => signed.has(s));
        req = { ...cur, signed, status: done ? "sealing" : "open" };
        break;
      }
      case "signature.completed":
        req = {
          ...req,
          status: "completed",
          signedDocumentId: str(b["document_id"]),
          signedName: str(b["name"]),
        };
        break;
      case "signature.declined":
        req = { ...req, status: "declined" };
        break;
      case "signature.cancelled":
        req = { ...req, status: "cancelled" };
        break;
      case "signature.failed":
        req = { ...req, status: "failed", failure: str(b["code"]) };
        break;
    }
  }
  return req;
}

/** Must `side` sign this request now? */
export function mustSign(req: SignRequest | null, side: Side): boolean {
  return !!req && req.status === "open" && req.signers.includes(side) && !req.signed.has(side);
}
