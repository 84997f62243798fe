// The iframe side of the widget: talks to the loader on the host page by
// postMessage, with the host's exact origin as target and checked on receipt.
import type { FromHost, ToHost } from "../cobrowse/bridge";

export type ToLoader =
  | { type: "ready" }
  | { type: "started" }
  | { type: "ended" }
  | { type: "close" }
  /** Grow the widget's panel into an overlay over most of the page (or back). */
  | { type: "grow"; on: boolean }
  | { type: "unread"; count: number };

export interface FromLoader {
  source: "visavis";
  type: "panel";
  open: boolean;
}

function hostOrigin(): string | null {
  const params = new URLSearchParams(location.search);
  if (params.get("embed") !== "1") return null;
  const host = params.get("host");
  if (!host) return null;
  try {
    const origin = new URL(host).origin;
    return origin === host && origin !== "null" ? origin : null;
  } catch {
    return null;
  }
}

export const embedded =
  new URLSearchParams(location.search).get("embed") === "1" && window.parent !== window;
const host = embedded ? hostOrigin() : null;

export function toLoader(msg: ToLoader): void {
  if (!host) return;
  window.parent.postMessage({ source: "visavis", ...msg }, host);
}

/** Whether there is a host page to talk to (the chat runs in the widget's iframe). */
export const hasHost = host !== null;

/** To the co-browsing recorder on the host page (cobrowse/bridge.ts), or the loader's
 * `cobrowse` ("add the recorder"). */
export function toHostPage(msg: ToHost): void {
  if (!host) return;
  window.parent.postMessage({ source: "visavis", ...msg }, host);
}

/** Messages of the co-browsing recorder: from the host page's window and origin only. */
export function onHostPage(fn: (msg: FromHost) => void): () => void {
  if (!host) return () => undefined;
  const listener = (ev: MessageEvent) => {
    if (ev.origin !== host || ev.source !== window.parent) return;
    const data = ev.data as (FromHost & { source?: unknown }) | null;
    if (data && data.source === "visavis" && typeof data.type === "string") fn(data);
  };
  window.addEventListener("message", listener);
  return () => window.removeEventListener("message", listener);
}

export function onLoader(fn: (msg: FromLoader) => void): void {
  if (!host) return;
  window.addEventListener("message", (ev: MessageEvent) => {
    if (ev.origin !== host || ev.source !== window.parent) return;
    const data = ev.data as Partial<FromLoader> | null;
    if (
      !data ||
      data.source !== "visavis" ||
      data.type !== "panel" ||
      typeof data.open !== "boolean"
    )
      return;
    fn(data as FromLoader);
  });
}
