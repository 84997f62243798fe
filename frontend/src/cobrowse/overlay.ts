// What the customer sees on their own page while co-browsing runs: a bar that is always
// there ("stop sharing"), while the adviser has control an indicator with "revoke", and
// the adviser's pointer. All of it lives in one shadow root whose host element the
// recorder blocks, so none of it is mirrored and moving the pointer records nothing.
// Styles come from a constructed stylesheet (allowed under a strict CSP); the pointer
// moves through the CSSOM (element.style), which no CSP forbids.

export const OVERLAY_ID = "visavis-cobrowse";

const TEXTS = {
  de: {
    region: "Co-Browsing",
    sharing: "Sie teilen diesen Tab mit Ihrer Beratung.",
    stop: "Co-Browsing beenden",
    control: "Beraterin oder Berater steuert mit",
    revoke: "Steuerung beenden",
    adviser: "Beratung",
  },
  en: {
    region: "Co-browsing",
    sharing: "You are sharing this tab with your adviser.",
    stop: "Stop sharing",
    control: "Adviser has control",
    revoke: "Revoke control",
    adviser: "Adviser",
  },
};

const CSS =
  ":host{all:initial}" +
  "[hidden]{display:none!important}" +
  ".bar{position:fixed;top:8px;left:50%;transform:translateX(-50%);z-index:2147483002;display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px;max-width:calc(100vw - 24px);box-sizing:border-box;padding:8px 12px;border-radius:10px;background:#12355b;color:#fff;font:14px/1.3 system-ui,sans-serif;box-shadow:0 4px 16px #0006}" +
  ".bar p{margin:0}" +
  ".ctl{display:flex;align-items:center;gap:8px;padding:4px 8px;border-radius:6px;background:#f0a202;color:#1b1b1b;font-weight:600}" +
  "button{border:0;border-radius:6px;padding:6px 10px;background:#fff;color:#12355b;font:600 14px system-ui,sans-serif;cursor:pointer}" +
  ".ctl button{background:#1b1b1b;color:#fff}" +
  "button:focus-visible{outline:3px solid #f0a202;outline-offset:2px}" +
  ".ptr{position:fixed;left:0;top:0;z-index:2147483003;pointer-events:none;display:flex;align-items:flex-start;gap:2px}" +
  ".ptr svg{width:22px;height:22px;filter:drop-shadow(0 1px 2px #0008)}" +
  ".ptr span{margin-top:14px;padding:1px 6px;border-radius:8px;background:#b3261e;color:#fff;font:600 12px system-ui,sans-serif;white-space:nowrap}" +
  "@media (max-width:599px){.bar{top:auto;bottom:8px}}";

export interface OverlayActions {
  stop(): void;
  revoke(): void;
}

export class Overlay {
  readonly host: HTMLElement;
  private readonly root: ShadowRoot;
  private readonly bar: HTMLElement;
  private readonly ctl: HTMLElement;
  private readonly ptr: HTMLElement;
  private readonly ptrName: HTMLElement;
  private lang: "de" | "en" = "de";

  constructor(actions: OverlayActions) {
    this.host = document.createElement("div");
    this.host.id = OVERLAY_ID;
    this.root = this.host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    this.root.adoptedStyleSheets = [sheet];
    this.root.innerHTML =
      '<div class="bar" role="region" data-testid="cobrowse-bar">' +
      '<p data-testid="cobrowse-sharing"></p>' +
      '<span class="ctl" role="status" data-testid="cobrowse-control" hidden><span></span>' +
      '<button type="button" data-testid="cobrowse-revoke"></button></span>' +
      '<button type="button" data-testid="cobrowse-stop"></button></div>' +
      '<div class="ptr" data-testid="cobrowse-pointer" aria-hidden="true" hidden>' +
      '<svg viewBox="0 0 24 24"><path d="M3 2l7 19 2.6-7.4L20 11z" fill="#b3261e" stroke="#fff" stroke-width="1.5"/></svg>' +
      "<span></span></div>";
    const $ = (sel: string) => this.root.querySelector(sel) as HTMLElement;
    this.bar = $(".bar");
    this.ctl = $(".ctl");
    this.ptr = $(".ptr");
    this.ptrName = $(".ptr span");
    $('[data-testid="cobrowse-stop"]').addEventListener("click", () => actions.stop());
    $('[data-testid="cobrowse-revoke"]').addEventListener("click", () => actions.revoke());
    this.texts();
  }

  mount(): void {
    if (!this.host.isConnected) document.body.appendChild(this.host);
  }

  unmount(): void {
    this.host.remove();
  }

  setLang(lang: "de" | "en"): void {
    if (lang === this.lang) return;
    this.lang = lang;
    this.texts();
  }

  private texts(): void {
    const t = TEXTS[this.lang];
    this.bar.setAttribute("aria-label", t.region);
    this.bar.lang = this.lang;
    this.root.querySelector("p")!.textContent = t.sharing;
    this.ctl.querySelector("span")!.textContent = t.control;
    this.ctl.querySelector("button")!.textContent = t.revoke;
    this.root.querySelector('[data-testid="cobrowse-stop"]')!.textContent = t.stop;
  }

  setControl(on: boolean): void {
    this.ctl.hidden = !on;
  }

  /** The adviser's pointer at (x, y) in the viewport; `data-x`/`data-y` say where it is. */
  pointer(x: number, y: number, visible: boolean, name: string): void {
    this.ptr.hidden = !visible;
    if (!visible) return;
    this.ptr.style.transform = `translate(${Math.round(x)}px,${Math.round(y)}px)`;
    this.ptrName.textContent = name || TEXTS[this.lang].adviser;
    this.ptr.dataset.x = String(Math.round(x));
    this.ptr.dataset.y = String(Math.round(y));
  }
}
