// What the stage offers besides the presented document: the conversation's documents
// (to show one), a file to share (button, or the camera on phones), and for advisers
// the library, the photo request and whether the customer may download each document.
// It says what was chosen (`vv-files`, `vv-show`, `vv-share`, `vv-request-photo`,
// `vv-rights`); the stage does it.
import { css, html, nothing, type PropertyValues } from "lit";
import { live } from "lit/directives/live.js";
import { ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText } from "../lib/i18n";
import type { LibraryDocument } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { loadLibrary } from "./doc-http";
import { td } from "./doc-strings";
import type { DocumentInfo } from "./stage-state";

const ACCEPT = "application/pdf,image/png,image/jpeg";

/** `vv-rights`: the adviser allows (or forbids) the customer to download a document. */
export interface RightsDetail {
  readonly id: string;
  readonly downloadable: boolean;
}

export class DocShelf extends I18nElement {
  static override properties = {
    documents: { attribute: false },
    side: { type: String },
    presentedId: { type: String },
    disabled: { type: Boolean },
    photoPending: { type: Boolean },
    library: { state: true },
    libraryOpen: { state: true },
    libraryError: { state: true },
    rightsSent: { state: true },
  };
  declare documents: readonly DocumentInfo[];
  declare side: "customer" | "adviser";
  declare presentedId: string;
  /** The conversation has ended: look, but share nothing new. */
  declare disabled: boolean;
  declare photoPending: boolean;
  declare library: LibraryDocument[] | null;
  declare libraryOpen: boolean;
  declare libraryError: string;
  /** Download decisions sent and not yet back as events, by document id: the box shows
   * the click until the event (or an error, `settle`) says what holds. */
  declare rightsSent: ReadonlyMap<string, boolean>;

  constructor() {
    super();
    this.documents = [];
    this.side = "customer";
    this.presentedId = "";
    this.disabled = false;
    this.photoPending = false;
    this.library = null;
    this.libraryOpen = false;
    this.libraryError = "";
    this.rightsSent = new Map();
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .hint {
        font-size: 0.9rem;
      }
      /* The file inputs stay in the page (and reachable for tests), shown by their labels. */
      input[type="file"] {
        position: absolute;
        width: 1px;
        height: 1px;
        opacity: 0;
      }
      label.button {
        display: inline-flex;
        align-items: center;
        margin: 0;
        cursor: pointer;
        border-radius: 6px;
        border: 1px solid var(--vv-primary, #0b57a4);
        background: #fff;
        color: var(--vv-primary, #0b57a4);
        padding: 0.5rem 0.9rem;
        min-height: 2.5rem;
      }
      label.button:focus-within {
        outline: 3px solid var(--vv-focus, #f0a202);
        outline-offset: 2px;
      }
      label.button.disabled {
        opacity: 0.55;
        cursor: not-allowed;
      }
      ul {
        list-style: none;
        margin: 0.5rem 0 0;
        padding: 0;
        display: grid;
        gap: 0.35rem;
      }
      li {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        justify-content: space-between;
        border: 1px solid #d5dbe1;
        border-radius: 6px;
        padding: 0.3rem 0.5rem;
        background: #fff;
      }
      li {
        flex-wrap: wrap;
      }
      li .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      label.rights {
        display: inline-flex;
        gap: 0.35rem;
        align-items: center;
        margin: 0;
        min-height: 2.25rem;
        font-size: 0.9rem;
        cursor: pointer;
      }
      label.rights input {
        width: 1.15rem;
        height: 1.15rem;
        margin: 0;
      }
      li .name {
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      li[aria-current="true"] {
        border-color: var(--vv-primary, #0b57a4);
      }
      h3 {
        font-size: 0.95rem;
        margin: 0.75rem 0 0;
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("documents") && this.rightsSent.size > 0) {
      // a decision is settled once the events show it
      const byId = new Map(this.documents.map((d) => [d.id, d.downloadable]));
      const open = [...this.rightsSent].filter(([id, v]) => byId.get(id) !== v);
      if (open.length !== this.rightsSent.size) this.rightsSent = new Map(open);
    }
  }

  /** The decision for `id` was refused or not sent: show what the events say again. */
  settle(id: string): void {
    if (!this.rightsSent.has(id)) return;
    const next = new Map(this.rightsSent);
    next.delete(id);
    this.rightsSent = next;
  }

  private setRights(id: string, e: Event): void {
    const downloadable = (e.target as HTMLInputElement).checked;
    this.rightsSent = new Map(this.rightsSent).set(id, downloadable);
    this.emit<RightsDetail>("vv-rights", { id, downloadable });
  }

  private renderRights(d: DocumentInfo) {
    if (this.side !== "adviser") return nothing;
    const shown = this.rightsSent.get(d.id) ?? d.downloadable;
    // a native checkbox: its checked state is what is shown and what is announced;
    // the document's name (in the list item) describes which one it is
    return html`<label class="rights">
      <input
        type="checkbox"
        data-testid="doc-rights"
        aria-describedby=${`name-${d.id}`}
        .checked=${live(shown)}
        ?disabled=${this.disabled}
        @change=${(e: Event) => this.setRights(d.id, e)}
      />${td("customerMayDownload")}
    </label>`;
  }

  private pick(e: Event): void {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    if (files.length > 0) this.emit<File[]>("vv-files", files);
  }

  private async toggleLibrary(): Promise<void> {
    this.libraryOpen = !this.libraryOpen;
    if (!this.libraryOpen) return;
    this.libraryError = "";
    try {
      this.library = await loadLibrary();
    } catch (err) {
      this.libraryError = errorText(err instanceof ApiError ? err.code : "network");
    }
  }

  private describe(d: { kind: string; pages: readonly unknown[] }): string {
    const kind = td(`kind_${d.kind}` as "kind_pdf");
    return d.kind === "pdf" && d.pages.length > 1
      ? `${kind}, ${td("pages", { n: d.pages.length })}`
      : kind;
  }

  private renderLibrary() {
    if (!this.libraryOpen) return nothing;
    const lib = this.library;
    return html`<section id="library" aria-label=${td("library")} data-testid="library">
      <p class="status-line" role="alert">${this.libraryError}</p>
      ${
        lib === null
          ? html`<p class="muted">${td("libraryLoading")}</p>`
          : lib.length === 0
            ? html`<p class="muted">${td("libraryEmpty")}</p>`
            : html`<ul>
                ${lib.map(
                  (d) =>
                    html`<li data-testid="library-entry" data-library-id=${d.id}>
                      <span
                        ><span class="name">${d.name}</span>
                        <span class="muted">· ${this.describe(d)}</span></span
                      >
                      <button
                        type="button"
                        class="secondary"
                        data-testid="library-share"
                        aria-label=${td("shareName", { name: d.name })}
                        ?disabled=${this.disabled}
                        @click=${() => this.emit("vv-share", { id: d.id, name: d.name })}
                      >
                        ${td("share")}
                      </button>
                    </li>`,
                )}
              </ul>`
      }
    </section>`;
  }

  override render() {
    const off = this.disabled;
    const adviser = this.side === "adviser";
    return html`<div class="row">
        <label class="button ${off ? "disabled" : ""}">
          <input
            type="file"
            accept=${ACCEPT}
            data-testid="doc-file"
            ?disabled=${off}
            @change=${this.pick}
          />${td("upload")}
        </label>
        ${
          // Phones: straight to the camera (the plain button offers the gallery).
          window.matchMedia("(pointer: coarse)").matches
            ? html`<label class="button ${off ? "disabled" : ""}">
                <input
                  type="file"
                  accept="image/jpeg,image/png"
                  capture="environment"
                  data-testid="doc-camera"
                  ?disabled=${off}
                  @change=${this.pick}
                />${td("cameraUpload")}
              </label>`
            : nothing
        }
        ${
          adviser
            ? html`<button
                  type="button"
                  class="secondary"
                  data-testid="library-open"
                  aria-expanded=${this.libraryOpen ? "true" : "false"}
                  aria-controls="library"
                  ?disabled=${off}
                  @click=${this.toggleLibrary}
                >
                  ${td("library")}
                </button>
                <button
                  type="button"
                  class="secondary"
                  data-testid="request-photo"
                  ?disabled=${off || this.photoPending}
                  @click=${() => this.emit("vv-request-photo")}
                >
                  ${td("requestPhoto")}
                </button>`
            : nothing
        }
        <span class="hint muted">${td("uploadHint")}</span>
      </div>
      ${this.renderLibrary()}
      <h3>${td("shared")}</h3>
      ${
        this.documents.length === 0
          ? html`<p class="muted">${td("noneShared")}</p>`
          : html`<ul data-testid="doc-list">
              ${this.documents.map(
                (d) =>
                  html`<li
                    data-testid="doc-entry"
                    data-document-id=${d.id}
                    data-source=${d.source}
                    data-downloadable=${d.downloadable ? "true" : "false"}
                    aria-current=${d.id === this.presentedId ? "true" : "false"}
                  >
                    <span
                      ><span class="name" id=${`name-${d.id}`}>${d.name}</span>
                      <span class="muted"
                        >· ${this.describe(d)} ·
                        ${td(`src_${d.source}`)}${d.by.name ? ` · ${td("by", { name: d.by.name })}` : ""}</span
                      ></span
                    >
                    <span class="actions"
                      >${this.renderRights(d)}
                      <button
                        type="button"
                        class="secondary"
                        data-testid="doc-show"
                        aria-label=${td("showName", { name: d.name })}
                        ?disabled=${off}
                        @click=${() => this.emit("vv-show", d.id)}
                      >
                        ${td("show")}
                      </button></span
                    >
                  </li>`,
              )}
            </ul>`
      }`;
  }
}
customElements.define("vv-doc-shelf", DocShelf);
