// The offline queue (R5.2): messages and call-back requests left while nobody was
// available or the team was closed. Taking one makes it an ordinary conversation of
// the adviser (conversation.accept); the customer is answered by e-mail or phone.
import { css, html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { I18nElement } from "../lib/base";
import { lang } from "../lib/i18n";
import type { QueueEntry } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { tw } from "./ways-strings";

const anonymous = () => (lang() === "de" ? "Gast" : "Guest");

export function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const today = d.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", {
    ...(today ? {} : { day: "numeric", month: "short" }),
    hour: "2-digit",
    minute: "2-digit",
  }).format(d);
}

export class OfflineQueue extends I18nElement {
  static override properties = {
    entries: { attribute: false },
    topicLabel: { attribute: false },
  };
  declare entries: QueueEntry[];
  declare topicLabel: (id: string | null) => string;

  constructor() {
    super();
    this.entries = [];
    this.topicLabel = (id) => id ?? "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      h2 {
        font-size: 0.95rem;
        margin: 0.25rem 0 0.5rem;
      }
      ul {
        list-style: none;
        margin: 0 0 1rem;
        padding: 0;
      }
      li {
        background: #fff;
        border: 1px solid #c9d1da;
        border-left: 4px solid #8a94a0;
        border-radius: 8px;
        padding: 0.5rem 0.6rem;
        margin-bottom: 0.45rem;
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.15rem 0.5rem;
        align-items: center;
      }
      li.empty {
        display: block;
        border-left-color: #c9d1da;
      }
      li[data-kind="callback"] {
        border-left-color: #1e7b34;
      }
      li[data-kind="message"] {
        border-left-color: #0b57a4;
      }
      .name {
        font-weight: 700;
      }
      .kind {
        font-size: 0.78rem;
        font-weight: 700;
        text-transform: uppercase;
        letter-spacing: 0.03em;
      }
      .contact {
        grid-column: 1 / -1;
        font-variant-numeric: tabular-nums;
        overflow-wrap: anywhere;
      }
      .preview {
        grid-column: 1 / -1;
        font-size: 0.88rem;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        max-height: 4.2em;
        overflow: hidden;
      }
      .meta {
        grid-column: 1 / -1;
        font-size: 0.8rem;
      }
    `,
  ];

  override render() {
    const list = this.entries;
    return html`<h2 id="offline-h">${tw("offlineQueue")} (${list.length})</h2>
      <ul data-testid="offline-list" aria-labelledby="offline-h">
        ${list.length === 0 ? html`<li class="muted empty">${tw("offlineEmpty")}</li>` : nothing}
        ${repeat(
          list,
          (e) => e.conversation_id,
          (e) => {
            const name = e.customer_name || anonymous();
            const kind = tw(e.kind === "callback" ? "kind_callback" : "kind_message");
            const href =
              e.kind === "callback" || !(e.contact ?? "").includes("@")
                ? `tel:${(e.contact ?? "").replace(/[^0-9+]/g, "")}`
                : `mailto:${e.contact}`;
            return html`<li
              data-testid="offline-entry"
              data-conversation-id=${e.conversation_id}
              data-kind=${e.kind ?? "message"}
            >
              <span><span class="kind">${kind}</span> · <span class="name">${name}</span></span>
              <button
                type="button"
                data-testid="offline-take"
                aria-label=${tw("takeLabel", { kind, name })}
                @click=${() => this.emit("vv-take", e)}
              >
                ${tw("take")}
              </button>
              ${e.contact ? html`<span class="contact">${tw("contact")}: <a href=${href} data-testid="offline-contact">${e.contact}</a></span>` : nothing}
              ${e.preview ? html`<span class="preview">${e.preview}</span>` : nothing}
              <span class="meta muted"
                >${this.topicLabel(e.topic) || ""}
                ${tw("leftAt", { time: shortTime(e.queued_at) })}</span
              >
            </li>`;
          },
        )}
      </ul>`;
  }
}
customElements.define("vv-offline-queue", OfflineQueue);
