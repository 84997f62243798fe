// The console's header: who is signed in, presence (available/away, set here),
// load, connection, language, logout. Setting the status is answered by
// `vv-answer` (an Answer: the app shows errors).
import { html, nothing } from "lit";
import type { AdviserInfo } from "../lib/protocol.gen";
import { I18nElement } from "../lib/base";
import "../lib/conn-status";
import "../lib/lang-toggle";
import { base } from "../lib/styles";
import type { Answer, ConnState, VisavisClient } from "../lib/ws";
import { t } from "./strings";
import { topBarStyles } from "./styles";

export interface Presence {
  status: "available" | "away" | "offline";
  active: number;
  max_chats: number;
}

export class TopBar extends I18nElement {
  static override properties = {
    me: { attribute: false },
    presence: { attribute: false },
    conn: { type: String },
    client: { attribute: false },
  };
  declare me: AdviserInfo | null;
  declare presence: Presence;
  declare conn: ConnState;
  declare client: VisavisClient | null;

  constructor() {
    super();
    this.me = null;
    this.presence = { status: "offline", active: 0, max_chats: 0 };
    this.conn = "idle";
    this.client = null;
  }

  static override styles = [base, topBarStyles];

  private async setStatus(e: Event): Promise<void> {
    const select = e.target as HTMLSelectElement;
    const value = select.value;
    if (value !== "available" && value !== "away") return;
    const a: Answer = this.client
      ? await this.client.request({ type: "status.set", status: value })
      : { v: 1, type: "error", code: "disconnected", message: "not connected" };
    this.emit("vv-answer", a);
    if (a.type === "ack") return; // adviser.status follows and updates `presence`
    // Refused or not sent: the control must not claim a status the server does not
    // have (customers would be told someone is there, or not). Lit only writes
    // `.value` when `presence` changes, so put it back by hand.
    select.value = this.presence.status;
  }

  override render() {
    const me = this.me;
    const p = this.presence;
    return html`<header class="top">
      <h1>${t("appTitle")}</h1>
      ${
        me
          ? html`<span>${me.name}</span>
              <span>
                <label for="status">${t("statusLabel")}</label>
                <select
                  id="status"
                  data-testid="status-toggle"
                  data-status=${p.status}
                  .value=${p.status}
                  @change=${this.setStatus}
                >
                  <option value="available" ?selected=${p.status === "available"}>
                    ${t("status_available")}
                  </option>
                  <option value="away" ?selected=${p.status === "away"}>${t("status_away")}</option>
                  ${p.status === "offline" ? html`<option value="offline" disabled selected>${t("status_offline")}</option>` : nothing}
                </select>
              </span>
              <span
                class="load"
                data-testid="adviser-load"
                title=${t("loadLabel", { active: p.active, max: p.max_chats })}
              >
                ${t("load", { active: p.active, max: p.max_chats })}
              </span>
              <vv-conn-status .state=${this.conn}></vv-conn-status>`
          : nothing
      }
      <vv-lang-toggle></vv-lang-toggle>
      ${me ? html`<button type="button" class="secondary" data-testid="logout" @click=${() => this.emit("vv-logout")}>${t("logout")}</button>` : nothing}
    </header>`;
  }
}
customElements.define("vv-top-bar", TopBar);
