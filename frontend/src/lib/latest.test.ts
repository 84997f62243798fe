import { describe, expect, it } from "vitest";
import { Latest } from "./latest";

describe("Latest", () => {
  it("takes only the newest load's answer, whatever order they arrive in", async () => {
    const latest = new Latest();
    const shown: string[] = [];
    const load = async (answer: Promise<string>): Promise<void> => {
      const current = latest.begin();
      const value = await answer;
      if (current()) shown.push(value);
    };
    let answerOld!: (v: string) => void;
    let answerNew!: (v: string) => void;
    const older = load(new Promise((r) => (answerOld = r)));
    const newer = load(new Promise((r) => (answerNew = r)));
    answerNew("available");
    await newer;
    answerOld("away"); // the older answer arrives last
    await older;
    expect(shown).toEqual(["available"]);
  });

  it("takes a load's answer when no other began meanwhile", () => {
    const latest = new Latest();
    const first = latest.begin();
    expect(first()).toBe(true);
    const second = latest.begin();
    expect([first(), second()]).toEqual([false, true]);
  });
});
