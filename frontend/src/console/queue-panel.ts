// The queue in the console's side column: waiting customers, oldest first, with how
// long they have waited (ticking), one "Accept" each and "Accept next".
import { html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { I18nElement } from "../lib/base";
import { languageName } from "../lib/i18n";
import type { QueueEntry } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { t } from "./strings";
import { queueStyles } from "./styles";

export function formatWait(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export class QueuePanel extends I18nElement {
  static override properties = {
    queue: { attribute: false },
    advisersAvailable: { type: Number },
    now: { type: Number },
    topicLabel: { attribute: false },
  };
  declare queue: QueueEntry[];
  declare advisersAvailable: number;
  declare now: number;
  declare topicLabel: (id: string | null) => string;

  constructor() {
    super();
    this.queue = [];
    this.advisersAvailable = 0;
    this.now = Date.now();
    this.topicLabel = (id) => id ?? "";
  }

  static override styles = [base, queueStyles];

  override render() {
    return html`<h2 id="queue-h">
        <span>${t("queue")} (${this.queue.length})</span>
        <button
          type="button"
          data-testid="accept-next"
          ?disabled=${this.queue.length === 0}
          @click=${() => this.emit("vv-accept-next")}
        >
          ${t("acceptNext")}
        </button>
      </h2>
      <p class="muted">${t("advisersAvailable", { n: this.advisersAvailable })}</p>
      <ul data-testid="queue-list" aria-labelledby="queue-h">
        ${this.queue.length === 0 ? html`<li class="muted">${t("queueEmpty")}</li>` : nothing}
        ${repeat(
          this.queue,
          (e) => e.conversation_id,
          (e) => {
            const name = e.customer_name || t("anonymous");
            const waited = formatWait(this.now - Date.parse(e.queued_at));
            return html`<li
              class="entry"
              data-testid="queue-entry"
              data-conversation-id=${e.conversation_id}
            >
              <span class="name">${name}</span>
              <button
                type="button"
                data-testid="accept"
                aria-label=${t("acceptLabel", { name })}
                @click=${() => this.emit("vv-accept", e)}
              >
                ${t("accept")}
              </button>
              <span class="muted"
                >${this.topicLabel(e.topic) || t("noTopic")}${e.language ? ` · ${languageName(e.language)}` : ""}</span
              >
              <span class="wait" data-testid="queue-wait"
                >${t("waitingFor", { time: waited })}</span
              >
              ${e.preview ? html`<span class="preview muted">${e.preview}</span>` : nothing}
            </li>`;
          },
        )}
      </ul>`;
  }
}
customElements.define("vv-queue-panel", QueuePanel);
