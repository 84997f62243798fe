// Files on their way into the conversation: each with its progress (bytes sent, then
// "checking" while the server looks at it), a way to cancel, and a refusal in the
// customer's words. `send()` resolves with the id of the last document shared.
import { css, html, nothing } from "lit";
import { ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { base } from "../lib/styles";
import { newClientId, type VisavisClient } from "../lib/ws";
import { authHeaders, uploadDocument, type Role, type Upload } from "./doc-http";
import { refusalText, td } from "./doc-strings";

interface Row {
  key: string;
  name: string;
  sent: number;
  total: number;
  error: string;
  upload: Upload | null;
}

export class DocUploads extends I18nElement {
  static override properties = {
    client: { attribute: false },
    conversationId: { type: String },
    side: { type: String },
    rows: { state: true },
  };
  declare client: VisavisClient | null;
  declare conversationId: string;
  declare side: Role;
  declare rows: readonly Row[];

  constructor() {
    super();
    this.client = null;
    this.conversationId = "";
    this.side = "customer";
    this.rows = [];
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      p {
        margin: 0.2rem 0;
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      progress {
        width: 10rem;
      }
      p.error {
        color: var(--vv-danger, #a4161a);
      }
    `,
  ];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const r of this.rows) r.upload?.abort();
  }

  /** Upload these files one after the other; the id of the last one shared (or null). */
  async send(
    files: readonly Blob[],
    source: "upload" | "snapshot",
    name?: string,
  ): Promise<string | null> {
    let shared: string | null = null;
    for (const file of files) {
      const fileName = name ?? (file instanceof File && file.name ? file.name : "document");
      const row: Row = {
        key: newClientId(),
        name: fileName,
        sent: 0,
        total: file.size,
        error: "",
        upload: null,
      };
      const set = (patch: Partial<Row>): void => {
        this.rows = this.rows.map((u) => (u.key === row.key ? { ...u, ...patch } : u));
      };
      this.rows = [...this.rows, row];
      try {
        const up = uploadDocument({
          conversationId: this.conversationId,
          file,
          name: fileName,
          source,
          headers: await authHeaders(this.client, this.side),
          onProgress: (sent, total) => set({ sent, total }),
        });
        set({ upload: up });
        shared = (await up.done).document_id;
        this.drop(row.key);
      } catch (err) {
        const code = err instanceof ApiError ? err.code : "network";
        if (code === "aborted") this.drop(row.key);
        else
          set({
            error: td("uploadFailed", { name: fileName, reason: refusalText(code) }),
            upload: null,
          });
      }
    }
    return shared;
  }

  private drop(key: string): void {
    this.rows = this.rows.filter((x) => x.key !== key);
  }

  override render() {
    if (this.rows.length === 0) return nothing;
    return html`<div role="status" aria-live="polite" data-testid="uploads">
      ${this.rows.map((u) => {
        if (u.error)
          return html`<p class="error" role="alert" data-testid="upload-error">
            <span>${u.error}</span>
            <button type="button" class="secondary" @click=${() => this.drop(u.key)}>OK</button>
          </p>`;
        const percent = u.total > 0 ? Math.min(100, Math.round((u.sent / u.total) * 100)) : 0;
        const checking = u.total > 0 && u.sent >= u.total;
        return html`<p data-testid="upload-progress" data-percent=${percent}>
          <progress max="100" .value=${percent} aria-hidden="true"></progress>
          <span
            >${checking ? td("checking", { name: u.name }) : td("uploading", { name: u.name, percent })}</span
          >
          ${
            checking
              ? nothing
              : html`<button type="button" class="secondary" @click=${() => u.upload?.abort()}>
                  ${td("cancel")}
                </button>`
          }
        </p>`;
      })}
    </div>`;
  }
}
customElements.define("vv-doc-uploads", DocUploads);
