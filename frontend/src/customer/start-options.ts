// On the customer app's start screen: is anybody there and how long is the wait (for
// the chosen topic's team, live), the adviser picked in the portal, and the other ways
// in: leave a message, ask for a call-back, book an appointment, "I have a code".
// Loaded right after the app's first render (not part of its first load).
import { css, html, nothing, type PropertyValues } from "lit";
import { api, type Availability } from "../lib/api";
import { I18nElement } from "../lib/base";
import { Latest } from "../lib/latest";
import { lang, translator, type Strings } from "../lib/i18n";
import { base } from "../lib/styles";
import { carriedParams, initials, type PortalAdviser } from "./params";
import { formatEstimate } from "./ways-strings";

const strings = {
  availNow: [
    "Jetzt erreichbar – geschätzte Wartezeit: {estimate}",
    "Available now – estimated wait: {estimate}",
  ],
  availFree: [
    "Jetzt erreichbar – eine Beraterin oder ein Berater ist frei.",
    "Available now – an adviser is free.",
  ],
  nobody: [
    "Gerade ist niemand frei. Sie können trotzdem schreiben und warten – oder uns eine Nachricht hinterlassen.",
    "Nobody is free right now. You can still write and wait – or leave us a message.",
  ],
  closed: ["Wir sind gerade nicht erreichbar.", "We are closed right now."],
  closedUntil: [
    "Wir sind gerade nicht erreichbar – wieder ab {when}.",
    "We are closed right now – back {when}.",
  ],
  otherWays: ["Andere Wege zu uns", "Other ways to reach us"],
  leaveMessage: ["Nachricht hinterlassen", "Leave a message"],
  requestCallback: ["Rückruf anfordern", "Request a call-back"],
  bookAppointment: ["Termin buchen", "Book an appointment"],
  haveCode: ["Ich habe einen Code", "I have a code"],
  pickedAdviser: ["Sie möchten mit {name} sprechen", "You would like to talk to {name}"],
  pickedStatus_available: ["jetzt verfügbar", "available now"],
  pickedStatus_busy: ["gerade im Gespräch", "in a conversation"],
  pickedStatus_away: ["kurz abwesend", "away for a moment"],
  pickedStatus_offline: ["nicht online", "not online"],
  pickedFallback: [
    "Ist {name} nicht bald frei, übernimmt eine Kollegin oder ein Kollege aus dem Team.",
    "If {name} is not free soon, a colleague from the team takes over.",
  ],
} as const satisfies Strings;
const tw = translator(strings);

/** A next opening time in the browser's time zone: "Mo., 08:00" / "Mon 08:00". */
export function formatOpening(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const sameDay = d.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", {
    ...(sameDay ? {} : { weekday: "short" as const }),
    hour: "2-digit",
    minute: "2-digit",
  }).format(d);
}

export type StartMode = "message" | "callback" | "code";
export type { PortalAdviser };

export class StartOptions extends I18nElement {
  static override properties = {
    topic: { type: String },
    adviserId: { type: String, attribute: "adviser-id" },
    state: { state: true },
    picked: { state: true },
  };
  declare topic: string;
  declare adviserId: string;
  declare state: Availability | null;
  declare picked: PortalAdviser | null;

  private stream: EventSource | null = null;
  private readonly loads = new Latest();

  constructor() {
    super();
    this.topic = "";
    this.adviserId = "";
    this.state = null;
    this.picked = null;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        margin-bottom: 0.9rem;
      }
      :host(vv-start-ways) {
        margin: 1.2rem 0 0.5rem;
      }
      .state {
        margin: 0 0 0.6rem;
        padding: 0.5rem 0.7rem;
        border-radius: 8px;
        background: #eef4fb;
        border: 1px solid #c6d9ee;
      }
      .state[data-state="closed"],
      .state[data-state="busy"] {
        background: #fff7e0;
        border-color: #ecd9a0;
      }
      .dot {
        display: inline-block;
        width: 0.65rem;
        height: 0.65rem;
        border-radius: 50%;
        margin-right: 0.35rem;
        background: #8a94a0;
      }
      [data-state="open"] .dot {
        background: #1e9b46;
      }
      .ways {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .ways a,
      .ways button {
        display: inline-flex;
        align-items: center;
        min-height: 2.5rem;
        padding: 0.4rem 0.75rem;
        border-radius: 6px;
        border: 1px solid var(--vv-primary, #0b57a4);
        background: #fff;
        color: var(--vv-primary, #0b57a4);
        font-weight: 600;
        text-decoration: none;
      }
      .ways a:hover,
      .ways button:hover {
        background: #eef4fb;
      }
      .ways.prominent a,
      .ways.prominent button {
        background: var(--vv-primary, #0b57a4);
        color: #fff;
      }
      h2 {
        font-size: 0.95rem;
        margin: 0.2rem 0 0.4rem;
      }
      .picked {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        margin-bottom: 0.6rem;
      }
      .picked img,
      .picked .initials {
        width: 3rem;
        height: 3rem;
        border-radius: 50%;
        object-fit: cover;
        flex: none;
      }
      .picked .initials {
        display: grid;
        place-items: center;
        background: #14324f;
        color: #fff;
        font-weight: 700;
      }
      .picked p {
        margin: 0;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.listen();
  }

  /** The topic and the language: together they pick the team the customer would wait
   * for (teams of one topic may serve different languages). */
  private scope(): string {
    return this.topic ? `?topic=${encodeURIComponent(this.topic)}&lang=${lang()}` : "";
  }

  /** The stream of the topic's own team: it pushes only when that team's state changes
   * (a stream of all teams would not tell when this one closes). Each push refreshes
   * the topic's state and the picked adviser. */
  private listen(): void {
    this.stream?.close();
    this.stream = new EventSource(`/api/v1/availability/stream${this.scope()}`);
    this.stream.addEventListener("availability", () => void this.refresh());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stream?.close();
    this.stream = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("topic") && this.hasUpdated) this.listen();
    if (changed.has("topic")) void this.refresh();
    if (changed.has("adviserId") && this.adviserId) void this.loadPicked();
  }

  private async refresh(): Promise<void> {
    const current = this.loads.begin(); // a push may come while one is on its way
    try {
      const state = await api<Availability>("GET", `/api/v1/availability${this.scope()}`);
      if (!current()) return;
      this.state = state;
      this.emit("vv-availability", state);
    } catch {
      /* the form works without it */
    }
    if (this.adviserId) void this.loadPicked();
  }

  private async loadPicked(): Promise<void> {
    try {
      const res = await api<{ advisers: PortalAdviser[] }>("GET", "/api/v1/portal");
      this.picked = res.advisers.find((a) => a.id === this.adviserId) ?? null;
      if (this.picked) this.emit("vv-picked", this.picked);
    } catch {
      this.picked = null;
    }
  }

  private renderState() {
    const s = this.state;
    if (!s) return nothing;
    let key: "open" | "busy" | "closed";
    let text: string;
    if (s.open === false) {
      key = "closed";
      const when = formatOpening(s.next_opening);
      text = when ? tw("closedUntil", { when }) : tw("closed");
    } else if (!s.available) {
      key = "busy";
      text = tw("nobody");
    } else {
      key = "open";
      text =
        s.waiting > 0
          ? tw("availNow", { estimate: formatEstimate(s.estimate_s) })
          : tw("availFree");
    }
    return html`<p
      class="state"
      role="status"
      data-testid="availability"
      data-state=${key}
      data-estimate=${s.estimate_s ?? ""}
    >
      <span class="dot" aria-hidden="true"></span>${text}
    </p>`;
  }

  private renderPicked() {
    const p = this.picked;
    if (!p) return nothing;
    return html`<div class="picked" data-testid="picked-adviser" data-adviser-id=${p.id}>
      ${p.photo_url ? html`<img src=${p.photo_url} alt="" />` : html`<span class="initials" aria-hidden="true">${initials(p.name)}</span>`}
      <div>
        <p>
          <strong>${tw("pickedAdviser", { name: p.name })}</strong>
          (${tw(`pickedStatus_${p.status}`)})
        </p>
        <p class="muted">${tw("pickedFallback", { name: p.name })}</p>
      </div>
    </div>`;
  }

  override render() {
    return html`${this.renderPicked()}${this.renderState()}`;
  }
}
customElements.define("vv-start-options", StartOptions);

/** The other ways in, as a list of buttons; `prominent` while nobody can chat. */
export class StartWays extends I18nElement {
  static override properties = {
    topic: { type: String },
    prominent: { type: Boolean },
  };
  declare topic: string;
  declare prominent: boolean;

  constructor() {
    super();
    this.topic = "";
    this.prominent = false;
  }

  static override styles = StartOptions.styles;

  override render() {
    const choose = (mode: StartMode) => () => this.emit("vv-choose", { mode });
    return html`<h2 id="ways-h">${tw("otherWays")}</h2>
      <ul
        class="ways ${this.prominent ? "prominent" : ""}"
        aria-labelledby="ways-h"
        data-testid="ways"
      >
        <li>
          <button type="button" data-testid="way-message" @click=${choose("message")}>
            ${tw("leaveMessage")}
          </button>
        </li>
        <li>
          <button type="button" data-testid="way-callback" @click=${choose("callback")}>
            ${tw("requestCallback")}
          </button>
        </li>
        <li>
          <a href=${`/book?${carriedParams({ topic: this.topic })}`} data-testid="way-book"
            >${tw("bookAppointment")}</a
          >
        </li>
        <li>
          <button type="button" data-testid="way-code" @click=${choose("code")}>
            ${tw("haveCode")}
          </button>
        </li>
      </ul>`;
  }
}
customElements.define("vv-start-ways", StartWays);
