// The co-browsing recorder on the customer's page (/cobrowse.js, a classic script the
// widget loader adds only after the customer consented in the chat, and again on the
// next page of the site while co-browsing runs). It records this tab with rrweb —
// masked: every input's value, [data-visavis-mask] and the operator's selectors; the
// widget and this overlay blocked — and posts the events to the chat iframe, which
// alone talks to the server. It draws the adviser's pointer, always shows the "stop
// sharing" bar, and executes the adviser's inputs only while control is granted and
// only where control.ts allows.
//
// Nothing here trusts the server alone: recording starts only when the iframe (our
// origin, checked on every message) says the customer consented, and stops at once
// when the customer presses stop on the page, before the server hears of it.
import { record } from "@rrweb/record";
import { isMotion } from "./events";
import { MirrorPacker } from "./packing";
import { BRIDGE_SOURCE, RESUME_KEY, type FromHost, type HostState, type ToHost } from "./bridge";
import { execute, type Guard } from "./control";
import { OVERLAY_ID, Overlay } from "./overlay";

/** Batches go out at most this long after their first event: page changes and inputs
 * soon; the pointer and scrolling (rrweb sends them several times a second while the
 * customer moves, each with its time, so they replay smoothly) may wait a little, which
 * saves a frame's envelope several times a second. */
const FLUSH_MS = 50;
const FLUSH_MOTION_MS = 250;
/** Always masked (their text and their inputs' values) / blocked (not recorded at all). */
const MASKED = "[data-visavis-mask]";
const BLOCKED = `#visavis-widget,#${OVERLAY_ID},[data-visavis-block]`;

interface CobrowseConfig {
  /** The operator's CSS selectors of further content to mask (VISAVIS_COBROWSE_MASK). */
  mask: string;
}

type Win = Window & { __visavisCobrowse?: Recorder };

function setResume(on: boolean): void {
  try {
    if (on) sessionStorage.setItem(RESUME_KEY, "1");
    else sessionStorage.removeItem(RESUME_KEY);
  } catch {
    /* storage blocked: the next page waits for the iframe's word instead */
  }
}

/** A selector list the browser accepts, or null. */
function validSelector(sel: string): boolean {
  try {
    document.createDocumentFragment().querySelector(sel);
    return true;
  } catch {
    return false;
  }
}

class Recorder {
  private state: HostState = { type: "cb.state", sharing: false, control: false, lang: "de" };
  private stopRecording: (() => void) | null = null;
  private queue: unknown[] = [];
  private timer: number | null = null;
  /** When the pending flush is due (performance.now()). */
  private due = 0;
  private readonly packer = new MirrorPacker();
  private guard: Guard | null = null;
  private readonly overlay: Overlay;

  constructor(
    private readonly server: string,
    private readonly frame: HTMLIFrameElement,
  ) {
    this.overlay = new Overlay({ stop: () => this.stopByCustomer(), revoke: () => this.revoke() });
    window.addEventListener("message", this.onMessage);
    this.frame.addEventListener("load", () => this.hello());
  }

  hello(): void {
    this.post({ type: "cb.hello" });
  }

  private post(msg: FromHost): void {
    this.frame.contentWindow?.postMessage({ source: BRIDGE_SOURCE, ...msg }, this.server);
  }

  private readonly onMessage = (e: MessageEvent): void => {
    if (e.origin !== this.server || e.source !== this.frame.contentWindow) return;
    const d = e.data as (ToHost & { source?: string }) | null;
    if (!d || d.source !== BRIDGE_SOURCE) return;
    switch (d.type) {
      case "cb.state":
        this.apply(d);
        break;
      case "cb.pointer":
        if (this.stopRecording) this.overlay.pointer(d.x, d.y, d.visible, d.name);
        break;
      case "cb.input":
        // Refused here too when control is not granted (whatever the server let through).
        if (this.stopRecording && this.state.control && this.guard) {
          const why = execute(d, this.guard, (id) => record.mirror.getNode(id));
          if (why) console.info(`visavis: adviser input refused (${why})`);
        }
        break;
      case "cb.resync":
        if (this.stopRecording) record.takeFullSnapshot(true);
        break;
    }
  };

  private apply(next: HostState): void {
    this.state = next;
    this.overlay.setLang(next.lang === "en" ? "en" : "de");
    this.overlay.setControl(next.sharing && next.control);
    if (next.sharing) void this.start();
    else this.stop();
  }

  private starting = false;
  private async start(): Promise<void> {
    if (this.stopRecording || this.starting) return;
    this.starting = true;
    try {
      this.guard ??= await this.loadGuard();
    } finally {
      this.starting = false;
    }
    if (!this.guard) {
      console.error("visavis: co-browsing not started: the mask settings could not be loaded");
      return;
    }
    // Still wanted after the fetch (the customer may have stopped meanwhile)?
    if (!this.state.sharing || this.stopRecording) return;
    setResume(true);
    this.overlay.mount();
    this.overlay.setControl(this.state.control);
    const { masked, blocked } = this.guard;
    const stop = record({
      emit: (event) => this.enqueue(event),
      maskAllInputs: true,
      maskInputOptions: { password: true },
      // A fixed mask: not even the length of what was typed is shown.
      maskInputFn: (text) => (text ? "********" : ""),
      maskTextSelector: masked,
      maskTextFn: (text) => text.replace(/\S+/g, "***"),
      blockSelector: blocked,
      // Inputs are not sampled: their masked value is constant, so rrweb sends one event
      // when a field gets (or loses) content, at once rather than when it loses focus.
      sampling: { mousemove: 50, mousemoveCallback: 100, scroll: 100 },
      slimDOMOptions: "all",
      recordCanvas: false,
      collectFonts: false,
      inlineImages: false,
      recordCrossOriginIframes: false,
    });
    this.stopRecording = () => stop?.();
  }

  /** The selectors to mask and block: ours and the operator's (fail closed: no
   * recording when the operator's cannot be had or are not valid CSS). */
  private async loadGuard(): Promise<Guard | null> {
    try {
      const res = await fetch(`${this.server}/api/v1/cobrowse/config`, { credentials: "omit" });
      if (!res.ok) return null;
      const config = (await res.json()) as CobrowseConfig;
      const extra = typeof config.mask === "string" ? config.mask.trim() : "";
      if (extra && !validSelector(extra)) return null;
      const masked = extra ? `${MASKED},${extra}` : MASKED;
      return { masked, blocked: BLOCKED };
    } catch {
      return null;
    }
  }

  private enqueue(event: unknown): void {
    this.queue.push(event);
    const due = performance.now() + (isMotion(event) ? FLUSH_MOTION_MS : FLUSH_MS);
    if (this.timer != null && due >= this.due) return;
    if (this.timer != null) window.clearTimeout(this.timer);
    this.due = due;
    this.timer = window.setTimeout(() => this.flush(), due - performance.now());
  }

  private flush(): void {
    this.timer = null;
    const events = this.queue;
    this.queue = [];
    if (!events.length || !this.stopRecording) return;
    const chunks = this.packer.pack(events, Date.now());
    if (!chunks.length) console.warn("visavis: a page too large to mirror; waiting for the next");
    for (const c of chunks) this.post({ type: "cb.batch", ...c });
  }

  private stop(): void {
    this.packer.restart();
    this.stopRecording?.();
    this.stopRecording = null;
    if (this.timer != null) window.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.overlay.unmount();
    setResume(false);
  }

  private stopByCustomer(): void {
    this.state = { ...this.state, sharing: false, control: false };
    this.stop();
    this.post({ type: "cb.end" });
  }

  private revoke(): void {
    this.state = { ...this.state, control: false };
    this.overlay.setControl(false);
    this.post({ type: "cb.revoke" });
  }
}

(() => {
  const w = window as Win;
  if (w.__visavisCobrowse) {
    // Added again (the customer consented once more): the recorder asks for the state.
    w.__visavisCobrowse.hello();
    return;
  }
  const script = document.currentScript as HTMLScriptElement | null;
  const frame = document
    .getElementById("visavis-widget")
    ?.shadowRoot?.querySelector<HTMLIFrameElement>("iframe");
  if (!script?.src || !frame) {
    setResume(false); // no chat on this page: nothing to resume
    return;
  }
  const recorder = (w.__visavisCobrowse = new Recorder(new URL(script.src).origin, frame));
  recorder.hello();
})();
