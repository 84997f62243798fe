// The document library for admins (a console view): what advisers can share, a file to
// add (PDF, image, or a product video; downloadable or view only), and removal. Advisers
// pick from it on the stage; copies already shared stay in their conversations.
import { css, html, nothing } from "lit";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText } from "../lib/i18n";
import type { LibraryDocument } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { tdoc } from "./documents-strings";
import { formatDate } from "./history";

const ACCEPT = "application/pdf,image/png,image/jpeg,video/mp4,video/webm";

export class LibraryAdmin extends I18nElement {
  static override properties = {
    csrf: { type: String },
    items: { state: true },
    progress: { state: true },
    notice: { state: true },
    confirming: { state: true },
  };
  declare csrf: string;
  declare items: LibraryDocument[] | null;
  /** Upload progress in percent (null: not uploading). */
  declare progress: number | null;
  declare notice: { ok: boolean; text: string } | null;
  /** The entry whose removal waits for "yes". */
  declare confirming: string;

  constructor() {
    super();
    this.csrf = "";
    this.items = null;
    this.progress = null;
    this.notice = null;
    this.confirming = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        padding: 0.75rem;
        max-width: 48rem;
      }
      form {
        display: grid;
        gap: 0.5rem;
        margin: 1rem 0;
      }
      label.check {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        font-weight: 400;
      }
      label.check input {
        width: auto;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.4rem;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        border: 1px solid #d5dbe1;
        border-radius: 6px;
        padding: 0.4rem 0.6rem;
      }
      li .name {
        font-weight: 700;
        flex: 1;
      }
      .ok {
        color: #1c6b32;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.items = (
        await api<{ documents: LibraryDocument[] }>("GET", "/api/v1/library")
      ).documents;
    } catch (err) {
      this.items = [];
      this.notice = { ok: false, text: errorText(err instanceof ApiError ? err.code : "network") };
    }
  }

  /** POST the raw file with upload progress (fetch has none). */
  private add(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const file = data.get("file");
    if (!(file instanceof File) || file.size === 0 || this.progress !== null) return;
    const typed = data.get("name");
    const name = (typeof typed === "string" ? typed.trim() : "") || file.name;
    const q = new URLSearchParams({
      name,
      downloadable: data.get("downloadable") === "on" ? "true" : "false",
    });
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/library?${q}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", this.csrf);
    this.progress = 0;
    this.notice = null;
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) this.progress = Math.round((ev.loaded / ev.total) * 100);
    };
    xhr.onload = () => {
      this.progress = null;
      let code = `http_${xhr.status}`;
      try {
        code = (JSON.parse(xhr.responseText) as { error?: { code?: string } }).error?.code ?? code;
      } catch {
        /* not JSON: the status says it */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        form.reset();
        this.notice = { ok: true, text: tdoc("libraryAdded", { name }) };
        void this.load();
      } else this.notice = { ok: false, text: errorText(code) };
    };
    xhr.onerror = () => {
      this.progress = null;
      this.notice = { ok: false, text: errorText("network") };
    };
    xhr.send(file);
  }

  private async removeItem(item: LibraryDocument): Promise<void> {
    this.confirming = "";
    try {
      await api("DELETE", `/api/v1/library/${encodeURIComponent(item.id)}`, undefined, {
        "X-CSRF-Token": this.csrf,
      });
      await this.load();
    } catch (err) {
      this.notice = { ok: false, text: errorText(err instanceof ApiError ? err.code : "network") };
    }
  }

  private renderItem(d: LibraryDocument) {
    const confirming = this.confirming === d.id;
    return html`<li data-testid="library-admin-entry" data-library-id=${d.id}>
      <span class="name">${d.name}</span>
      <span class="muted"
        >${d.kind.toUpperCase()} ·
        ${d.downloadable ? tdoc("downloadable") : tdoc("notDownloadable")} ·
        ${formatDate(d.created_at)}</span
      >
      ${
        confirming
          ? html`<span role="group" aria-label=${tdoc("libraryConfirm", { name: d.name })}>
              ${tdoc("libraryConfirm", { name: d.name })}
              <button
                type="button"
                class="danger solid"
                data-testid="library-remove-yes"
                @click=${() => this.removeItem(d)}
              >
                ${tdoc("libraryRemove")}
              </button>
              <button type="button" class="secondary" @click=${() => (this.confirming = "")}>
                ✕
              </button>
            </span>`
          : html`<button
              type="button"
              class="danger"
              data-testid="library-remove"
              aria-label=${tdoc("libraryRemoveName", { name: d.name })}
              @click=${() => (this.confirming = d.id)}
            >
              ${tdoc("libraryRemove")}
            </button>`
      }
    </li>`;
  }

  override render() {
    const items = this.items;
    return html`<h2>${tdoc("libraryTitle")}</h2>
      <p class="muted">${tdoc("libraryIntro")}</p>
      <form @submit=${this.add} data-testid="library-add-form">
        <div>
          <label for="lib-file">${tdoc("libraryFile")}</label>
          <input id="lib-file" name="file" type="file" accept=${ACCEPT} required />
        </div>
        <div>
          <label for="lib-name">${tdoc("libraryName")}</label>
          <input id="lib-name" name="name" maxlength="200" />
        </div>
        <label class="check"
          ><input name="downloadable" type="checkbox" /> ${tdoc("libraryDownloadable")}</label
        >
        <div>
          <button type="submit" data-testid="library-add" ?disabled=${this.progress !== null}>
            ${tdoc("libraryAdd")}
          </button>
          ${
            this.progress !== null
              ? html`<progress max="100" .value=${this.progress} aria-hidden="true"></progress>
                  <span role="status">${tdoc("libraryAdding", { percent: this.progress })}</span>`
              : nothing
          }
        </div>
      </form>
      <p
        class=${this.notice?.ok ? "ok" : "status-line"}
        role=${this.notice?.ok ? "status" : "alert"}
        data-testid="library-notice"
      >
        ${this.notice?.text ?? ""}
      </p>
      ${
        items === null
          ? nothing
          : items.length === 0
            ? html`<p class="muted">${tdoc("libraryEmpty")}</p>`
            : html`<ul>
                ${items.map((d) => this.renderItem(d))}
              </ul>`
      }`;
  }
}
customElements.define("vv-library-admin", LibraryAdmin);
