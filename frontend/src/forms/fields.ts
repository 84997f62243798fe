// One field of a form as HTML: the input for its kind, its label, help, errors, the
// other side's "is typing" marker and a conflict notice, with the aria wiring that
// ties them together (aria-invalid and aria-describedby say what is shown).
import { html, nothing, type TemplateResult } from "lit";
import { lang } from "../lib/i18n";
import type { FormFieldError, FormFieldUi } from "../lib/protocol.gen";
import type { Value } from "./rules";
import { tf } from "./strings";

export interface FieldView {
  name: string;
  look: FormFieldUi;
  /** The text in the input (what is typed, or the value). */
  text: string;
  value: Value;
  options: readonly string[];
  required: boolean;
  errors: readonly FormFieldError[];
  occupiedBy: "adviser" | "customer" | null;
  notice: string;
  disabled: boolean;
}

export type OnInput = (name: string, value: Value | undefined, text: string, now: boolean) => void;

const INPUT_TYPES: Partial<Record<FormFieldUi["kind"], string>> = {
  email: "email",
  phone: "tel",
  date: "date",
};
const INPUT_MODES: Partial<Record<FormFieldUi["kind"], string>> = {
  number: "numeric",
  money: "decimal",
  postcode_de: "numeric",
  phone: "tel",
  email: "email",
};
const AUTOCOMPLETE: Partial<Record<FormFieldUi["kind"], string>> = {
  email: "email",
  phone: "tel",
  postcode_de: "postal-code",
  iban: "off",
  bic: "off",
};

/** A number as typed (German "1.234,56" or "1234.56"); undefined: not a number. */
export function parseNumber(text: string): number | null | undefined {
  const t = text.trim().replace(/\s+/gu, "");
  if (!t) return null;
  const normal = t.includes(",") ? t.replace(/\./gu, "").replace(",", ".") : t;
  if (!/^-?\d+(?:\.\d+)?$/u.test(normal)) return undefined;
  const n = Number(normal);
  return Number.isFinite(n) ? n : undefined;
}

export function valueText(value: Value, kind: FormFieldUi["kind"]): string {
  if (value === null || typeof value === "boolean") return "";
  if (typeof value === "number") {
    const s = kind === "money" ? value.toFixed(2) : String(value);
    return lang() === "de" ? s.replace(".", ",") : s;
  }
  return value;
}

export function errorMessage(e: FormFieldError): string {
  if (e.code === "format") {
    const key = `f_${e.detail ?? ""}` as Parameters<typeof tf>[0];
    return tf(key) !== key ? tf(key) : tf("e_format");
  }
  if (e.code === "invalid" && e.detail === "cents") return tf("e_cents");
  return tf(`e_${e.code}`, { n: e.detail ?? "" });
}

function local(text: { de: string; en: string } | null | undefined): string {
  return text ? text[lang()] : "";
}

export function renderField(f: FieldView, onInput: OnInput): TemplateResult {
  const id = `vvf-${f.name}`;
  const kind = f.look.kind;
  const described = [
    f.look.help ? `${id}-help` : "",
    f.errors.length ? `${id}-err` : "",
    f.occupiedBy ? `${id}-busy` : "",
    f.notice ? `${id}-notice` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const invalid = f.errors.length > 0 ? "true" : "false";
  const label = local(f.look.label);
  const star = f.required
    ? html`<span class="req" aria-hidden="true"> *</span
        ><span class="sr-only"> (${tf("required")})</span>`
    : nothing;
  const busy = f.occupiedBy
    ? html`<span class="occupied" id="${id}-busy" data-testid="form-occupied" role="status"
        >${tf(f.occupiedBy === "adviser" ? "adviserTyping" : "customerTyping")}</span
      >`
    : nothing;
  let control: TemplateResult;
  let head: TemplateResult | typeof nothing = html`<label for=${id}>${label}${star}${busy}</label>`;
  if (kind === "checkbox") {
    head = nothing;
    control = html`<div class="check">
      <label
        ><input
          id=${id}
          type="checkbox"
          data-field=${f.name}
          .checked=${f.value === true}
          ?disabled=${f.disabled}
          aria-invalid=${invalid}
          aria-describedby=${described || nothing}
          aria-required=${f.required ? "true" : "false"}
          @change=${(e: Event) => onInput(f.name, (e.target as HTMLInputElement).checked, "", true)}
        />${label}${star}</label
      >${busy}
    </div>`;
  } else if (kind === "radio") {
    head = nothing;
    control = html`<fieldset
      class="choices"
      role="radiogroup"
      aria-labelledby="${id}-legend"
      aria-invalid=${invalid}
      aria-describedby=${described || nothing}
      aria-required=${f.required ? "true" : "false"}
    >
      <legend id="${id}-legend" class="label">${label}${star}${busy}</legend>
      ${f.options.map(
        (opt, i) =>
          html`<label
            ><input
              id=${i === 0 ? id : `${id}-${i}`}
              type="radio"
              name=${id}
              data-field=${f.name}
              .value=${opt}
              .checked=${f.value === opt}
              ?disabled=${f.disabled}
              @change=${() => onInput(f.name, opt, opt, true)}
            />${local(f.look.options?.[opt]) || opt}</label
          >`,
      )}
    </fieldset>`;
  } else if (kind === "select") {
    control = html`<select
      id=${id}
      data-field=${f.name}
      ?disabled=${f.disabled}
      aria-invalid=${invalid}
      aria-describedby=${described || nothing}
      aria-required=${f.required ? "true" : "false"}
      @change=${(e: Event) => {
        const v = (e.target as HTMLSelectElement).value;
        onInput(f.name, v || null, v, true);
      }}
    >
      <option value="" ?selected=${f.value === null}>${tf("choose")}</option>
      ${f.options.map(
        (opt) =>
          html`<option .value=${opt} ?selected=${f.value === opt}>
            ${local(f.look.options?.[opt]) || opt}
          </option>`,
      )}
    </select>`;
  } else if (kind === "textarea") {
    control = html`<textarea
      id=${id}
      rows="3"
      data-field=${f.name}
      .value=${f.text}
      ?disabled=${f.disabled}
      aria-invalid=${invalid}
      aria-describedby=${described || nothing}
      aria-required=${f.required ? "true" : "false"}
      @input=${(e: Event) => {
        const v = (e.target as HTMLTextAreaElement).value;
        onInput(f.name, v === "" ? null : v, v, false);
      }}
    ></textarea>`;
  } else {
    const numeric = kind === "number" || kind === "money";
    control = html`<input
      id=${id}
      type=${INPUT_TYPES[kind] ?? "text"}
      inputmode=${INPUT_MODES[kind] ?? nothing}
      autocomplete=${AUTOCOMPLETE[kind] ?? nothing}
      data-field=${f.name}
      .value=${f.text}
      ?disabled=${f.disabled}
      aria-invalid=${invalid}
      aria-describedby=${described || nothing}
      aria-required=${f.required ? "true" : "false"}
      @input=${(e: Event) => {
        const text = (e.target as HTMLInputElement).value;
        const value = numeric ? parseNumber(text) : text === "" ? null : text;
        onInput(f.name, value, text, kind === "date");
      }}
      @change=${(e: Event) => {
        const text = (e.target as HTMLInputElement).value;
        const value = numeric ? parseNumber(text) : text === "" ? null : text;
        onInput(f.name, value, text, true);
      }}
    />`;
  }
  return html`<div
    class="field ${f.occupiedBy ? "busy" : ""}"
    data-testid="form-field"
    data-field=${f.name}
    data-invalid=${invalid}
  >
    ${head} ${control}
    ${f.look.help ? html`<p class="help muted" id="${id}-help">${local(f.look.help)}</p>` : nothing}
    ${
      f.errors.length
        ? html`<ul class="errors" id="${id}-err" data-testid="form-errors">
            ${f.errors.map((e) => html`<li data-code=${e.code}>${errorMessage(e)}</li>`)}
          </ul>`
        : nothing
    }
    ${
      f.notice
        ? html`<p class="notice" id="${id}-notice" role="status" data-testid="form-conflict">
            ${f.notice}
          </p>`
        : nothing
    }
  </div>`;
}
