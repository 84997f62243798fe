import { describe, expect, it } from "vitest";
import { fieldText } from "./form";

describe("fieldText", () => {
  it("reads a text field", () => {
    const data = new FormData();
    data.set("name", "Anna");
    expect(fieldText(data, "name")).toBe("Anna");
  });

  it("never stringifies a file and falls back when the field is missing", () => {
    const data = new FormData();
    data.set("upload", new Blob(["x"]), "x.txt");
    expect(fieldText(data, "upload")).toBe("");
    expect(fieldText(data, "missing", "de")).toBe("de");
  });
});
