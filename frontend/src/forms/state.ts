// A conversation's form as its events say it (the form events of docs/protocol.md,
// replayed in order): the latest form opened, its values, each field's revision and
// last author, the server's validation errors, and where it stands. Pure.
import type {
  EventMsg,
  FormFieldError,
  FormOpenedBody,
  FormSubmittedBody,
  LocalText,
  FormUi,
} from "../lib/protocol.gen";
import type { Value } from "./rules";

export type FormStatus = "open" | "submitted" | "confirmed" | "cancelled";

export interface FormState {
  formId: string;
  templateId: string;
  version: number;
  title: LocalText;
  schema: Readonly<Record<string, unknown>>;
  ui: FormUi;
  status: FormStatus;
  values: Readonly<Record<string, Value>>;
  revs: Readonly<Record<string, number>>;
  /** Who changed each field last. */
  by: Readonly<Record<string, "customer" | "adviser" | "system">>;
  errors: Readonly<Record<string, readonly FormFieldError[]>>;
  submitted: { values: Readonly<Record<string, Value>>; digest: string } | null;
}

/** Does the log have a form at all (cheap: the glue asks before loading the code)? */
export function hasForm(events: readonly EventMsg[]): boolean {
  return events.some((e) => e.kind === "form.opened");
}

/** The latest form of the log, or null. */
export function latestForm(events: readonly EventMsg[]): FormState | null {
  let form: FormState | null = null;
  for (const ev of events) {
    if (ev.kind === "form.opened") {
      const b = ev.body as unknown as FormOpenedBody;
      form = {
        formId: b.form_id,
        templateId: b.template_id,
        version: b.version,
        title: b.title,
        schema: b.schema,
        ui: b.ui,
        status: "open",
        values: { ...b.values },
        revs: {},
        by: {},
        errors: b.errors,
        submitted: null,
      };
      continue;
    }
    if (!form || ev.body["form_id"] !== form.formId) continue;
    switch (ev.kind) {
      case "form.changed": {
        const field = String(ev.body["field"]);
        const values = { ...form.values };
        const value = ev.body["value"] as Value;
        if (value === null) delete values[field];
        else values[field] = value;
        form = {
          ...form,
          values,
          revs: { ...form.revs, [field]: Number(ev.body["rev"]) },
          by: { ...form.by, [field]: ev.author.role },
          errors: ev.body["errors"] as FormState["errors"],
        };
        break;
      }
      case "form.submitted": {
        const b = ev.body as unknown as FormSubmittedBody;
        form = { ...form, status: "submitted", submitted: { values: b.values, digest: b.digest } };
        break;
      }
      case "form.confirmed":
        form = { ...form, status: "confirmed" };
        break;
      case "form.cancelled":
        form = { ...form, status: "cancelled" };
        break;
      default:
        break;
    }
  }
  return form;
}

/** The fields in the order shown (groups in order). */
export function fieldOrder(ui: FormUi): string[] {
  return ui.groups.flatMap((g) => g.fields);
}
