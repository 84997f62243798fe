// "Transfer" (R4.3): hand the customer to a colleague (consultative: they join first
// and the two can exchange internal notes; or blind) or to a team's queue (blind).
import { html, nothing } from "lit";
import { createRef, ref } from "lit/directives/ref.js";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText } from "../lib/i18n";
import { base } from "../lib/styles";
import type { AdviserState } from "../lib/protocol.gen";
import type { VisavisClient } from "../lib/ws";
import { dialogStyles } from "./dialog-styles";
import { tw } from "./ways-strings";
import { fieldText } from "../lib/form";

/** A colleague as `GET /api/v1/advisers` lists them (the overview's shape). */
export type Colleague = AdviserState;

export interface TeamInfo {
  id: string;
  name: string;
  topics: string[];
  languages: string[];
  timezone: string;
  open: boolean;
  next_opening: string | null;
}

export class TransferDialog extends I18nElement {
  static override properties = {
    client: { attribute: false },
    conversationId: { type: String },
    meId: { type: String },
    colleagues: { state: true },
    teams: { state: true },
    target: { state: true },
    busy: { state: true },
    notice: { state: true },
  };
  declare client: VisavisClient | null;
  declare conversationId: string;
  declare meId: string;
  declare colleagues: Colleague[];
  declare teams: TeamInfo[];
  declare target: "adviser" | "team";
  declare busy: boolean;
  declare notice: { code: string; text: string } | null;

  private readonly dialog = createRef<HTMLDialogElement>();

  constructor() {
    super();
    this.client = null;
    this.conversationId = "";
    this.meId = "";
    this.colleagues = [];
    this.teams = [];
    this.target = "adviser";
    this.busy = false;
    this.notice = null;
  }

  static override styles = [base, dialogStyles];

  open(): void {
    this.notice = null;
    this.target = "adviser";
    this.dialog.value?.showModal();
    void this.load();
  }

  close(): void {
    this.dialog.value?.close();
  }

  private async load(): Promise<void> {
    try {
      const [a, t] = await Promise.all([
        api<{ advisers: Colleague[] }>("GET", "/api/v1/advisers"),
        api<{ teams: TeamInfo[] }>("GET", "/api/v1/teams"),
      ]);
      const order = { available: 0, away: 1, offline: 2 } as const;
      this.colleagues = (a.advisers ?? [])
        .filter((c) => c.id !== this.meId)
        .sort((x, y) => order[x.status] - order[y.status] || x.name.localeCompare(y.name));
      this.teams = t.teams ?? [];
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      this.notice = { code, text: errorText(code) };
    }
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>("#tr-colleague")?.focus(),
    );
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy || !this.client) return;
    const data = new FormData(e.target as HTMLFormElement);
    const to = fieldText(data, this.target === "team" ? "team" : "colleague");
    const mode: "blind" | "consultative" =
      this.target === "team" || data.get("mode") === "blind" ? "blind" : "consultative";
    if (!to) {
      this.notice = { code: "bad_request", text: errorText("bad_request") };
      return;
    }
    const frame = {
      type: "transfer.start" as const,
      conversation_id: this.conversationId,
      mode,
      ...(this.target === "team" ? { to_team_id: to } : { to_adviser_id: to }),
    };
    this.busy = true;
    this.notice = null;
    const answer = await this.client.request(frame);
    this.busy = false;
    if (answer.type === "error") {
      const code =
        answer.code === "disconnected" || answer.code === "timeout" ? "network" : answer.code;
      this.notice = { code: answer.code, text: errorText(code) };
      return;
    }
    this.emit("vv-transferred", { mode: frame.mode, target: this.target });
    this.close();
  }

  override render() {
    const team = this.target === "team";
    return html`<dialog ${ref(this.dialog)} aria-labelledby="tr-h" data-testid="transfer-dialog">
      <h2 id="tr-h">${tw("transferTitle")}</h2>
      <form @submit=${this.submit}>
        <fieldset>
          <legend>${tw("transferTo")}</legend>
          <label
            ><input
              type="radio"
              name="target"
              value="adviser"
              data-testid="transfer-target-adviser"
              .checked=${!team}
              @change=${() => (this.target = "adviser")}
            />
            ${tw("toColleague")}</label
          >
          <label
            ><input
              type="radio"
              name="target"
              value="team"
              data-testid="transfer-target-team"
              .checked=${team}
              @change=${() => (this.target = "team")}
            />
            ${tw("toTeam")}</label
          >
        </fieldset>
        ${
          team
            ? html`<div class="field">
                  <label for="tr-team">${tw("team")}</label>
                  <select id="tr-team" name="team" required data-testid="transfer-team">
                    ${this.teams.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
                  </select>
                </div>
                <p class="muted">${tw("teamBlindOnly")}</p>`
            : html`<div class="field">
                  <label for="tr-colleague">${tw("colleague")}</label>
                  <select
                    id="tr-colleague"
                    name="colleague"
                    required
                    data-testid="transfer-colleague"
                  >
                    <option value="">${tw("chooseColleague")}</option>
                    ${this.colleagues.map(
                      (c) =>
                        html`<option value=${c.id} data-name=${c.name}>
                          ${tw("colleagueLine", { name: c.name, status: tw(`status_${c.status}`), active: c.active, max: c.max_chats })}
                        </option>`,
                    )}
                  </select>
                  ${this.colleagues.length === 0 ? html`<p class="muted">${tw("noColleagues")}</p>` : nothing}
                </div>
                <fieldset>
                  <legend>${tw("mode")}</legend>
                  <label
                    ><input
                      type="radio"
                      name="mode"
                      value="consultative"
                      checked
                      data-testid="transfer-mode-consultative"
                    />
                    ${tw("modeConsultative")}</label
                  >
                  <label
                    ><input
                      type="radio"
                      name="mode"
                      value="blind"
                      data-testid="transfer-mode-blind"
                    />
                    ${tw("modeBlind")}</label
                  >
                </fieldset>`
        }
        ${this.notice ? html`<p class="status-line" role="alert" data-testid="transfer-error" data-code=${this.notice.code}>${this.notice.text}</p>` : nothing}
        <div class="row">
          <button type="submit" data-testid="transfer-go" ?disabled=${this.busy}>
            ${this.busy ? tw("transferring") : tw("transferGo")}
          </button>
          <button type="button" class="secondary" @click=${this.close}>${tw("cancel")}</button>
        </div>
      </form>
    </dialog>`;
  }
}
customElements.define("vv-transfer-dialog", TransferDialog);
