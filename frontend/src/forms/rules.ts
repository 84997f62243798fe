// The template's rules in the browser: which fields are shown (the same rule as
// forms/templates.py on the server) and a quick check of a value as it is typed. The
// server validates every change with jsonschema and its errors come with the event;
// these checks only mirror them while a change is on its way, so the person sees at
// once what the server will say. The server's word is final (e.g. phone numbers: it
// asks the `phonenumbers` library; here only the characters are looked at).
import type { FormFieldError } from "../lib/protocol.gen";

export type Value = string | number | boolean | null;
export type Values = Readonly<Record<string, Value>>;
export type Schema = Readonly<Record<string, unknown>>;
type Prop = Readonly<Record<string, unknown>>;

/** A conditional field is shown while `source` has one of `values` (null: any value). */
export interface Condition {
  source: string;
  values: readonly Value[] | null;
}

/** "Has a value": not null, not "", not false (an unticked box is no answer). */
export function hasValue(v: Value | undefined): boolean {
  return v !== null && v !== undefined && v !== "" && v !== false;
}

function obj(x: unknown): Prop {
  return typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Prop) : {};
}

function list(x: unknown): readonly unknown[] {
  return Array.isArray(x) ? x : [];
}

/** The conditional fields of a schema: `allOf` of if/then, and `dependentRequired`. */
export function conditions(schema: Schema): Map<string, Condition[]> {
  const out = new Map<string, Condition[]>();
  const add = (name: string, c: Condition) => out.set(name, [...(out.get(name) ?? []), c]);
  for (const part of list(schema["allOf"])) {
    const cond = obj(obj(part)["if"]);
    const [source, test] = Object.entries(obj(cond["properties"]))[0] ?? [];
    if (!source) continue;
    const t = obj(test);
    const values = "const" in t ? [t["const"] as Value] : (list(t["enum"]) as Value[]);
    const then = obj(obj(part)["then"]);
    const names = [...list(then["required"]).map(String), ...Object.keys(obj(then["properties"]))];
    for (const name of names) add(name, { source, values });
  }
  for (const [source, names] of Object.entries(obj(schema["dependentRequired"])))
    for (const name of list(names)) add(String(name), { source, values: null });
  return out;
}

function holds(c: Condition, values: Values): boolean {
  const v = values[c.source];
  if (!hasValue(v)) return false;
  return c.values === null || c.values.includes(v ?? null);
}

/** The fields shown with these values, in `order`. */
export function visibleFields(
  order: readonly string[],
  conds: Map<string, Condition[]>,
  values: Values,
): string[] {
  return order.filter((name) => {
    const cs = conds.get(name);
    return !cs || cs.some((c) => holds(c, values));
  });
}

/** Is the field required with these values (top level, a `then` that holds, or a
 * `dependentRequired` source that has a value)? */
export function isRequired(schema: Schema, field: string, values: Values): boolean {
  if (list(schema["required"]).includes(field)) return true;
  for (const part of list(schema["allOf"])) {
    const cond = obj(obj(part)["if"]);
    const [source, test] = Object.entries(obj(cond["properties"]))[0] ?? [];
    if (!source || !list(obj(obj(part)["then"])["required"]).includes(field)) continue;
    const t = obj(test);
    const allowed = "const" in t ? [t["const"]] : list(t["enum"]);
    if (hasValue(values[source]) && allowed.includes(values[source])) return true;
  }
  for (const [source, names] of Object.entries(obj(schema["dependentRequired"])))
    if (list(names).includes(field) && hasValue(values[source])) return true;
  return false;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/u;
const POSTCODE_DE = /^(?!00)\d{5}$/u;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/u;
const BIC = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/u;
const PHONE_CHARS = /^\+?[0-9][0-9 ()/.-]{4,}$/u;

/** ISO 13616: two letters, two check digits, up to 30 more; mod 97 of the number made
 * by moving the first four to the end and letters to 10…35 is 1. */
export function ibanChecksumOk(text: string): boolean {
  const s = text.replace(/\s+/gu, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/u.test(s)) return false;
  let rest = 0;
  for (const ch of s.slice(4) + s.slice(0, 4)) {
    const n = ch >= "A" ? ch.charCodeAt(0) - 55 : Number(ch);
    rest = (rest * (n >= 10 ? 100 : 10) + n) % 97;
  }
  return rest === 1;
}

function dateOk(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return (
    d.getUTCFullYear() === Number(m[1]) &&
    d.getUTCMonth() === Number(m[2]) - 1 &&
    d.getUTCDate() === Number(m[3])
  );
}

const FORMATS: Record<string, (s: string) => boolean> = {
  email: (s) => EMAIL.test(s.trim()),
  "postcode-de": (s) => POSTCODE_DE.test(s),
  date: dateOk,
  iban: ibanChecksumOk,
  bic: (s) => BIC.test(s),
  phone: (s) => PHONE_CHARS.test(s.trim()),
};

function err(code: FormFieldError["code"], detail: string | number | null = null): FormFieldError {
  return { code, detail: detail === null ? null : String(detail) };
}

/** The errors of one value as far as the browser can tell (see the file's comment). */
export function checkValue(
  schema: Schema,
  field: string,
  value: Value,
  required: boolean,
): FormFieldError[] {
  const prop = obj(obj(schema["properties"])[field]);
  if (!hasValue(value)) return required ? [err("required")] : [];
  const out: FormFieldError[] = [];
  const enumValues = "const" in prop ? [prop["const"]] : prop["enum"];
  if (Array.isArray(enumValues) && !enumValues.includes(value)) out.push(err("enum"));
  if (typeof value === "string") {
    const min = prop["minLength"];
    const max = prop["maxLength"];
    if (typeof min === "number" && [...value].length < min) out.push(err("min_length", min));
    if (typeof max === "number" && [...value].length > max) out.push(err("max_length", max));
    const pattern = prop["pattern"];
    if (typeof pattern === "string") {
      try {
        if (!new RegExp(pattern, "u").test(value)) out.push(err("pattern", pattern));
      } catch {
        // a pattern JavaScript cannot read: the server's check stands alone
      }
    }
    const fmt = prop["format"];
    if (typeof fmt === "string" && FORMATS[fmt]?.(value) === false) out.push(err("format", fmt));
  } else if (typeof value === "number") {
    const { minimum, maximum, exclusiveMinimum: exMin, exclusiveMaximum: exMax } = prop;
    if (typeof minimum === "number" && value < minimum) out.push(err("minimum", minimum));
    if (typeof exMin === "number" && value <= exMin) out.push(err("minimum", exMin));
    if (typeof maximum === "number" && value > maximum) out.push(err("maximum", maximum));
    if (typeof exMax === "number" && value >= exMax) out.push(err("maximum", exMax));
    if (prop["type"] === "integer" && !Number.isInteger(value)) out.push(err("type"));
  }
  return out;
}
