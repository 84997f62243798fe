// /advisers: the adviser portal (R5.4). Advisers who chose to be listed, with photo
// (or initials), languages, topics, a short text and their live status; the customer
// picks one and starts a chat that waits for that adviser (the team takes over after
// a while). Embeddable like /chat; the widget's parameters are carried on.
import "../lib/page.css";
import "./pages.css";
import { css, html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { api, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import { Latest } from "../lib/latest";
import { initLang, lang, translator, type Strings } from "../lib/i18n";
import { base } from "../lib/styles";
import { carriedParams, initials, type PortalAdviser } from "../customer/params";
import { pageHeader, pageStyles } from "./shell";

const t = translator({
  title: ["Unsere Beraterinnen und Berater", "Our advisers"],
  intro: [
    "Wählen Sie, mit wem Sie sprechen möchten. Ist die Person gerade nicht frei, warten Sie kurz – oder eine Kollegin oder ein Kollege aus dem Team übernimmt.",
    "Choose whom you would like to talk to. If they are not free right now, wait a moment – or a colleague from the team takes over.",
  ],
  filterTopic: ["Thema", "Topic"],
  filterLanguage: ["Sprache", "Language"],
  all: ["alle", "all"],
  languages: ["Sprachen", "Languages"],
  topics: ["Themen", "Topics"],
  pick: ["Chat mit {name}", "Chat with {name}"],
  status_available: ["Verfügbar", "Available"],
  status_busy: ["Im Gespräch", "In a conversation"],
  status_away: ["Abwesend", "Away"],
  status_offline: ["Offline", "Offline"],
  none: [
    "Keine Beraterin und kein Berater passt zu Ihrer Auswahl.",
    "No adviser matches your choice.",
  ],
  empty: [
    "Zurzeit sind keine Beraterinnen oder Berater aufgeführt.",
    "No advisers are listed at the moment.",
  ],
  loading: ["Lade …", "Loading…"],
  error: ["Die Liste konnte nicht geladen werden.", "The list could not be loaded."],
  toChat: ["Zum Chat", "To the chat"],
} as const satisfies Strings);

const REFRESH_MS = 20_000;

function languageName(code: string): string {
  try {
    return new Intl.DisplayNames([lang()], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

export class AdviserPortal extends I18nElement {
  static override properties = {
    advisers: { state: true },
    topics: { state: true },
    topic: { state: true },
    language: { state: true },
    failed: { state: true },
  };
  declare advisers: PortalAdviser[] | null;
  declare topics: Topic[];
  declare topic: string;
  declare language: string;
  declare failed: boolean;

  private stream: EventSource | null = null;
  private timer = 0;
  private debounce = 0;
  private readonly loads = new Latest();

  constructor() {
    super();
    this.advisers = null;
    this.topics = [];
    const params = new URLSearchParams(location.search);
    this.topic = params.get("topic") ?? "";
    this.language = "";
    this.failed = false;
  }

  static override styles = [
    base,
    pageStyles,
    css`
      .filters {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        margin-bottom: 1rem;
      }
      .filters div {
        min-width: 12rem;
      }
      ul.grid {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
        gap: 0.9rem;
      }
      li.card {
        border: 1px solid #c9d1da;
        border-radius: 10px;
        padding: 0.9rem;
        display: flex;
        flex-direction: column;
        gap: 0.45rem;
      }
      .who {
        display: flex;
        gap: 0.7rem;
        align-items: center;
      }
      .who img,
      .who .initials {
        width: 4rem;
        height: 4rem;
        border-radius: 50%;
        object-fit: cover;
        flex: none;
      }
      .who .initials {
        display: grid;
        place-items: center;
        background: #14324f;
        color: #fff;
        font-weight: 700;
        font-size: 1.3rem;
      }
      .who h2 {
        font-size: 1.05rem;
        margin: 0;
      }
      .status {
        display: inline-flex;
        align-items: center;
        gap: 0.3rem;
        font-size: 0.85rem;
      }
      .status::before {
        content: "";
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        background: #8a94a0;
      }
      .status[data-status="available"]::before {
        background: #1e9b46;
      }
      .status[data-status="busy"]::before {
        background: #d08700;
      }
      dl {
        margin: 0;
        font-size: 0.9rem;
      }
      dt {
        font-weight: 700;
        display: inline;
      }
      dd {
        display: inline;
        margin: 0;
      }
      dd::after {
        content: "";
        display: block;
      }
      .bio {
        margin: 0;
        font-size: 0.92rem;
      }
      li.card button {
        margin-top: auto;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    void api<{ topics: Topic[] }>("GET", "/api/v1/topics").then(
      (r) => (this.topics = r.topics ?? []),
      () => undefined,
    );
    // Live status: any availability push (someone went available, took a customer…)
    // refreshes the list; a slow timer catches the rest (e.g. "away").
    this.stream = new EventSource("/api/v1/availability/stream");
    this.stream.addEventListener("availability", () => {
      window.clearTimeout(this.debounce);
      this.debounce = window.setTimeout(() => void this.load(), 300);
    });
    this.timer = window.setInterval(() => void this.load(), REFRESH_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stream?.close();
    window.clearInterval(this.timer);
    window.clearTimeout(this.debounce);
  }

  private async load(): Promise<void> {
    const current = this.loads.begin(); // the timer, a push and the first load overlap
    try {
      const r = await api<{ advisers: PortalAdviser[] }>("GET", "/api/v1/portal");
      if (!current()) return;
      this.advisers = r.advisers ?? [];
      this.failed = false;
    } catch {
      if (current()) this.failed = this.advisers === null;
    }
  }

  private topicLabel(id: string): string {
    const tp = this.topics.find((x) => x.id === id);
    return tp ? (lang() === "de" ? tp.label_de : tp.label_en) : id;
  }

  private pick(a: PortalAdviser): void {
    location.assign(`/chat?${carriedParams({ adviser: a.id, topic: this.topic })}`);
  }

  private renderCard(a: PortalAdviser) {
    return html`<li
      class="card"
      data-testid="portal-adviser"
      data-adviser-id=${a.id}
      data-status=${a.status}
    >
      <div class="who">
        ${
          a.photo_url
            ? html`<img src=${a.photo_url} alt="" data-testid="portal-photo" />`
            : html`<span class="initials" aria-hidden="true">${initials(a.name)}</span>`
        }
        <div>
          <h2>${a.name}</h2>
          <span class="status" data-status=${a.status} data-testid="portal-status"
            >${t(`status_${a.status}`)}</span
          >
        </div>
      </div>
      <dl>
        ${
          a.languages.length
            ? html`<dt>${t("languages")}:</dt>
                <dd>${a.languages.map(languageName).join(", ")}</dd>`
            : nothing
        }
        ${
          a.topics.length
            ? html`<dt>${t("topics")}:</dt>
                <dd>${a.topics.map((x) => this.topicLabel(x)).join(", ")}</dd>`
            : nothing
        }
      </dl>
      ${a.bio ? html`<p class="bio">${a.bio}</p>` : nothing}
      <button type="button" data-testid="portal-pick" @click=${() => this.pick(a)}>
        ${t("pick", { name: a.name })}
      </button>
    </li>`;
  }

  override render() {
    document.title = t("title");
    const all = this.advisers;
    const languages = [...new Set((all ?? []).flatMap((a) => a.languages))].sort();
    const shown = (all ?? []).filter(
      (a) =>
        (!this.topic || a.topics.includes(this.topic)) &&
        (!this.language || a.languages.includes(this.language)),
    );
    const statusOrder = { available: 0, busy: 1, away: 2, offline: 3 } as const;
    shown.sort(
      (x, y) => statusOrder[x.status] - statusOrder[y.status] || x.name.localeCompare(y.name),
    );
    return html`${pageHeader(t("title"), html`<a href=${`/chat?${carriedParams()}`}>${t("toChat")}</a>`)}
      <main class="page">
        <p>${t("intro")}</p>
        <div class="filters">
          <div>
            <label for="topic">${t("filterTopic")}</label>
            <select
              id="topic"
              data-testid="portal-topic"
              @change=${(e: Event) => (this.topic = (e.target as HTMLSelectElement).value)}
            >
              <option value="">${t("all")}</option>
              ${this.topics.map((tp) => html`<option value=${tp.id} ?selected=${tp.id === this.topic}>${this.topicLabel(tp.id)}</option>`)}
            </select>
          </div>
          <div>
            <label for="language">${t("filterLanguage")}</label>
            <select
              id="language"
              data-testid="portal-language"
              @change=${(e: Event) => (this.language = (e.target as HTMLSelectElement).value)}
            >
              <option value="">${t("all")}</option>
              ${languages.map((l) => html`<option value=${l} ?selected=${l === this.language}>${languageName(l)}</option>`)}
            </select>
          </div>
        </div>
        ${
          all === null
            ? html`<p class="muted" role="status">${this.failed ? t("error") : t("loading")}</p>`
            : shown.length === 0
              ? html`<p class="muted">${all.length === 0 ? t("empty") : t("none")}</p>`
              : html`<ul class="grid" aria-labelledby="page-title" data-testid="portal-list">
                  ${repeat(
                    shown,
                    (a) => a.id,
                    (a) => this.renderCard(a),
                  )}
                </ul>`
        }
      </main>`;
  }
}
customElements.define("vv-adviser-portal", AdviserPortal);
initLang();
