// Offers (R4.3: "if an adviser does not answer an offered conversation within a
// configurable time, it is offered to the next one"): the server offers a waiting
// customer to one suitable adviser at a time; the console shows it with a countdown,
// Accept (conversation.accept) and Decline (offer.decline).
import { css, html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { I18nElement } from "../lib/base";
import { lang, translator, type Strings } from "../lib/i18n";
import type { ConversationOfferedMsg } from "../lib/protocol.gen";
import { base } from "../lib/styles";

const t = translator({
  offered: ["{name} wartet – für Sie vorgesehen", "{name} is waiting – offered to you"],
  left: ["noch {s} s", "{s} s left"],
  accept: ["Annehmen", "Accept"],
  decline: ["Ablehnen", "Decline"],
  acceptLabel: ["Gespräch mit {name} annehmen", "Accept conversation with {name}"],
  declineLabel: ["Angebot für {name} ablehnen", "Decline the offer for {name}"],
} as const satisfies Strings);

export interface Offer extends ConversationOfferedMsg {
  /** Date.now() when it expires. */
  until: number;
}

export class OfferList extends I18nElement {
  static override properties = {
    offers: { attribute: false },
    topicLabel: { attribute: false },
    now: { type: Number },
  };
  declare offers: Offer[];
  declare topicLabel: (id: string | null) => string;
  declare now: number;

  constructor() {
    super();
    this.offers = [];
    this.topicLabel = (id) => id ?? "";
    this.now = Date.now();
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.4rem 0.75rem;
        padding: 0.45rem 0.9rem;
        background: #e6f4ea;
        border-bottom: 1px solid #b9d9c0;
      }
      .what {
        flex: 1;
        min-width: 12rem;
      }
      .what strong {
        display: block;
      }
      .preview {
        font-size: 0.88rem;
      }
      .left {
        font-variant-numeric: tabular-nums;
        font-weight: 600;
      }
    `,
  ];

  override render() {
    if (this.offers.length === 0) return nothing;
    const guest = lang() === "de" ? "Gast" : "Guest";
    return html`<ul aria-live="polite">
      ${repeat(
        this.offers,
        (o) => o.conversation_id,
        (o) => {
          const name = o.customer_name || guest;
          const left = Math.max(0, Math.ceil((o.until - this.now) / 1000));
          return html`<li data-testid="offer" data-conversation-id=${o.conversation_id}>
            <span class="what">
              <strong>${t("offered", { name })}</strong>
              <span class="muted preview"
                >${[this.topicLabel(o.topic), o.preview].filter(Boolean).join(" · ")}</span
              >
            </span>
            <span class="left" role="timer" aria-live="off">${t("left", { s: left })}</span>
            <button
              type="button"
              data-testid="offer-accept"
              aria-label=${t("acceptLabel", { name })}
              @click=${() => this.emit("vv-offer-accept", o)}
            >
              ${t("accept")}
            </button>
            <button
              type="button"
              class="secondary"
              data-testid="offer-decline"
              aria-label=${t("declineLabel", { name })}
              @click=${() => this.emit("vv-offer-decline", o)}
            >
              ${t("decline")}
            </button>
          </li>`;
        },
      )}
    </ul>`;
  }
}
customElements.define("vv-offers", OfferList);
