// <vv-form>: a form filled in together inside a conversation, for both sides. Its
// state is the conversation's form events (state.ts); what this element adds is the
// person's own edits on their way to the server:
//
// - An edit is a draft based on the field's revision it started from. It is sent
//   (text after a short pause, choices at once) as `form.change` with that revision;
//   one change per field is on its way at a time, the next one is based on the
//   revision the accepted one made. The draft goes once the log shows its value.
// - `form_field_conflict`: the other person changed the field meanwhile. The draft is
//   dropped, the field shows their value, and a notice quotes what was typed here.
// - Errors: while a draft is on its way the browser's own check (rules.ts) is shown;
//   then the server's, which came with the event, on both sides alike. "Please fill
//   this in" waits until the field was touched or a submit was refused.
// - Focus: the field this person is in goes out as `form.focus`; the other's shows as
//   "… is typing" at their field (set by the glue in `otherFocus`).
//
// With `template` set and no form yet, it is the adviser's draft before opening: the
// same fields, kept here, and "Open in the conversation" (`vv-form-open`).
import { html, nothing, type PropertyValues } from "lit";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import type { EventMsg, FormFieldError, FormFocusOutMsg, FormTemplate } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { VisavisClient } from "../lib/ws";
import { Drafts } from "./drafts";
import { renderField, valueText, type FieldView } from "./fields";
import {
  checkValue,
  conditions,
  hasValue,
  isRequired,
  visibleFields,
  type Value,
  type Values,
} from "./rules";
import { fieldOrder, latestForm, type FormState } from "./state";
import { tf } from "./strings";
import { formStyles } from "./styles";
import "./vv-form-picker";

/** Text inputs are sent after this pause in typing (or when the field is left). */
const SEND_AFTER_MS = 300;
/** The other's field marker is dropped after this long without news. */
const FOCUS_STALE_MS = 60_000;

export interface FormOpenDetail {
  template_id: string;
  prefill: Record<string, Value>;
}

export class VvForm extends I18nElement {
  static override properties = {
    events: { attribute: false },
    side: { type: String },
    client: { attribute: false },
    conversationId: { type: String },
    otherFocus: { attribute: false },
    prefill: { attribute: false },
    token: { type: String },
    template: { attribute: false },
    readonly: { type: Boolean },
    message: { state: true },
    busy: { state: true },
  };
  declare events: readonly EventMsg[];
  declare side: "customer" | "adviser";
  declare client: VisavisClient | null;
  declare conversationId: string;
  /** The other side's latest `form.focus`. */
  declare otherFocus: (FormFocusOutMsg & { receivedAt: number }) | null;
  /** The customer's own values by prefill key (the page's parameters, their name). */
  declare prefill: Readonly<Record<string, string>>;
  /** The customer's token (for the downloads); advisers use their cookie. */
  declare token: string;
  /** The adviser's draft before opening (no form in the log yet). */
  declare template: FormTemplate | null;
  /** The conversation has ended: nothing can change. */
  declare readonly: boolean;
  declare message: string;
  declare busy: boolean;

  private state: FormState | null = null;
  private readonly drafts = new Drafts(() => ({
    client: this.client,
    conversationId: this.conversationId,
    form: this.state,
    changed: () => this.requestUpdate(),
  }));
  private localValues: Record<string, Value> = {};
  private showAll = false;
  private myField: string | null = null;
  private blurTimer = 0;
  private readonly prefilled = new Set<string>();

  constructor() {
    super();
    this.events = [];
    this.side = "customer";
    this.client = null;
    this.conversationId = "";
    this.otherFocus = null;
    this.prefill = {};
    this.token = "";
    this.template = null;
    this.readonly = false;
    this.message = "";
    this.busy = false;
  }

  static override styles = [base, formStyles];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.drafts.clear();
    window.clearTimeout(this.blurTimer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has("events")) return;
    const before = this.state;
    this.state = latestForm(this.events);
    const form = this.state;
    if (!form) return;
    if (before?.formId !== form.formId) {
      this.resetLocal();
    }
    this.drafts.settle(form);
    this.prefillOnce(form);
  }

  private resetLocal(): void {
    this.drafts.clear();
    this.showAll = false;
    this.message = "";
  }

  /** The customer's side fills empty prefill fields once per form, like typing them. */
  private prefillOnce(form: FormState): void {
    if (this.side !== "customer" || form.status !== "open" || this.prefilled.has(form.formId))
      return;
    this.prefilled.add(form.formId);
    for (const [name, look] of Object.entries(form.ui.fields)) {
      const given = look.prefill ? this.prefill[look.prefill] : undefined;
      if (!given || hasValue(form.values[name]) || (form.revs[name] ?? 0) > 0) continue;
      // page parameters are text: only fields that hold text take them
      if (!["checkbox", "number", "money"].includes(look.kind)) this.edit(name, given, given, true);
    }
  }

  // ------------------------------------------------------------------ editing
  private readonly edit = (name: string, value: Value | undefined, text: string, now: boolean) => {
    if (this.template && !this.state) {
      // the adviser's draft before opening: kept here only (an unreadable number stays
      // a draft, so it shows as typed with its error)
      if (value === undefined)
        this.drafts.map.set(name, {
          value,
          text,
          base: 0,
          inflight: false,
          sent: undefined,
          timer: undefined,
        });
      else {
        this.drafts.map.delete(name);
        this.localValues = { ...this.localValues, [name]: value };
      }
    } else if (this.state?.status === "open") {
      this.drafts.edit(name, value, text, now ? 0 : SEND_AFTER_MS);
    }
    this.requestUpdate();
  };

  // ------------------------------------------------------------------ focus relay
  private readonly onFocusIn = (e: FocusEvent) => {
    const field = (e.target as HTMLElement | null)?.dataset?.["field"] ?? null;
    window.clearTimeout(this.blurTimer);
    if (field) this.sendFocus(field);
  };

  private readonly onFocusOut = () => {
    window.clearTimeout(this.blurTimer);
    // moving to the next field sends that one; only leaving the form says "none"
    this.blurTimer = window.setTimeout(() => {
      const name = this.myField;
      if (name) this.drafts.flush(name);
      this.sendFocus(null);
    }, 150);
  };

  private sendFocus(field: string | null): void {
    const form = this.state;
    if (field === this.myField || !form || form.status !== "open" || !this.client) return;
    if (this.myField) this.drafts.flush(this.myField); // leaving a field sends what was typed
    this.myField = field;
    this.client.send({
      type: "form.focus",
      conversation_id: this.conversationId,
      form_id: form.formId,
      field,
    });
  }

  // ------------------------------------------------------------------ steps
  private async step(type: "form.submit" | "form.confirm" | "form.cancel"): Promise<void> {
    const form = this.state;
    if (!form || !this.client || this.busy) return;
    this.drafts.flushAll();
    this.busy = true;
    this.message = "";
    const answer = await this.client.request({
      type,
      conversation_id: this.conversationId,
      form_id: form.formId,
    });
    this.busy = false;
    if (answer.type !== "error") return;
    if (answer.code === "form_invalid") {
      this.showAll = true;
      const errors = (answer.details?.["errors"] ?? {}) as Record<string, unknown>;
      this.message = tf("notValid", { count: Object.keys(errors).length });
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(),
      );
    } else this.message = errorText(answer.code);
  }

  /** The submitted form's PDF goes up for signature (the server makes it a document
   * of the conversation and puts it on the stage; boxes at the last page's foot). */
  private async putUpForSignature(): Promise<void> {
    const form = this.state;
    if (!form || !this.client || this.busy) return;
    this.busy = true;
    const answer = await this.client.request({
      type: "signature.request",
      conversation_id: this.conversationId,
      form_id: form.formId,
    });
    this.busy = false;
    this.message = answer.type === "error" ? errorText(answer.code) : "";
  }

  private async download(kind: "pdf" | "json"): Promise<void> {
    const form = this.state;
    if (!form) return;
    const path = `/api/v1/forms/${encodeURIComponent(form.formId)}${kind === "pdf" ? `/pdf?lang=${lang()}` : ""}`;
    try {
      const res = await fetch(path, {
        credentials: "same-origin",
        headers: this.token ? { Authorization: `Bearer ${this.token}` } : {},
      });
      if (!res.ok) throw new Error(String(res.status));
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = `${form.templateId}-${form.formId.slice(0, 8)}.${kind}`;
      this.renderRoot.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch {
      this.message = tf("downloadFailed");
    }
  }

  // ------------------------------------------------------------------ rendering
  private view(): {
    schema: Readonly<Record<string, unknown>>;
    values: Values;
    form: FormState | null;
  } | null {
    if (this.state)
      return { schema: this.state.schema, values: this.state.values, form: this.state };
    if (this.template)
      return { schema: this.template.schema, values: this.localValues, form: null };
    return null;
  }

  private fieldView(
    name: string,
    schema: Readonly<Record<string, unknown>>,
    shownValues: Values,
    form: FormState | null,
    editable: boolean,
  ): FieldView {
    const ui = form?.ui ?? this.template!.ui;
    const look = ui.fields[name]!;
    const d = this.drafts.get(name);
    const value = d && d.value !== undefined ? d.value : (shownValues[name] ?? null);
    const required = isRequired(schema, name, shownValues);
    const touched =
      this.showAll || d !== undefined || (form?.revs[name] ?? 0) > 0 || hasValue(value);
    let errors: readonly FormFieldError[];
    if (d)
      errors =
        d.value === undefined
          ? [{ code: "type", detail: null }]
          : checkValue(schema, name, d.value, required);
    else if (form) errors = form.errors[name] ?? [];
    else errors = checkValue(schema, name, value, required);
    if (!touched) errors = errors.filter((e) => e.code !== "required");
    const prop =
      (schema["properties"] as Record<string, Record<string, unknown>> | undefined)?.[name] ?? {};
    const options = Array.isArray(prop["enum"]) ? prop["enum"].map(String) : [];
    const focus = this.otherFocus;
    const occupied =
      form &&
      focus &&
      focus.form_id === form.formId &&
      focus.field === name &&
      Date.now() - focus.receivedAt < FOCUS_STALE_MS
        ? focus.from.role
        : null;
    return {
      name,
      look,
      text: d ? d.text : valueText(value, look.kind),
      value,
      options,
      required,
      errors,
      occupiedBy: occupied,
      notice: this.drafts.notices.get(name) ?? "",
      disabled: !editable,
    };
  }

  override render() {
    const v = this.view();
    if (!v) return nothing;
    const { schema, form } = v;
    if (form?.status === "cancelled")
      return html`<p class="muted" data-testid="form-cancelled">${tf("cancelled")}</p>`;
    const ui = form?.ui ?? this.template!.ui;
    const title = (form?.title ?? this.template!.title)[lang()];
    // values as shown: the log's, with this person's drafts on top
    const shown: Record<string, Value> = { ...v.values };
    for (const [name, d] of this.drafts.map) if (d.value !== undefined) shown[name] = d.value;
    const submittedValues = form?.submitted?.values;
    const editable = !this.readonly && (!form || form.status === "open");
    const visible = new Set(
      submittedValues
        ? Object.keys(submittedValues)
        : visibleFields(fieldOrder(ui), conditions(schema), shown),
    );
    return html`<section
      class="form"
      aria-labelledby="vvf-title"
      data-testid="vv-form"
      data-form-id=${form?.formId ?? ""}
      data-status=${form?.status ?? "draft"}
    >
      <h3 id="vvf-title">${title}</h3>
      ${this.renderState(form)}
      <form
        novalidate
        @submit=${(e: Event) => e.preventDefault()}
        @focusin=${this.onFocusIn}
        @focusout=${this.onFocusOut}
      >
        ${ui.groups.map((g) => {
          const names = g.fields.filter((n) => visible.has(n));
          if (!names.length) return nothing;
          return html`<fieldset>
            <legend>${g.label[lang()]}</legend>
            ${names.map((n) => renderField(this.fieldView(n, schema, shown, form, editable), this.edit))}
          </fieldset>`;
        })}
      </form>
      <p class="status-line" role="alert" data-testid="form-message">${this.message}</p>
      ${this.renderActions(form)}
    </section>`;
  }

  private renderState(form: FormState | null) {
    if (!form) return html`<p class="muted">${tf("prefillHint")}</p>`;
    const text =
      form.status === "open"
        ? this.side === "customer"
          ? tf("customerWaits")
          : ""
        : form.status === "submitted"
          ? tf(this.side === "customer" ? "confirmAsk" : "waitConfirm")
          : tf("confirmed");
    return text
      ? html`<p class="state" role="status" data-testid="form-state">${text}</p>`
      : nothing;
  }

  private renderActions(form: FormState | null) {
    if (!form) {
      const t = this.template!;
      return html`<div class="actions">
        <button
          type="button"
          data-testid="form-open"
          @click=${() => {
            const prefill: Record<string, Value> = {};
            for (const [k, val] of Object.entries(this.localValues))
              if (hasValue(val) || val === false) prefill[k] = val;
            this.emit<FormOpenDetail>("vv-form-open", { template_id: t.id, prefill });
          }}
        >
          ${tf("openInConversation")}
        </button>
        <button type="button" class="secondary" @click=${() => this.emit("vv-form-close")}>
          ${tf("close")}
        </button>
      </div>`;
    }
    if (this.readonly) return nothing;
    const downloads = html`<button
        type="button"
        class="secondary"
        data-testid="form-pdf"
        @click=${() => this.download("pdf")}
      >
        ${tf("downloadPdf")}
      </button>
      <button
        type="button"
        class="secondary"
        data-testid="form-json"
        @click=${() => this.download("json")}
      >
        ${tf("downloadJson")}
      </button>`;
    if (form.status === "open" && this.side === "adviser")
      return html`<div class="actions">
        <button
          type="button"
          data-testid="form-submit"
          ?disabled=${this.busy}
          @click=${() => this.step("form.submit")}
        >
          ${this.busy ? tf("submitting") : tf("submit")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="form-cancel"
          ?disabled=${this.busy}
          @click=${() => this.step("form.cancel")}
        >
          ${tf("cancel")}
        </button>
      </div>`;
    if (form.status === "submitted" && this.side === "customer")
      return html`<div class="actions">
        <button
          type="button"
          data-testid="form-confirm"
          ?disabled=${this.busy}
          @click=${() => this.step("form.confirm")}
        >
          ${tf("confirm")}
        </button>
        ${downloads}
      </div>`;
    if (form.status !== "open" && form.status !== "cancelled" && this.side === "adviser")
      return html`<div class="actions">
        <button
          type="button"
          class="secondary"
          data-testid="form-sign"
          ?disabled=${this.busy}
          @click=${this.putUpForSignature}
        >
          ${tf("putUpForSignature")}
        </button>
        ${downloads}
      </div>`;
    if (form.status !== "open") return html`<div class="actions">${downloads}</div>`;
    return nothing;
  }
}
customElements.define("vv-form", VvForm);

declare global {
  interface HTMLElementTagNameMap {
    "vv-form": VvForm;
  }
}
