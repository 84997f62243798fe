// <vv-form-templates>: the admin's form templates in the console: the list (newest
// version of each), uploading a template file (a changed one becomes a new version;
// the server names every problem of a refused one), and removing. Loaded as its own
// chunk when the admin opens the view.
import { html, nothing } from "lit";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import type { FormTemplateInfo } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { tf } from "./strings";

export class VvFormTemplates extends I18nElement {
  static override properties = {
    csrf: { type: String },
    templates: { state: true },
    message: { state: true },
    problem: { state: true },
  };
  declare csrf: string;
  declare templates: FormTemplateInfo[] | null;
  declare message: string;
  /** The server's refusal of an upload, shown in full (it names every problem). */
  declare problem: string;

  constructor() {
    super();
    this.csrf = "";
    this.templates = null;
    this.message = "";
    this.problem = "";
  }

  static override styles = [base];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const got = await api<{ templates: FormTemplateInfo[] }>("GET", "/api/v1/form-templates");
      this.templates = got.templates;
    } catch (err) {
      this.problem = errorText(err instanceof ApiError ? err.code : "network");
      this.templates = [];
    }
  }

  private async upload(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    this.message = "";
    this.problem = "";
    let res: Response;
    try {
      res = await fetch("/api/v1/form-templates", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf },
        body: await file.text(),
      });
    } catch {
      this.problem = errorText("network");
      return;
    }
    const data = (await res.json().catch(() => null)) as {
      template?: FormTemplateInfo;
      created?: boolean;
      error?: { code: string; message: string };
    } | null;
    if (!res.ok || !data?.template) {
      const err = data?.error;
      // the server's message names each problem with its path in the file
      this.problem =
        err?.code === "template_invalid" ? err.message : errorText(err?.code ?? "network");
      return;
    }
    const t = data.template;
    this.message = tf(data.created ? "uploaded" : "unchanged", {
      title: t.title[lang()],
      version: t.version,
    });
    await this.load();
  }

  private async removeTemplate(t: FormTemplateInfo): Promise<void> {
    try {
      await api("DELETE", `/api/v1/form-templates/${encodeURIComponent(t.id)}`, undefined, {
        "X-CSRF-Token": this.csrf,
      });
      this.message = tf("removed", { id: t.id });
      this.problem = "";
      await this.load();
    } catch (err) {
      this.problem = errorText(err instanceof ApiError ? err.code : "network");
    }
  }

  override render() {
    const list = this.templates;
    return html`<section aria-labelledby="ft-h" data-testid="form-templates">
      <h2 id="ft-h">${tf("templatesTitle")}</h2>
      <p class="muted">${tf("templatesIntro")}</p>
      <label for="ft-file">${tf("upload")}</label>
      <input
        id="ft-file"
        type="file"
        accept="application/json,.json"
        data-testid="form-template-file"
        @change=${this.upload}
      />
      <p role="status" data-testid="form-templates-message">${this.message}</p>
      ${this.problem ? html`<p class="status-line" role="alert" data-testid="form-templates-problem">${this.problem}</p>` : nothing}
      ${
        list === null
          ? html`<p class="muted">${tf("loading")}</p>`
          : html`<ul>
              ${list.map(
                (t) =>
                  html`<li data-testid="form-template" data-id=${t.id}>
                    <strong>${t.title[lang()]}</strong> <code>${t.id}</code>
                    <span class="muted"
                      >${tf("version", { version: t.version, fields: t.fields })}</span
                    >
                    <button
                      type="button"
                      class="danger"
                      aria-label=${tf("removeLabel", { title: t.title[lang()] })}
                      @click=${() => this.removeTemplate(t)}
                    >
                      ${tf("remove")}
                    </button>
                  </li>`,
              )}
            </ul>`
      }
    </section>`;
  }
}
customElements.define("vv-form-templates", VvFormTemplates);
