// This person's edits on their way to the server, per field (see vv-form.ts): a
// draft is based on the field's revision it started from, sent as `form.change` with
// it (one change per field on its way at a time), and dropped once the log shows its
// value — or at a conflict, which leaves a notice quoting what was typed.
import { errorText } from "../lib/i18n";
import type { Answer, VisavisClient } from "../lib/ws";
import type { Value } from "./rules";
import type { FormState } from "./state";
import { tf } from "./strings";

export interface Draft {
  /** undefined: what is typed is no value of the field (e.g. "12a" in a number). */
  value: Value | undefined;
  text: string;
  /** The field's revision this edit is based on. */
  base: number;
  inflight: boolean;
  sent: Value | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** What sending needs, read when it is needed (the form and socket change over time). */
export interface DraftTarget {
  client: VisavisClient | null;
  conversationId: string;
  form: FormState | null;
  changed(): void;
}

export function same(a: Value | undefined, b: Value | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

export class Drafts {
  readonly map = new Map<string, Draft>();
  readonly notices = new Map<string, string>();

  constructor(private readonly target: () => DraftTarget) {}

  get(name: string): Draft | undefined {
    return this.map.get(name);
  }

  /** A new value typed (or chosen); sent after `delayMs`. */
  edit(name: string, value: Value | undefined, text: string, delayMs: number): void {
    const form = this.target().form;
    const d = this.map.get(name) ?? {
      value,
      text,
      base: form?.revs[name] ?? 0,
      inflight: false,
      sent: undefined,
      timer: undefined,
    };
    d.value = value;
    d.text = text;
    this.map.set(name, d);
    this.notices.delete(name);
    clearTimeout(d.timer);
    d.timer = setTimeout(() => this.flush(name), delayMs);
  }

  flushAll(): void {
    for (const name of this.map.keys()) this.flush(name);
  }

  flush(name: string): void {
    const d = this.map.get(name);
    const { client, conversationId, form } = this.target();
    if (!d || d.inflight || d.value === undefined || !form || !client) return;
    if (d.sent !== undefined && same(d.sent, d.value)) return; // sent already
    d.inflight = true;
    d.sent = d.value;
    void client
      .request({
        type: "form.change",
        conversation_id: conversationId,
        form_id: form.formId,
        field: name,
        value: d.value,
        rev: d.base,
      })
      .then((answer) => this.answered(name, d, answer));
  }

  private answered(name: string, d: Draft, answer: Answer): void {
    d.inflight = false;
    if (this.map.get(name) !== d) return;
    const form = this.target().form;
    if (answer.type === "ack") {
      d.base += 1; // the revision our change made
      if (!same(d.sent, d.value))
        this.flush(name); // typed on meanwhile
      else if (same(form?.values[name], d.value) && (form?.revs[name] ?? 0) >= d.base)
        this.map.delete(name);
    } else if (answer.type === "error" && answer.code === "form_field_conflict") {
      this.map.delete(name);
      const by = form?.by[name] === "adviser" ? tf("theAdviser") : tf("theCustomer");
      this.notices.set(name, tf("conflict", { who: by, mine: d.text || String(d.value ?? "") }));
    } else if (answer.type === "error" && ["disconnected", "timeout"].includes(answer.code)) {
      d.sent = undefined; // try again when the socket is back
      d.timer = setTimeout(() => this.flush(name), 1000);
    } else if (answer.type === "error") {
      this.map.delete(name);
      this.notices.set(name, tf("refusedChange", { reason: errorText(answer.code) }));
    }
    this.target().changed();
  }

  /** Drop the drafts the log has caught up with. */
  settle(form: FormState): void {
    for (const [name, d] of this.map) {
      const rev = form.revs[name] ?? 0;
      if (!d.inflight && rev >= d.base && same(form.values[name], d.value) && same(d.sent, d.value))
        this.map.delete(name);
    }
  }

  clear(): void {
    for (const d of this.map.values()) clearTimeout(d.timer);
    this.map.clear();
    this.notices.clear();
  }
}
