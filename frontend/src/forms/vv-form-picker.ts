// <vv-form-picker>: the adviser chooses a template, may fill in fields beforehand
// (<vv-form> in its draft mode) and opens it in the conversation (`form.open` with
// those values as prefill). Says `vv-form-close` when done or given up.
import { html, nothing } from "lit";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import type { FormTemplate, FormTemplateInfo } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { VisavisClient } from "../lib/ws";
import { tf } from "./strings";
import { formStyles } from "./styles";
import type { FormOpenDetail } from "./vv-form";

export class VvFormPicker extends I18nElement {
  static override properties = {
    client: { attribute: false },
    conversationId: { type: String },
    templates: { state: true },
    template: { state: true },
    message: { state: true },
  };
  declare client: VisavisClient | null;
  declare conversationId: string;
  declare templates: FormTemplateInfo[] | null;
  declare template: FormTemplate | null;
  declare message: string;

  constructor() {
    super();
    this.client = null;
    this.conversationId = "";
    this.templates = null;
    this.template = null;
    this.message = "";
  }

  static override styles = [base, formStyles];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.templates = (
        await api<{ templates: FormTemplateInfo[] }>("GET", "/api/v1/form-templates")
      ).templates;
    } catch (err) {
      this.message = errorText(err instanceof ApiError ? err.code : "network");
      this.templates = [];
    }
  }

  private async pick(id: string): Promise<void> {
    this.template = null;
    if (!id) return;
    try {
      const path = `/api/v1/form-templates/${encodeURIComponent(id)}`;
      this.template = (await api<{ template: FormTemplate }>("GET", path)).template;
    } catch (err) {
      this.message = errorText(err instanceof ApiError ? err.code : "network");
    }
  }

  private async open(e: CustomEvent<FormOpenDetail>): Promise<void> {
    e.stopPropagation();
    if (!this.client) return;
    const answer = await this.client.request({
      type: "form.open",
      conversation_id: this.conversationId,
      template_id: e.detail.template_id,
      prefill: e.detail.prefill,
    });
    if (answer.type === "error") this.message = errorText(answer.code);
    else this.emit("vv-form-close");
  }

  override render() {
    const list = this.templates;
    if (list === null) return html`<p class="muted">${tf("loading")}</p>`;
    return html`<div class="form" data-testid="form-picker">
      ${
        list.length === 0
          ? html`<p>${tf("noTemplates")}</p>`
          : html`<label for="vvf-pick">${tf("pickTemplate")}</label>
              <select
                id="vvf-pick"
                data-testid="form-template"
                @change=${(e: Event) => this.pick((e.target as HTMLSelectElement).value)}
              >
                <option value="">${tf("choose")}</option>
                ${list.map((t) => html`<option value=${t.id}>${t.title[lang()]}</option>`)}
              </select>`
      }
      <p class="status-line" role="alert">${this.message}</p>
      ${
        this.template
          ? html`<vv-form
              .template=${this.template}
              side="adviser"
              @vv-form-open=${this.open}
            ></vv-form>`
          : html`<div class="actions">
              <button type="button" class="secondary" @click=${() => this.emit("vv-form-close")}>
                ${tf("close")}
              </button>
            </div>`
      }
      ${nothing}
    </div>`;
  }
}
customElements.define("vv-form-picker", VvFormPicker);
