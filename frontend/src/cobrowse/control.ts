// The adviser's control inputs, executed in the customer's tab — only what the server
// let through AND this page allows: never while control is not granted (host.ts checks
// that before calling), never on a blocked or masked element or a password field
// (whose content the adviser cannot see and must not change), never to another origin
// (links, form submissions) and never to a new window.
import type { HostInput } from "./bridge";

export interface Guard {
  /** What the recorder blocks (the widget, the overlay, [data-visavis-block], …). */
  blocked: string;
  /** What the recorder masks ([data-visavis-mask], the operator's selectors). */
  masked: string;
}

export type Refusal =
  "blocked" | "masked" | "password" | "other_origin" | "new_window" | "not_editable" | "no_target";

const TEXT_TYPES = new Set(["", "text", "search", "email", "tel", "url", "number"]);

function sameOrigin(url: string): boolean {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/** Why this element must not be acted on, or null. */
export function refusal(el: Element, guard: Guard): Refusal | null {
  if (el.closest(guard.blocked)) return "blocked";
  if (el.closest(guard.masked)) return "masked";
  if (el instanceof HTMLInputElement && el.type === "password") return "password";
  return null;
}

/** Where a click or an Enter would take the tab: a link or a form submission. */
function leaves(el: Element): Refusal | null {
  const link = el.closest("a[href], area[href]");
  if (link instanceof HTMLAnchorElement || link instanceof HTMLAreaElement) {
    if (!sameOrigin(link.href)) return "other_origin";
    if (link.target && link.target !== "_self") return "new_window";
  }
  const submit =
    (el instanceof HTMLButtonElement && el.type === "submit") ||
    (el instanceof HTMLInputElement && (el.type === "submit" || el.type === "image"));
  if (submit) return formLeaves(el.form, el);
  return null;
}

function formLeaves(form: HTMLFormElement | null, submitter: Element | null): Refusal | null {
  if (!form) return null;
  const button = submitter as HTMLButtonElement | null;
  const action = button?.getAttribute("formaction") ? button.formAction : form.action;
  if (!sameOrigin(action)) return "other_origin";
  const target = button?.getAttribute("formtarget") ?? form.target;
  if (target && target !== "_self") return "new_window";
  return null;
}

function editable(el: Element): el is HTMLInputElement | HTMLTextAreaElement {
  if (el instanceof HTMLTextAreaElement) return !el.readOnly && !el.disabled;
  return el instanceof HTMLInputElement && TEXT_TYPES.has(el.type) && !el.readOnly && !el.disabled;
}

function insert(el: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  try {
    el.setRangeText(
      text,
      el.selectionStart ?? el.value.length,
      el.selectionEnd ?? el.value.length,
      "end",
    );
  } catch {
    el.value += text; // email and number inputs have no selection
  }
  el.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data: text }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

function editKey(el: HTMLInputElement | HTMLTextAreaElement, key: string): Refusal | null {
  let start: number, end: number;
  try {
    start = el.selectionStart ?? el.value.length;
    end = el.selectionEnd ?? start;
  } catch {
    start = end = el.value.length;
  }
  const move = (to: number) => el.setSelectionRange?.(to, to);
  switch (key) {
    case "Backspace":
    case "Delete": {
      if (start === end) {
        if (key === "Backspace" && start > 0) start -= 1;
        else if (key === "Delete" && end < el.value.length) end += 1;
      }
      if (start === end) return null;
      el.value = el.value.slice(0, start) + el.value.slice(end);
      move(start);
      el.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "deleteContent" }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
      return null;
    }
    case "ArrowLeft":
      move(Math.max(0, start - 1));
      return null;
    case "ArrowRight":
      move(Math.min(el.value.length, end + 1));
      return null;
    case "Home":
    case "ArrowUp":
      move(0);
      return null;
    case "End":
    case "ArrowDown":
      move(el.value.length);
      return null;
    case "Enter": {
      if (el instanceof HTMLTextAreaElement) {
        insert(el, "\n");
        return null;
      }
      const why = formLeaves(el.form, null);
      if (why) return why;
      el.form?.requestSubmit();
      return null;
    }
    case "Tab": {
      const all = Array.from(
        document.querySelectorAll<HTMLElement>("a[href], button, input, select, textarea"),
      ).filter((x) => !x.hasAttribute("disabled") && x.tabIndex >= 0);
      all[all.indexOf(el) + 1]?.focus();
      return null;
    }
    default: // Escape: the page's own listeners had the keydown
      return null;
  }
}

/** Runs one input; what was refused, or null when it ran. */
export function execute(
  input: HostInput,
  guard: Guard,
  node: (id: number) => Node | null,
): Refusal | null {
  const target = input.target == null ? null : node(input.target);
  const el = target instanceof Element ? target : (target?.parentElement ?? null);
  switch (input.action) {
    case "click": {
      // What a real click at that point would hit (the overlay lets pointer events through).
      const hit = document.elementFromPoint(input.x ?? -1, input.y ?? -1);
      if (!hit) return "no_target";
      const why = refusal(hit, guard) ?? leaves(hit);
      if (why) return why;
      if (hit instanceof HTMLElement) hit.focus({ preventScroll: true });
      const at = {
        bubbles: true,
        cancelable: true,
        composed: true,
        view: window,
        clientX: input.x ?? 0,
        clientY: input.y ?? 0,
      };
      hit.dispatchEvent(new PointerEvent("pointerdown", at));
      hit.dispatchEvent(new MouseEvent("mousedown", at));
      hit.dispatchEvent(new PointerEvent("pointerup", at));
      hit.dispatchEvent(new MouseEvent("mouseup", at));
      hit.dispatchEvent(new MouseEvent("click", at));
      return null;
    }
    case "scroll": {
      if (!el) {
        window.scrollBy(input.dx ?? 0, input.dy ?? 0);
        return null;
      }
      const why = refusal(el, guard);
      if (why) return why;
      el.scrollBy(input.dx ?? 0, input.dy ?? 0);
      return null;
    }
    case "type":
    case "key": {
      if (!el) return "no_target";
      const why = refusal(el, guard);
      if (why) return why;
      if (!editable(el)) return "not_editable";
      el.focus({ preventScroll: true });
      if (input.action === "type") {
        insert(el, input.text ?? "");
        return null;
      }
      const key = input.key ?? "";
      const down = new KeyboardEvent("keydown", {
        key,
        bubbles: true,
        cancelable: true,
        composed: true,
      });
      // The page may handle the key itself (and prevent what it would do).
      if (!el.dispatchEvent(down)) return null;
      const result = editKey(el, key);
      el.dispatchEvent(new KeyboardEvent("keyup", { key, bubbles: true, composed: true }));
      return result;
    }
  }
}
