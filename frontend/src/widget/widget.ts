// The embeddable loader: <script src="https://SERVER/widget.js" async></script>.
//
// It draws only a floating button (in a shadow root) that shows live availability
// (open/closed, waiting, estimated wait), and on click a panel with a sandboxed iframe
// of SERVER/chat, where the real app runs on our origin. A host page about one topic
// says so with data-topic="kredit": the button then shows that topic's team (not all
// teams), and the chat starts with the topic chosen. Privacy: until the customer
// clicks, it sets no cookie and writes no storage (availability is fetched without
// credentials). Messages between page and iframe use postMessage with the exact
// target origin and origin checks.
//
// Proactive invitations (R5.3): after the page has loaded, the rules are fetched and
// evaluated in memory (URL glob on pathname+search, time on page, returning visitor as
// told by the host page via data-returning="true" or window.visavisContext =
// {returning: true}, utm_campaign). A matching rule shows a small invitation only
// while an adviser of its team is free; "no thanks" is remembered for the visit in
// sessionStorage (the customer interacted), nothing else is ever stored.
// Plain DOM on purpose: this file is loaded by every visitor of the host page.

interface Availability {
  available: boolean;
  free: boolean;
  waiting: number;
  open?: boolean;
  estimate_s?: number | null;
}

interface Rule {
  url_pattern: string;
  min_seconds_on_page: number;
  returning_visitor: boolean | null;
  campaign: string | null;
  team_id: string | null;
  message_de: string;
  message_en: string;
}

interface FrameMsg {
  source?: string;
  type?: string;
  count?: number;
  on?: boolean;
}

const KEY = "visavis.open";
const DECLINED = "visavis.declined";

(() => {
  const w = window as Window & { __visavis?: boolean; visavisContext?: { returning?: boolean } };
  const script = document.currentScript as HTMLScriptElement | null;
  if (w.__visavis || !script?.src) return;
  w.__visavis = true;
  const SERVER = new URL(script.src).origin;
  const returning = script.dataset.returning === "true";
  const topic = script.dataset.topic;
  const de = /^de\b/i.test(navigator.language || "");
  const enc = encodeURIComponent;
  const about = topic ? `topic=${enc(topic)}` : "";
  // "{n} neu" etc. with the number filled in
  const fill = (s: string, n: number) => s.replace("{n}", "" + n);
  const T = de
    ? {
        on: "Chat – Berater:in verfügbar",
        wait: "Chat – {n} wartend",
        est: ", ca. {n} Min.",
        off: "Nachricht hinterlassen",
        shut: "Geschlossen – ",
        close: "Chat schließen",
        title: "Chat mit unserer Beratung",
        unread: "{n} neu",
        yes: "Chat starten",
        no: "Nein danke",
        mine: "Ihr Chat",
      }
    : {
        on: "Chat – adviser available",
        wait: "Chat – {n} waiting",
        est: ", about {n} min",
        off: "Leave a message",
        shut: "Closed – ",
        close: "Close chat",
        title: "Chat with our advisers",
        unread: "{n} new",
        yes: "Start chat",
        no: "No thanks",
        mine: "Your chat",
      };

  // The panel comes after the button in the shadow root: at the same z-index it lies
  // above it (on a phone it covers the whole page); grown large, it reaches nearer the
  // edges than the button, which would peek out below it otherwise.
  const CSS =
    ":host{all:initial}" +
    "[hidden]{display:none!important}" +
    ".l,.p,.i{position:fixed;right:20px;bottom:84px;z-index:2147483000;border-radius:12px;background:#fff;font:15px system-ui;box-shadow:0 6px 24px #0006}" +
    ".l,.x{border:0;background:#0b57a4;color:#fff;cursor:pointer}" +
    ".l{bottom:20px;display:flex;align-items:center;gap:8px;padding:12px 18px;border-radius:26px;font-weight:600}" +
    "button:focus-visible{outline:3px solid #f0a202;outline-offset:3px}" +
    "svg{width:22px;height:22px;fill:#fff}" +
    ".d{width:10px;height:10px;border-radius:50%;background:#c4cbd3}.on .d{background:#4ade80}" +
    ".b{background:#b3261e;border-radius:10px;padding:1px 7px;font-size:12px}" +
    ".p{width:380px;height:min(640px,calc(100vh - 104px));display:flex;flex-direction:column;overflow:hidden}" +
    ".g{inset:4vh 12px 12px;width:auto;height:auto}" +
    ".x{font:700 22px/1 system-ui;height:34px;text-align:right;padding:0 12px}" +
    "iframe{flex:1;border:0}" +
    ".i{max-width:300px;padding:14px}" +
    ".i button{margin:9px 9px 0 0;padding:7px 12px;border:1px solid #0b57a4;border-radius:6px;background:#0b57a4;color:#fff;font:inherit}.i .n{background:#fff;color:#0b57a4}" +
    "@media(max-width:599px){.p{inset:0;width:auto;height:auto;border-radius:0}}";

  let frame: HTMLIFrameElement | null = null;
  let open = false;
  let started = false;
  let unread = 0;
  let queue = "Chat";
  let online = false;

  const host = document.createElement("div");
  host.id = "visavis-widget";
  const root = host.attachShadow({ mode: "open" });
  // Constructed stylesheets are allowed by a strict CSP (no 'unsafe-inline').
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];
  // No type="button": there is no form in the shadow root for a button to submit.
  root.innerHTML =
    '<button class="l" data-testid="visavis-launcher" aria-haspopup="dialog" aria-controls="vv-p">' +
    // the button's aria-label names it: the icon and the (empty) dot add nothing
    '<svg viewBox="0 0 24 24"><path d="M2 4h20v14H9l-5 4v-4H2z"/></svg>' +
    '<span class="d"></span><span class="t"></span><span class="b" data-testid="visavis-badge" hidden></span></button>' +
    `<div class="i" role="status" data-testid="visavis-invitation" hidden><p></p>` +
    `<button>${T.yes}</button>` +
    `<button class="n">${T.no}</button></div>` +
    `<div class="p" id="vv-p" role="dialog" aria-label="${T.title}" hidden>` +
    `<button class="x" data-testid="visavis-close" aria-label="${T.close}">×</button></div>`;
  const $ = <E extends Element>(sel: string) => root.querySelector(sel) as E;
  const launcher = $<HTMLButtonElement>(".l");
  const label = $<HTMLSpanElement>(".t");
  const badge = $<HTMLSpanElement>(".b");
  const panel = $<HTMLDivElement>(".p");
  const bubble = $<HTMLDivElement>(".i");

  // Availability pushes (Server-Sent Events; the first event is the current state).
  function watch(query: string, fn: (a: Availability) => void): EventSource {
    const es = new EventSource(`${SERVER}/api/v1/availability/stream${query}`);
    // Our own server's JSON: a push that fails to parse only logs, the next one counts.
    es.addEventListener("availability", (ev) =>
      fn(JSON.parse((ev as MessageEvent<string>).data) as Availability),
    );
    return es;
  }

  function paint(): void {
    // In a conversation the button is the customer's own chat, not the queue of others.
    const text = started ? T.mine : queue;
    label.textContent = text;
    launcher.classList.toggle("on", online);
    const n = open ? 0 : unread;
    badge.hidden = !n;
    badge.textContent = "" + n;
    launcher.setAttribute("aria-label", n ? `${text} (${fill(T.unread, n)})` : text);
    launcher.setAttribute("aria-expanded", "" + open);
  }

  function show(a: Availability): void {
    online = a.available;
    const est = a.estimate_s;
    // closed: "Geschlossen – Nachricht hinterlassen"
    queue = !online
      ? (a.open === false ? T.shut : "") + T.off
      : a.waiting > 0
        ? fill(T.wait, a.waiting) + (est != null ? fill(T.est, Math.ceil(est / 60) || 1) : "")
        : T.on;
    paint();
  }

  // A proactive invitation shows only while an adviser of its rule's team is free.
  let invite: EventSource | null = null;
  function answer(accepted: boolean): void {
    if (accepted) return setOpen(true);
    invite?.close();
    bubble.hidden = true;
    try {
      sessionStorage.setItem(DECLINED, "1");
    } catch {
      /* blocked: forgotten with the page */
    }
    launcher.focus();
  }
  // Handler properties (shorter than addEventListener): our own shadow elements.
  $<HTMLElement>(".i button").onclick = () => answer(true);
  $<HTMLElement>(".n").onclick = () => answer(false);

  function proactive(): void {
    try {
      if (sessionStorage.getItem(DECLINED)) return;
    } catch {
      /* no storage: invitations still work for this page */
    }
    fetch(`${SERVER}/api/v1/proactive-rules`, { credentials: "omit" })
      .then((r) => r.json() as Promise<{ rules?: Rule[] }>)
      .then((res) => {
        const back = returning || w.visavisContext?.returning === true;
        const here = location.pathname + location.search;
        const campaign = new URLSearchParams(location.search).get("utm_campaign");
        const rule = (res.rules || []).find(
          (r) =>
            new RegExp(
              "^" + r.url_pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$",
            ).test(here) &&
            (r.returning_visitor == null || r.returning_visitor === back) &&
            (!r.campaign || r.campaign === campaign),
        );
        if (rule)
          setTimeout(
            () => {
              $("p").textContent = de ? rule.message_de : rule.message_en;
              invite = watch(`?team=${enc(rule.team_id || "")}`, (a) => {
                // what the invitation waits for, as state (the browser tests wait on it)
                bubble.dataset.free = "" + a.free;
                bubble.hidden = open || started || !a.free;
              });
            },
            rule.min_seconds_on_page * 1000 - performance.now(),
          );
      })
      .catch(() => {});
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

  function ensureFrame(): void {
    if (frame) return;
    const f = (frame = document.createElement("iframe"));
    const attrs = {
      sandbox: "allow-scripts allow-same-origin allow-forms allow-popups",
      title: T.title,
      "data-testid": "visavis-frame",
      allow: "camera; microphone; display-capture; fullscreen",
      // no language: the chat picks it from the same browser's languages
      src: `${SERVER}/chat?embed=1&host=${enc(location.origin)}&${about}`,
    };
    for (const [k, v] of Object.entries(attrs)) f.setAttribute(k, v);
    // (the chat says "ready" when it runs: then it is told whether it is shown)
    f.onload = () => open && f.focus();
    panel.appendChild(f);
  }

  function setOpen(next: boolean, focus = true): void {
    open = next;
    if (open) {
      // Opened (by the invitation or the button): the invitation has done its job.
      invite?.close();
      bubble.hidden = true;
      ensureFrame();
    }
    panel.hidden = !open;
    remember();
    tell();
    paint();
    if (focus) (open ? frame : launcher)?.focus();
  }

  launcher.onclick = () => setOpen(!open);
  $<HTMLElement>(".x").onclick = () => setOpen(false);
  panel.onkeydown = (e) => {
    if (e.key === "Escape") setOpen(false);
  };

  window.addEventListener("message", (e: MessageEvent) => {
    if (e.origin !== SERVER || !frame || e.source !== frame.contentWindow) return;
    const d = e.data as FrameMsg | null;
    if (!d || d.source !== "visavis") return;
    if (d.type === "ready") tell();
    else if (d.type === "started" || d.type === "ended") {
      started = d.type === "started";
      if (started) bubble.hidden = true;
      remember();
      paint();
    } else if (d.type === "grow") panel.classList.toggle("g", !!d.on);
    else if (d.type === "close") setOpen(false);
    else if (d.type === "cobrowse") cobrowse();
    else if (d.type === "unread") {
      // our own frame's number; ~~ makes anything else 0
      unread = Math.max(0, ~~(d.count as number));
      paint();
    }
  });

  // Co-browsing (after the customer's consent in the chat): the recorder, a classic
  // script from our origin (src/cobrowse/host.ts). It sets visavis.cb while it runs, so
  // the next page of this site adds it again.
  function cobrowse(): void {
    // (a script inserted without src loads once src is set)
    document.body.appendChild(document.createElement("script")).src = SERVER + "/cobrowse.js";
  }

  function start(): void {
    document.body.appendChild(host);
    paint();
    let again: string | null = null;
    try {
      again = sessionStorage.getItem(KEY);
      if (sessionStorage.getItem("visavis.cb")) cobrowse();
    } catch {
      /* blocked: no reopen */
    }
    if (again) {
      // A conversation is running in this tab: bring it back (open or collapsed).
      started = true;
      if (again === "1") setOpen(true, false);
      else ensureFrame();
    }
    // with a topic, the language picks among its teams, as when the chat starts
    watch("?" + about + (topic ? `&lang=${de ? "de" : "en"}` : ""), show);
    if (document.readyState === "complete") proactive();
    else w.addEventListener("load", proactive);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
