// The stage's header: the document's name, who leads (presenting / following Name /
// looking around, with "follow again" and "take over"), page and zoom controls,
// download and close. Buttons only: it says what was pressed, the stage acts.
import { css, html, nothing } from "lit";
import { I18nElement } from "../lib/base";
import { base } from "../lib/styles";
import { td } from "./doc-strings";
import type { DocumentInfo } from "./stage-state";

export class DocBar extends I18nElement {
  static override properties = {
    doc: { attribute: false },
    page: { type: Number },
    zoom: { type: Number },
    fit: { type: Boolean },
    presenting: { type: Boolean },
    following: { type: Boolean },
    presenterName: { type: String },
    downloadable: { type: Boolean },
    ended: { type: Boolean },
  };
  declare doc: DocumentInfo | null;
  declare page: number;
  declare zoom: number;
  /** The whole page is in view (below 100 %: "Verkleinern" at 100 % gets there). */
  declare fit: boolean;
  declare presenting: boolean;
  declare following: boolean;
  declare presenterName: string;
  /** Show the download button (advisers always; customers when the document allows). */
  declare downloadable: boolean;
  declare ended: boolean;

  constructor() {
    super();
    this.doc = null;
    this.page = 0;
    this.zoom = 1;
    this.fit = false;
    this.presenting = false;
    this.following = true;
    this.presenterName = "";
    this.downloadable = false;
    this.ended = false;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .bar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
        padding: 0.4rem 0.5rem;
        background: #fff;
        border-bottom: 1px solid #d5dbe1;
      }
      button {
        min-height: 2.25rem;
        padding: 0.3rem 0.6rem;
      }
      .who {
        flex: 1;
        min-width: 10rem;
      }
      .name {
        font-weight: 700;
        overflow-wrap: anywhere;
      }
    `,
  ];

  override render() {
    const doc = this.doc;
    if (!doc) return nothing;
    const presenter = this.presenting;
    const n = doc.pages.length;
    const who = presenter
      ? td("presenting")
      : this.following
        ? td("following", { name: this.presenterName })
        : td("detached");
    return html`<div class="bar" role="group" aria-label=${td("stage")}>
      <span class="who">
        <span class="name" data-testid="stage-doc-name">${doc.name}</span><br />
        <span
          class="muted"
          role="status"
          data-testid="follow-status"
          data-state=${presenter ? "presenting" : this.following ? "following" : "detached"}
          >${who}</span
        >
      </span>
      ${
        !presenter && !this.following
          ? html`<button
              type="button"
              data-testid="follow-again"
              @click=${() => this.emit("vv-follow")}
            >
              ${td("followAgain")}
            </button>`
          : nothing
      }
      ${
        !presenter && !this.ended
          ? html`<button
              type="button"
              class="secondary"
              data-testid="take-over"
              @click=${() => this.emit("vv-take-over")}
            >
              ${td("takeOver")}
            </button>`
          : nothing
      }
      ${
        doc.kind === "video"
          ? nothing
          : html`<button
                type="button"
                class="secondary"
                data-testid="page-prev"
                aria-label=${td("prevPage")}
                aria-keyshortcuts="PageUp"
                ?disabled=${this.page <= 0}
                @click=${() => this.emit("vv-page", this.page - 1)}
              >
                ‹
              </button>
              <span data-testid="page-label" data-page=${this.page}
                >${td("page", { page: this.page + 1, pages: n })}</span
              >
              <button
                type="button"
                class="secondary"
                data-testid="page-next"
                aria-label=${td("nextPage")}
                aria-keyshortcuts="PageDown"
                ?disabled=${this.page >= n - 1}
                @click=${() => this.emit("vv-page", this.page + 1)}
              >
                ›
              </button>
              <button
                type="button"
                class="secondary"
                aria-label=${td("zoomOut")}
                aria-keyshortcuts="-"
                data-testid="zoom-out"
                ?disabled=${this.fit}
                @click=${() => this.emit("vv-zoom-step", -1)}
              >
                −
              </button>
              <span data-testid="zoom-label" data-zoom=${this.fit ? "fit" : this.zoom}
                >${
                  this.fit ? td("zoomFit") : td("zoom", { percent: Math.round(this.zoom * 100) })
                }</span
              >
              <button
                type="button"
                class="secondary"
                aria-label=${td("zoomIn")}
                aria-keyshortcuts="+"
                data-testid="zoom-in"
                ?disabled=${this.zoom >= 4}
                @click=${() => this.emit("vv-zoom-step", 1)}
              >
                +
              </button>`
      }
      ${
        this.downloadable
          ? html`<button
              type="button"
              class="secondary"
              data-testid="doc-download"
              @click=${() => this.emit("vv-download")}
            >
              ${td("download")}
            </button>`
          : nothing
      }
      ${
        this.ended
          ? nothing
          : html`<button
              type="button"
              class="secondary"
              data-testid="stage-close"
              @click=${() => this.emit("vv-close")}
            >
              ${td("closeStage")}
            </button>`
      }
    </div>`;
  }
}
customElements.define("vv-doc-bar", DocBar);
