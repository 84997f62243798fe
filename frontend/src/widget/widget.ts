// The embeddable loader: <script src="https://SERVER/widget.js" async></script>.
//
// It draws only a floating button (in a shadow root) that shows live availability,
// and on click a panel with a sandboxed iframe of SERVER/chat, where the real app
// runs on our origin. Privacy: until the customer clicks, it sets no cookie and
// writes no storage (availability is fetched without credentials). Messages between
// page and iframe use postMessage with the exact target origin and origin checks.
// Plain DOM on purpose: this file is loaded by every visitor of the host page.

interface Availability {
  available: boolean;
  advisers_available: number;
  waiting: number;
}

interface FrameMsg {
  source?: string;
  type?: string;
  count?: number;
}

const KEY = "visavis.open";

(() => {
  const w = window as Window & { __visavis?: boolean };
  const script = document.currentScript as HTMLScriptElement | null;
  if (w.__visavis || !script || !script.src) return;
  w.__visavis = true;
  const SERVER = new URL(script.src).origin;
  const de = /^de\b/i.test(navigator.language || "");
  const T = de
    ? { chat: "Chat", on: "Chat – Berater:in verfügbar", wait: "Chat – {n} wartend", off: "Nachricht hinterlassen", close: "Chat schließen", title: "Chat mit unserer Beratung", unread: "{n} neu" }
    : { chat: "Chat", on: "Chat – adviser available", wait: "Chat – {n} waiting", off: "Leave a message", close: "Close chat", title: "Chat with our advisers", unread: "{n} new" };

  const CSS =
    ":host{all:initial}" +
    "[hidden]{display:none!important}" +
    ".l{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;align-items:center;gap:8px;padding:12px 18px;border:0;border-radius:26px;background:#0b57a4;color:#fff;font:600 15px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.28);cursor:pointer}" +
    ".l:hover{background:#073e75}" +
    "button:focus-visible{outline:3px solid #f0a202;outline-offset:3px}" +
    ".l svg{width:22px;height:22px;fill:currentColor}" +
    ".d{width:10px;height:10px;border-radius:50%;background:#c4cbd3}.on .d{background:#4ade80}" +
    ".b{background:#b3261e;color:#fff;border-radius:10px;padding:1px 7px;font-size:12px}" +
    ".p{position:fixed;right:20px;bottom:84px;z-index:2147483001;width:380px;height:min(640px,calc(100vh - 104px));display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 8px 32px rgba(0,0,0,.32)}" +
    ".x{align-self:flex-end;margin:0;border:0;background:#0b57a4;color:#fff;font:700 22px/1 system-ui,sans-serif;width:100%;height:34px;text-align:right;padding:0 12px;cursor:pointer}" +
    "iframe{flex:1;border:0;width:100%}" +
    "@media (max-width:599px){.p{inset:0;width:auto;height:auto;border-radius:0}}";

  let frame: HTMLIFrameElement | null = null;
  let open = false;
  let started = false;
  let unread = 0;
  let text = T.chat;
  let online = false;

  const host = document.createElement("div");
  host.id = "visavis-widget";
  const root = host.attachShadow({ mode: "open" });
  // Constructed stylesheets are allowed by a strict CSP (no 'unsafe-inline').
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet.prototype.replaceSync === "function") {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }
  root.innerHTML +=
    '<button class="l" type="button" data-testid="visavis-launcher" aria-haspopup="dialog" aria-expanded="false" aria-controls="vv-p">' +
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>' +
    '<span class="d" aria-hidden="true"></span><span class="t"></span><span class="b" data-testid="visavis-badge" hidden></span></button>' +
    '<div class="p" id="vv-p" role="dialog" hidden><button class="x" type="button" data-testid="visavis-close">×</button></div>';
  const $ = <E extends Element>(sel: string) => root.querySelector(sel) as E;
  const launcher = $<HTMLButtonElement>(".l");
  const label = $<HTMLSpanElement>(".t");
  const badge = $<HTMLSpanElement>(".b");
  const panel = $<HTMLDivElement>(".p");
  const closer = $<HTMLButtonElement>(".x");
  panel.setAttribute("aria-label", T.title);
  closer.setAttribute("aria-label", T.close);
  closer.title = T.close;

  function paint(): void {
    label.textContent = text;
    launcher.classList.toggle("on", online);
    const n = open ? 0 : unread;
    badge.hidden = n === 0;
    badge.textContent = String(n);
    launcher.setAttribute("aria-label", n ? `${text} (${T.unread.replace("{n}", String(n))})` : text);
    launcher.setAttribute("aria-expanded", String(open));
  }

  function show(a: Availability): void {
    online = !!a.available;
    text = !a.available ? T.off : a.waiting > 0 ? T.wait.replace("{n}", String(a.waiting)) : T.on;
    paint();
  }

  function remember(): void {
    try {
      if (started) sessionStorage.setItem(KEY, open ? "1" : "0");
      else sessionStorage.removeItem(KEY);
    } catch {
      /* storage may be blocked on the host page */
    }
  }

  function tell(): void {
    frame?.contentWindow?.postMessage({ source: "visavis", type: "panel", open }, SERVER);
  }

  function ensureFrame(): HTMLIFrameElement {
    if (frame) return frame;
    const f = document.createElement("iframe");
    f.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups");
    f.setAttribute("title", T.title);
    f.setAttribute("data-testid", "visavis-frame");
    f.setAttribute("allow", "camera; microphone; display-capture; fullscreen");
    f.src =
      `${SERVER}/chat?embed=1&host=${encodeURIComponent(location.origin)}` +
      `&lang=${encodeURIComponent(navigator.language || "")}`;
    f.addEventListener("load", () => {
      tell();
      if (open) f.focus();
    });
    panel.appendChild(f);
    frame = f;
    return f;
  }

  function setOpen(next: boolean, focus = true): void {
    open = next;
    if (open) ensureFrame();
    panel.hidden = !open;
    remember();
    tell();
    paint();
    if (focus) (open ? frame : launcher)?.focus();
  }

  launcher.addEventListener("click", () => setOpen(!open));
  closer.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") setOpen(false);
  });

  window.addEventListener("message", (e: MessageEvent) => {
    if (e.origin !== SERVER || !frame || e.source !== frame.contentWindow) return;
    const d = e.data as FrameMsg | null;
    if (!d || d.source !== "visavis") return;
    if (d.type === "ready") tell();
    else if (d.type === "started") {
      started = true;
      remember();
    } else if (d.type === "ended") {
      started = false;
      remember();
    } else if (d.type === "close") setOpen(false);
    else if (d.type === "unread") {
      unread = Math.max(0, Math.floor(Number(d.count) || 0));
      paint();
    }
  });

  function start(): void {
    document.body.appendChild(host);
    paint();
    let again: string | null = null;
    try {
      again = sessionStorage.getItem(KEY);
    } catch {
      /* blocked: no reopen */
    }
    if (again) {
      // A conversation is running in this tab: bring it back (open or collapsed).
      started = true;
      if (again === "1") setOpen(true, false);
      else ensureFrame();
    }
    fetch(`${SERVER}/api/v1/availability`, { credentials: "omit" })
      .then((r) => (r.ok ? (r.json() as Promise<Availability>) : null))
      .then((a) => a && show(a))
      .catch(() => undefined)
      .then(() => {
        if (!("EventSource" in window)) return;
        const es = new EventSource(`${SERVER}/api/v1/availability/stream`);
        es.addEventListener("availability", (ev) => {
          try {
            show(JSON.parse((ev as MessageEvent<string>).data) as Availability);
          } catch {
            /* ignore a malformed push */
          }
        });
      });
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
