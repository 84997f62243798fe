// "Open in its own window": the same conversation in a top-level window of our origin,
// without a second start. Loaded only when used (by the click, or in that window).
//
// Why postMessage, and not the token in the URL: in Chromium the widget's iframe keeps
// its storage partitioned by the host site, so the new top-level window cannot read the
// token the iframe stored. A fragment (#token=…) would not reach the server, but it
// would sit in the address bar and the session history until removed, be seen on a
// shared screen, and be read by anything that reads URLs. Instead the window is opened
// with a plain URL and asks its opener; the opener answers only that window (the
// exact `source`), only on our own origin (targetOrigin and `origin` checked both
// ways). The opened window keeps the token in its own (first-party) storage, so a
// reload there goes on with the conversation.
import type { StoredConversation } from "./storage";

const SOURCE = "visavis";
/** The opener answers at once; a window opened by hand (no answer) starts normally. */
const WAIT_MS = 5000;

interface HandoffMsg {
  source: typeof SOURCE;
  type: "handoff-ready" | "handoff";
  token?: string;
  conversation_id?: string;
}

function isMsg(data: unknown): data is HandoffMsg {
  const d = data as Partial<HandoffMsg> | null;
  return !!d && d.source === SOURCE && (d.type === "handoff-ready" || d.type === "handoff");
}

/** The opener's side: open the window and hand it the conversation once it asks.
 * False when the browser blocked the window. */
export function openOwnWindow(stored: StoredConversation, lang: string): boolean {
  const url = `${location.origin}/chat?room=1&lang=${encodeURIComponent(lang)}`;
  // A name per conversation: a second click brings the same window back.
  const win = window.open(url, `visavis-${stored.conversation_id}`);
  if (!win) return false;
  const onMessage = (ev: MessageEvent): void => {
    if (ev.origin !== location.origin || ev.source !== win || !isMsg(ev.data)) return;
    if (ev.data.type !== "handoff-ready") return;
    const msg: HandoffMsg = {
      source: SOURCE,
      type: "handoff",
      token: stored.token,
      conversation_id: stored.conversation_id,
    };
    win.postMessage(msg, location.origin);
  };
  window.addEventListener("message", onMessage);
  // The window may ask again after a reload while we still run; stop listening once
  // it is closed.
  const watch = window.setInterval(() => {
    if (!win.closed) return;
    window.clearInterval(watch);
    window.removeEventListener("message", onMessage);
  }, 2000);
  win.focus();
  return true;
}

/** The opened window's side: ask the opener for the conversation. Null when there is
 * no opener of our origin answering (the page was opened some other way). */
export function receiveHandoff(): Promise<StoredConversation | null> {
  const opener = window.opener as Window | null;
  if (!opener) return Promise.resolve(null);
  return new Promise((resolve) => {
    const done = (value: StoredConversation | null): void => {
      window.clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      resolve(value);
    };
    const onMessage = (ev: MessageEvent): void => {
      if (ev.origin !== location.origin || ev.source !== opener || !isMsg(ev.data)) return;
      const { type, token, conversation_id } = ev.data;
      if (type !== "handoff" || typeof token !== "string" || typeof conversation_id !== "string")
        return;
      done({ token, conversation_id, outbox: [] });
    };
    const timer = window.setTimeout(() => done(null), WAIT_MS);
    window.addEventListener("message", onMessage);
    const ask: HandoffMsg = { source: SOURCE, type: "handoff-ready" };
    try {
      opener.postMessage(ask, location.origin);
    } catch {
      done(null); // the opener navigated elsewhere
    }
  });
}
