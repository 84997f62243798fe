// During a consultative transfer (R4.3): who is with whom, complete / cancel / leave,
// and the internal-note composer (notes are `note.internal` events, which the server
// never sends to a customer socket). Notes look unlike chat messages everywhere.
import { css, html, nothing, svg } from "lit";
import { I18nElement } from "../lib/base";
import { errorText } from "../lib/i18n";
import { myPart } from "../lib/model/reduce";
import type { ConversationSummary } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { newClientId, type VisavisClient } from "../lib/ws";
import { tw } from "./ways-strings";

/** A small padlock: internal, not for the customer. */
export const lockIcon = html`<svg class="lock" viewBox="0 0 16 16" aria-hidden="true">
  ${svg`<rect x="3" y="7" width="10" height="7" rx="1.5"/><path d="M5.5 7V5a2.5 2.5 0 0 1 5 0v2"/>`}
</svg>`;

export const noteStyles = css`
  .lock {
    width: 0.95rem;
    height: 0.95rem;
    fill: none;
    stroke: currentColor;
    stroke-width: 1.6;
  }
  .note-box {
    border: 2px dashed #b07d00;
    background: #fff8e1;
    border-radius: 8px;
  }
  .note-label {
    display: inline-flex;
    align-items: center;
    gap: 0.3rem;
    font-size: 0.78rem;
    font-weight: 700;
    color: #6b4a00;
    text-transform: none;
  }
`;

export class ConsultBar extends I18nElement {
  static override properties = {
    summary: { attribute: false },
    meId: { type: String },
    client: { attribute: false },
    noteOpen: { state: true },
    busy: { state: true },
    notice: { state: true },
  };
  declare summary: ConversationSummary | null;
  declare meId: string;
  declare client: VisavisClient | null;
  declare noteOpen: boolean;
  declare busy: boolean;
  declare notice: string;

  constructor() {
    super();
    this.summary = null;
    this.meId = "";
    this.client = null;
    this.noteOpen = false;
    this.busy = false;
    this.notice = "";
  }

  static override styles = [
    base,
    noteStyles,
    css`
      :host {
        display: block;
      }
      .banner {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
        margin: 0;
        padding: 0.45rem 0.75rem;
        background: #fff3cd;
        border-bottom: 1px solid #ecd9a0;
      }
      .banner span {
        flex: 1;
        min-width: 12rem;
        font-weight: 600;
      }
      form.note-box {
        margin: 0.4rem 0.5rem;
        padding: 0.4rem 0.5rem;
      }
      textarea {
        min-height: 2.6rem;
        resize: vertical;
        background: #fffdf5;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.3rem;
        flex-wrap: wrap;
      }
      .row .status-line {
        flex: 1;
        font-size: 0.85rem;
      }
      button.note {
        background: #8a6200;
        border-color: #8a6200;
      }
      button.note:hover:not(:disabled) {
        background: #6b4a00;
      }
      .toggle {
        margin: 0.3rem 0.5rem 0;
        background: #fff;
        color: #6b4a00;
        border-color: #b07d00;
        min-height: 2rem;
        padding: 0.2rem 0.6rem;
        font-size: 0.85rem;
      }
      .toggle:hover:not(:disabled) {
        background: #fff8e1;
      }
    `,
  ];

  private async finish(complete: boolean): Promise<void> {
    const s = this.summary;
    if (!s || !this.client || this.busy) return;
    this.busy = true;
    const a = await this.client.request({
      type: "transfer.finish",
      conversation_id: s.id,
      complete,
    });
    this.busy = false;
    this.notice =
      a.type === "error"
        ? errorText(a.code === "disconnected" || a.code === "timeout" ? "network" : a.code)
        : "";
  }

  private async sendNote(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const s = this.summary;
    const form = e.target as HTMLFormElement;
    const area = form.querySelector("textarea");
    const text = (area?.value ?? "").trim();
    if (!s || !this.client || !text || this.busy) return;
    this.busy = true;
    const a = await this.client.request({
      type: "note.send",
      conversation_id: s.id,
      client_id: newClientId(),
      text: text.slice(0, 4000),
    });
    this.busy = false;
    if (a.type === "error") {
      this.notice = errorText(
        a.code === "disconnected" || a.code === "timeout" ? "network" : a.code,
      );
      return;
    }
    this.notice = "";
    if (area) {
      area.value = "";
      area.focus();
    }
  }

  private onNoteKey(e: KeyboardEvent): void {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      (e.target as HTMLTextAreaElement).form?.requestSubmit();
    }
  }

  override render() {
    const s = this.summary;
    if (!s || s.status !== "active") return nothing;
    const part = myPart(s, this.meId);
    if (part === "none") return nothing;
    const consulting = !!s.consultant;
    const banner = consulting
      ? html`<p class="banner" role="status" data-testid="consult-banner" data-part=${part}>
          <span>
            ${
              part === "adviser"
                ? tw("consultingWith", { name: s.consultant?.name ?? "" })
                : tw("consultingFor", { name: s.adviser?.name ?? "" })
            }
          </span>
          ${
            part === "adviser"
              ? html`<button
                    type="button"
                    data-testid="transfer-complete"
                    ?disabled=${this.busy}
                    @click=${() => this.finish(true)}
                  >
                    ${tw("completeTransfer")}
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    data-testid="transfer-cancel"
                    ?disabled=${this.busy}
                    @click=${() => this.finish(false)}
                  >
                    ${tw("cancelTransfer")}
                  </button>`
              : html`<button
                  type="button"
                  class="secondary"
                  data-testid="consult-leave"
                  ?disabled=${this.busy}
                  @click=${() => this.finish(false)}
                >
                  ${tw("leaveConsult")}
                </button>`
          }
        </p>`
      : nothing;
    // Notes matter while a colleague is in the conversation; otherwise on demand.
    const showNote = consulting || this.noteOpen;
    return html`${banner}
    ${
      showNote
        ? html`<form class="note-box" @submit=${this.sendNote} data-testid="note-form">
            <label class="note-label" for="note">${lockIcon} ${tw("noteLabel")}</label>
            <textarea
              id="note"
              maxlength="4000"
              placeholder=${tw("notePlaceholder")}
              data-testid="note-input"
              @keydown=${this.onNoteKey}
            ></textarea>
            <div class="row">
              <span class="status-line" role="alert">${this.notice}</span>
              <button type="submit" class="note" data-testid="note-send" ?disabled=${this.busy}>
                ${tw("noteSend")}
              </button>
            </div>
          </form>`
        : html`<button
            type="button"
            class="toggle"
            data-testid="note-toggle"
            aria-expanded="false"
            @click=${() => (this.noteOpen = true)}
          >
            ${lockIcon} ${tw("noteToggle")}
          </button>`
    }`;
  }
}
customElements.define("vv-consult-bar", ConsultBar);
