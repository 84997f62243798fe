import { describe, expect, it } from "vitest";
import type { EventMsg } from "../lib/protocol.gen";
import { mustSign, signRequestOf } from "./sign-state";

let seq = 0;
function ev(kind: string, body: Record<string, unknown>, role = "adviser"): EventMsg {
  seq += 1;
  return {
    v: 1,
    type: "event",
    conversation_id: "c1",
    seq,
    kind,
    author: { role, id: null, name: null },
    body,
    at: "2026-12-02T10:00:00Z",
  } as unknown as EventMsg;
}

const requested = (id: string, signers = ["customer", "adviser"]) =>
  ev("signature.requested", {
    request_id: id,
    document_id: "d1",
    document_name: "Vertrag.pdf",
    document_sha256: "a".repeat(64),
    signers,
    spots: [],
    consent_version: "v1",
  });

describe("signRequestOf", () => {
  it("is null without a request", () => {
    expect(signRequestOf([ev("chat.message", { text: "x" })])).toBeNull();
  });

  it("follows a request from open through sealing to completed", () => {
    const log = [requested("r1")];
    expect(signRequestOf(log)?.status).toBe("open");
    expect(mustSign(signRequestOf(log), "customer")).toBe(true);
    log.push(ev("signature.signed", { request_id: "r1", signer: "customer" }, "customer"));
    expect(mustSign(signRequestOf(log), "customer")).toBe(false);
    expect(mustSign(signRequestOf(log), "adviser")).toBe(true);
    expect(signRequestOf(log)?.status).toBe("open");
    log.push(ev("signature.signed", { request_id: "r1", signer: "adviser" }));
    expect(signRequestOf(log)?.status).toBe("sealing");
    log.push(ev("signature.completed", { request_id: "r1", document_id: "d2", name: "V.pdf" }));
    const done = signRequestOf(log);
    expect(done?.status).toBe("completed");
    expect(done?.signedDocumentId).toBe("d2");
  });

  it("keeps the latest request and ignores events of older ones", () => {
    const log = [
      requested("r1", ["customer"]),
      ev("signature.cancelled", { request_id: "r1" }),
      requested("r2", ["customer"]),
      ev("signature.declined", { request_id: "r1", signer: "customer" }, "customer"),
    ];
    const req = signRequestOf(log);
    expect(req?.requestId).toBe("r2");
    expect(req?.status).toBe("open");
    expect(mustSign(req, "adviser")).toBe(false);
  });

  it("says a failure's code", () => {
    const log = [requested("r1", ["customer"])];
    log.push(ev("signature.failed", { request_id: "r1", code: "timestamp_failed", message: "" }));
    expect(signRequestOf(log)?.failure).toBe("timestamp_failed");
  });
});
