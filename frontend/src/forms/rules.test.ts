import { describe, expect, it } from "vitest";
import {
  checkValue,
  conditions,
  hasValue,
  ibanChecksumOk,
  isRequired,
  visibleFields,
  type Schema,
} from "./rules";

// The same conditional fields as the server's test template (tests/forms_samples.py).
const schema: Schema = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 2, maxLength: 5 },
    count: { type: "integer", minimum: 1, maximum: 10 },
    answer: { type: "string", enum: ["ja", "nein"] },
    why: { type: "string", minLength: 3 },
    phone: { type: "string", format: "phone" },
    when: { type: "string", enum: ["ja", "nein"] },
    iban: { type: "string", format: "iban" },
    plz: { type: "string", format: "postcode-de" },
    code: { type: "string", pattern: "^[A-Z]{3}$" },
    agree: { type: "boolean", const: true },
  },
  required: ["name", "agree"],
  allOf: [
    {
      if: { properties: { answer: { const: "nein" } }, required: ["answer"] },
      then: { required: ["why"] },
    },
  ],
  dependentRequired: { phone: ["when"] },
};
const order = ["name", "count", "answer", "why", "phone", "when", "iban", "plz", "code", "agree"];

describe("conditional fields", () => {
  const conds = conditions(schema);
  it("hides a then-field until its if holds, and a dependent until its source has a value", () => {
    expect(visibleFields(order, conds, {})).not.toContain("why");
    expect(visibleFields(order, conds, {})).not.toContain("when");
    expect(visibleFields(order, conds, { answer: "nein" })).toContain("why");
    expect(visibleFields(order, conds, { answer: "ja" })).not.toContain("why");
    expect(visibleFields(order, conds, { phone: "030 1234567" })).toContain("when");
    expect(visibleFields(order, conds, { phone: "" })).not.toContain("when");
  });
  it("knows when a field is required", () => {
    expect(isRequired(schema, "name", {})).toBe(true);
    expect(isRequired(schema, "why", {})).toBe(false);
    expect(isRequired(schema, "why", { answer: "nein" })).toBe(true);
    expect(isRequired(schema, "when", { phone: "030 1" })).toBe(true);
  });
  it("counts null, empty and false as no value", () => {
    expect([null, "", false, undefined].map(hasValue)).toEqual([false, false, false, false]);
    expect([0, "x", true].map(hasValue)).toEqual([true, true, true]);
  });
});

describe("checking a value as it is typed", () => {
  const codes = (field: string, value: string | number | boolean | null, required = false) =>
    checkValue(schema, field, value, required).map((e) => [e.code, e.detail]);
  it("mirrors the server's codes and details", () => {
    expect(codes("name", null, true)).toEqual([["required", null]]);
    expect(codes("name", "E")).toEqual([["min_length", "2"]]);
    expect(codes("name", "Erika Mustermann")).toEqual([["max_length", "5"]]);
    expect(codes("count", 11)).toEqual([["maximum", "10"]]);
    expect(codes("count", 1.5)).toEqual([["type", null]]);
    expect(codes("answer", "vielleicht")).toEqual([["enum", null]]);
    expect(codes("code", "abc")).toEqual([["pattern", "^[A-Z]{3}$"]]);
    expect(codes("plz", "00123")).toEqual([["format", "postcode-de"]]);
    expect(codes("plz", "10115")).toEqual([]);
    expect(codes("agree", true)).toEqual([]);
    expect(codes("phone", "Telefon")).toEqual([["format", "phone"]]);
  });
  it("checks IBANs with mod 97", () => {
    expect(ibanChecksumOk("DE89 3704 0044 0532 0130 00")).toBe(true);
    expect(ibanChecksumOk("GB82WEST12345698765432")).toBe(true);
    expect(ibanChecksumOk("DE89370400440532013001")).toBe(false);
    expect(ibanChecksumOk("DE89")).toBe(false);
    expect(codes("iban", "DE89370400440532013001")).toEqual([["format", "iban"]]);
  });
});
