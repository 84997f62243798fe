// "My chats" in the console's side column: one tab per conversation with its unread
// count, status, typing, consultation and call state; a click selects it (`vv-select`).
import { html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { I18nElement } from "../lib/base";
import type { Phase } from "../lib/call";
import { callKind } from "../lib/call-strings";
import type { Conversation } from "../lib/model/reduce";
import type { CallSummary } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { t } from "./strings";
import { listStyles } from "./styles";
import { tw } from "./ways-strings";

export interface ChatTab {
  conv: Conversation;
  unread: number;
  /** The call manager's phase ("idle" without one) and the call's media. */
  callPhase: Phase;
  callMedia: CallSummary["media"] | undefined;
}

export class ConversationList extends I18nElement {
  static override properties = {
    tabs: { attribute: false },
    current: { type: String },
    active: { type: Boolean },
    topicLabel: { attribute: false },
  };
  declare tabs: ChatTab[];
  /** The selected conversation… */
  declare current: string;
  /** … which is on screen while the chats view is. */
  declare active: boolean;
  declare topicLabel: (id: string | null) => string;

  constructor() {
    super();
    this.tabs = [];
    this.current = "";
    this.active = false;
    this.topicLabel = (id) => id ?? "";
  }

  static override styles = [base, listStyles];

  private callNote(tab: ChatTab) {
    const p = tab.callPhase;
    if (p === "idle") return nothing;
    const kind = callKind(tab.callMedia);
    return html` ·
      <span class="call-state" data-testid="tab-call" data-phase=${p}
        >${p === "active" ? kind : `${kind} …`}</span
      >`;
  }

  private renderTab(tab: ChatTab) {
    const { conv, unread: n } = tab;
    const s = conv.summary;
    const id = s.id;
    const status =
      s.status === "ended"
        ? t("statusEnded")
        : s.status === "queued"
          ? t("statusQueued")
          : t("statusActive");
    return html`<li>
      <button
        type="button"
        class="tab"
        data-testid="conversation-tab"
        data-conversation-id=${id}
        aria-current=${this.current === id && this.active ? "true" : "false"}
        @click=${() => this.emit("vv-select", id)}
      >
        <span class="name">${s.customer_name || t("anonymous")}</span>
        <span
          class="badge"
          data-testid="unread-count"
          aria-label=${t("unread", { n })}
          ?hidden=${n === 0}
          >${n}</span
        >
        <span class="sub muted">
          ${this.topicLabel(s.topic) || t("noTopic")} ·
          ${status}${conv.typing ? html` · <em>${t("typingShort")}</em>` : nothing}
          ${s.consultant && !conv.gone ? html` · <span class="consult">${tw("consultTab")}</span>` : nothing}
          ${this.callNote(tab)}
        </span>
      </button>
    </li>`;
  }

  override render() {
    return html`<h2 id="mine-h">${t("myChats")}</h2>
      ${this.tabs.length === 0 ? html`<p class="muted">${t("noChats")}</p>` : nothing}
      <ul aria-labelledby="mine-h">
        ${repeat(
          this.tabs,
          (tab) => tab.conv.summary.id,
          (tab) => this.renderTab(tab),
        )}
      </ul>`;
  }
}
customElements.define("vv-conversation-list", ConversationList);
