// Past conversations: search, then a read-only transcript of one.
import { css, html, nothing } from "lit";
import { api, ApiError, type Transcript } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import "../lib/messages";
import type {
  ConversationSummary,
  DocumentAccess,
  DocumentSharedBody,
  EventMsg,
  RecordingReadyBody,
} from "../lib/protocol.gen";
import { base } from "../lib/styles";
import { tdoc } from "./documents-strings";
import { trecs } from "./recordings-strings";
import { t } from "./strings";

const dateFormats = new Map<string, Intl.DateTimeFormat>();
export function formatDate(iso: string | null): string {
  if (!iso) return "";
  const l = lang();
  let f = dateFormats.get(l);
  if (!f) {
    f = new Intl.DateTimeFormat(l === "de" ? "de-DE" : "en-GB", {
      dateStyle: "medium",
      timeStyle: "short",
    });
    dateFormats.set(l, f);
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : f.format(d);
}

export class HistoryView extends I18nElement {
  static override properties = {
    topicLabel: { attribute: false },
    csrf: { type: String },
    results: { state: true },
    loading: { state: true },
    error: { state: true },
    open: { state: true },
    playing: { state: true },
  };
  /** The recording file shown in the player ("<recording id>/<participant>"). */
  declare playing: string;
  declare topicLabel: (id: string | null) => string;
  /** For the access tokens of shared documents (a POST). */
  declare csrf: string;
  declare results: ConversationSummary[] | null;
  declare loading: boolean;
  declare error: string;
  declare open: Transcript | null;

  private query = "";

  constructor() {
    super();
    this.topicLabel = (id) => id ?? "";
    this.csrf = "";
    this.results = null;
    this.loading = false;
    this.error = "";
    this.open = null;
    this.playing = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100%;
      }
      form {
        display: flex;
        gap: 0.5rem;
        padding: 0.75rem;
        align-items: flex-end;
        flex-wrap: wrap;
      }
      form div {
        flex: 1;
        min-width: 12rem;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0 0.75rem 0.75rem;
        overflow-y: auto;
      }
      li {
        margin-bottom: 0.4rem;
      }
      li button {
        width: 100%;
        text-align: left;
        background: #fff;
        color: inherit;
        border: 1px solid #c9d1da;
        font-weight: 400;
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.1rem 0.75rem;
      }
      li button:hover:not(:disabled) {
        background: #eef4fb;
      }
      .name {
        font-weight: 700;
      }
      .transcript {
        display: flex;
        flex-direction: column;
        min-height: 0;
        flex: 1;
      }
      .transcript header {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        padding: 0.5rem 0.75rem;
        flex-wrap: wrap;
        border-bottom: 1px solid #d5dbe1;
      }
      .transcript h2 {
        font-size: 1.05rem;
        margin: 0;
        flex: 1;
      }
      vv-messages {
        flex: 1;
        min-height: 10rem;
      }
      .docs {
        flex: none; /* its own space: the messages below never slide over it */
        padding: 0.25rem 0.75rem;
        border-bottom: 1px solid #d5dbe1;
      }
      .docs h3 {
        font-size: 0.95rem;
        margin: 0.25rem 0;
      }
      .docs li {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .docs li button {
        width: auto;
      }
      .docs video {
        width: 100%;
        max-height: 40vh;
        background: #000;
      }
      p.empty,
      p.status-line {
        padding: 0 0.75rem;
      }
      p.status-line:empty {
        min-height: 0;
        margin: 0;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.results === null) void this.search();
  }

  private async search(e?: Event): Promise<void> {
    e?.preventDefault();
    if (e) {
      const input = (e.target as HTMLFormElement).elements.namedItem(
        "q",
      ) as HTMLInputElement | null;
      this.query = input?.value.trim() ?? "";
    }
    this.loading = true;
    this.error = "";
    const params = new URLSearchParams({ status: "ended" });
    if (this.query) params.set("q", this.query);
    try {
      const res = await api<{ conversations: ConversationSummary[] }>(
        "GET",
        `/api/v1/conversations?${params}`,
      );
      this.results = res.conversations ?? [];
    } catch (err) {
      this.results = [];
      this.error = errorText(err instanceof ApiError ? err.code : "network");
    } finally {
      this.loading = false;
    }
  }

  private async openOne(id: string): Promise<void> {
    this.loading = true;
    this.error = "";
    try {
      this.open = await api<Transcript>("GET", `/api/v1/conversations/${encodeURIComponent(id)}`);
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(".transcript h2")?.focus();
    } catch (err) {
      this.error = errorText(err instanceof ApiError ? err.code : "network");
    } finally {
      this.loading = false;
    }
  }

  /** A shared document, opened (downloaded) with a short-lived access token. */
  private async openDoc(id: string, name: string): Promise<void> {
    this.error = "";
    try {
      const access = await api<DocumentAccess>(
        "POST",
        `/api/v1/documents/${encodeURIComponent(id)}/access`,
        undefined,
        { "X-CSRF-Token": this.csrf },
      );
      const a = document.createElement("a");
      a.href = `/api/v1/documents/${encodeURIComponent(id)}/file?a=${encodeURIComponent(access.token)}`;
      a.download = name;
      a.click();
    } catch (err) {
      this.error = errorText(err instanceof ApiError ? err.code : "network");
    }
  }

  /** What was shared in the conversation: name, how, by whom, when, and a way to open it. */
  private renderDocs(events: readonly EventMsg[]) {
    const shared = events.filter((e) => e.kind === "document.shared");
    return html`<section class="docs" aria-labelledby="docs-h" data-testid="history-documents">
      <h3 id="docs-h">${tdoc("sharedDocs")}</h3>
      ${
        shared.length === 0
          ? html`<p class="muted">${tdoc("noSharedDocs")}</p>`
          : html`<ul>
              ${shared.map((e) => {
                const b = e.body as Partial<DocumentSharedBody>;
                const id = b.document_id ?? "";
                const name = b.name ?? id;
                const source = b.source ?? "upload";
                const who = e.author.name || (e.author.role === "customer" ? tdoc("customer") : "");
                return html`<li
                  data-testid="history-document"
                  data-document-id=${id}
                  data-source=${source}
                >
                  <strong>${name}</strong>
                  <span class="muted"
                    >${tdoc(`src_${source}`)} · ${tdoc("sharedBy", { name: who })} ·
                    ${formatDate(e.at)}</span
                  >
                  <button
                    type="button"
                    class="secondary"
                    aria-label=${tdoc("openDocName", { name })}
                    @click=${() => this.openDoc(id, name)}
                  >
                    ${tdoc("openDoc")}
                  </button>
                </li>`;
              })}
            </ul>`
      }
    </section>`;
  }

  /** The call's recordings: played or downloaded only on a click (each access is
   * logged by the server; only the conversation's adviser and admins get them). */
  private renderRecordings(cid: string, events: readonly EventMsg[]) {
    const ready = events.filter((e) => e.kind === "recording.ready");
    if (ready.length === 0) return nothing;
    const base = `/api/v1/conversations/${encodeURIComponent(cid)}/recordings`;
    return html`<section class="docs" aria-labelledby="rec-h" data-testid="history-recordings">
      <h3 id="rec-h">${trecs("title")}</h3>
      <ul>
        ${ready.flatMap((e) => {
          const b = e.body as Partial<RecordingReadyBody>;
          const rid = b.recording_id ?? "";
          return (b.files ?? []).map((f) => {
            const key = `${rid}/${f.participant}`;
            const url = `${base}/${encodeURIComponent(rid)}/${f.participant}`;
            const who = f.participant === "customer" ? trecs("customer") : trecs("adviser");
            return html`<li data-testid="history-recording" data-recording=${key}>
              <strong>${who}</strong>
              <span class="muted"
                >${formatDate(e.at)} · ${trecs("seconds", { n: Math.round(f.duration_s) })}</span
              >
              <button
                type="button"
                class="secondary"
                data-testid="recording-play"
                @click=${() => (this.playing = key)}
              >
                ${trecs("play")}
              </button>
              <a href=${`${url}?download=1`} download data-testid="recording-download"
                >${trecs("download")}</a
              >
              ${
                this.playing === key
                  ? html`<video
                      controls
                      autoplay
                      preload="metadata"
                      data-testid="recording-video"
                      aria-label=${trecs("videoOf", { who })}
                      src=${url}
                    ></video>`
                  : nothing
              }
            </li>`;
          });
        })}
      </ul>
    </section>`;
  }

  private renderTranscript(tr: Transcript) {
    const c = tr.conversation;
    return html`<section
      class="transcript"
      data-testid="history-transcript"
      data-conversation-id=${c.id}
    >
      <header>
        <h2 tabindex="-1">${t("transcriptOf", { name: c.customer_name || t("anonymous") })}</h2>
        <span class="muted"
          >${this.topicLabel(c.topic) || t("noTopic")} · ${formatDate(c.created_at)}</span
        >
        <button
          type="button"
          class="secondary"
          data-testid="history-back"
          @click=${() => (this.open = null)}
        >
          ${t("historyBack")}
        </button>
      </header>
      <p class="status-line" role="alert">${this.error}</p>
      ${this.renderDocs(tr.events)} ${this.renderRecordings(c.id, tr.events)}
      <vv-messages
        .events=${tr.events}
        self="adviser"
        .otherName=${c.customer_name || t("anonymous")}
      ></vv-messages>
    </section>`;
  }

  override render() {
    if (this.open) return this.renderTranscript(this.open);
    return html`<form role="search" @submit=${this.search}>
        <div>
          <label for="q">${t("historySearch")}</label>
          <input id="q" name="q" type="search" data-testid="history-search" .value=${this.query} />
        </div>
        <button type="submit" data-testid="history-search-submit">
          ${t("historySearchButton")}
        </button>
      </form>
      <p class="status-line" role="status">
        ${this.error || (this.loading ? t("historyLoading") : "")}
      </p>
      ${this.results && this.results.length === 0 && !this.loading ? html`<p class="empty muted">${t("historyEmpty")}</p>` : nothing}
      <ul>
        ${(this.results ?? []).map(
          (c) =>
            html`<li>
              <button
                type="button"
                data-testid="history-entry"
                data-conversation-id=${c.id}
                @click=${() => this.openOne(c.id)}
              >
                <span class="name">${c.customer_name || t("anonymous")}</span>
                <span class="muted">${formatDate(c.ended_at ?? c.created_at)}</span>
                <span class="muted">${this.topicLabel(c.topic) || t("noTopic")}</span>
                <span class="muted">${c.adviser?.name ?? ""}</span>
              </button>
            </li>`,
        )}
      </ul>`;
  }
}
customElements.define("vv-history", HistoryView);
