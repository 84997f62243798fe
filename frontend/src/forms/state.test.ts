import { describe, expect, it } from "vitest";
import type { EventMsg } from "../lib/protocol.gen";
import { hasForm, latestForm } from "./state";

let seq = 0;
function ev(kind: string, body: Record<string, unknown>, role = "adviser"): EventMsg {
  seq += 1;
  return {
    type: "event",
    conversation_id: "c1",
    seq,
    kind,
    author: { role, id: null, name: null },
    body,
    at: "2026-01-01T10:00:00Z",
  } as EventMsg;
}

const ui = { groups: [{ id: "a", label: { de: "A", en: "A" }, fields: ["name"] }], fields: {} };
const opened = (id: string) =>
  ev("form.opened", {
    form_id: id,
    template_id: "t",
    version: 2,
    title: { de: "T", en: "T" },
    schema: {},
    ui,
    values: { name: "Erika" },
    errors: {},
  });

describe("a form replayed from its events", () => {
  it("has the latest form, its values, revisions, authors and errors", () => {
    const events = [
      ev("chat.message", { text: "Hallo" }),
      opened("f1"),
      ev(
        "form.changed",
        {
          form_id: "f1",
          field: "iban",
          value: "DE00",
          rev: 1,
          errors: { iban: [{ code: "format", detail: "iban" }] },
        },
        "customer",
      ),
      ev("form.changed", { form_id: "f1", field: "name", value: null, rev: 1, errors: {} }),
    ];
    expect(hasForm(events)).toBe(true);
    const form = latestForm(events)!;
    expect(form.values).toEqual({ iban: "DE00" });
    expect(form.revs).toEqual({ iban: 1, name: 1 });
    expect(form.by).toEqual({ iban: "customer", name: "adviser" });
    expect(form.errors).toEqual({});
    expect(form.status).toBe("open");
  });
  it("follows submission, confirmation and cancellation; a new form replaces the old", () => {
    const submitted = [
      opened("f1"),
      ev("form.submitted", {
        form_id: "f1",
        template_id: "t",
        version: 2,
        values: { name: "Erika" },
        digest: "d",
      }),
      ev("form.confirmed", { form_id: "f1" }, "customer"),
    ];
    const form = latestForm(submitted)!;
    expect([form.status, form.submitted?.digest]).toEqual(["confirmed", "d"]);
    const again = [...submitted, opened("f2"), ev("form.cancelled", { form_id: "f1" })];
    expect(latestForm(again)?.formId).toBe("f2");
    expect(latestForm(again)?.status).toBe("open"); // f1's events do not touch f2
    expect(latestForm([ev("chat.message", { text: "x" })])).toBeNull();
  });
});
