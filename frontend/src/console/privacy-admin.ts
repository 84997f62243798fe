// The admins' data-protection view: the profile and retention in force, one customer's
// export (a zip download) and erasure (with what the law keeps, until when and why), and
// the audit log's chain check. Its own lazily loaded chunk, like the library.
import { css, html, nothing } from "lit";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText } from "../lib/i18n";
import { base } from "../lib/styles";
import { formatDate } from "./history";
import { tpriv } from "./privacy-strings";

interface Policy {
  profile: string;
  retention_days: Record<string, number>;
  legal_holds: Record<string, string>;
}
interface Held {
  conversation_id: string;
  kind: string;
  until: string;
  reason: string;
}
interface Report {
  deleted: string[];
  erased: Record<string, string[]>;
  kept: Held[];
}
interface Verify {
  ok: boolean;
  count: number;
  head: string;
  problems: { id: number; what: string }[];
}
interface Query {
  email?: string;
  phone?: string;
  conversation_ids?: string[];
}

export class PrivacyAdmin extends I18nElement {
  static override properties = {
    csrf: { type: String },
    policy: { state: true },
    notice: { state: true },
    kept: { state: true },
    confirming: { state: true },
    busy: { state: true },
    chain: { state: true },
  };
  declare csrf: string;
  declare policy: Policy | null;
  declare notice: { ok: boolean; text: string } | null;
  declare kept: Held[];
  declare confirming: boolean;
  declare busy: boolean;
  declare chain: Verify | null;

  constructor() {
    super();
    this.csrf = "";
    this.policy = null;
    this.notice = null;
    this.kept = [];
    this.confirming = false;
    this.busy = false;
    this.chain = null;
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
      table {
        border-collapse: collapse;
      }
      th,
      td {
        text-align: left;
        padding: 0.25rem 0.6rem 0.25rem 0;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
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
      this.policy = (await api<{ policy: Policy }>("GET", "/api/v1/privacy/policy")).policy;
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.notice = { ok: false, text: errorText(err instanceof ApiError ? err.code : "network") };
  }

  private query(): Query | null {
    const root = this.renderRoot;
    const value = (id: string) =>
      root.querySelector<HTMLInputElement>(`#${id}`)?.value.trim() ?? "";
    const q: Query = {};
    if (value("dp-email")) q.email = value("dp-email");
    if (value("dp-phone")) q.phone = value("dp-phone");
    const ids = value("dp-ids").split(/\s+/).filter(Boolean);
    if (ids.length) q.conversation_ids = ids;
    if (!q.email && !q.phone && !q.conversation_ids) {
      this.notice = { ok: false, text: tpriv("nothing") };
      return null;
    }
    return q;
  }

  /** The export is a download: fetched here (it needs the CSRF header), saved by a link. */
  private async exportZip(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const q = this.query();
    if (!q || this.busy) return;
    this.busy = true;
    this.notice = null;
    try {
      const res = await fetch("/api/v1/privacy/export", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf },
        body: JSON.stringify(q),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
        throw new ApiError(body?.error?.code ?? `http_${res.status}`, "", res.status);
      }
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = "visavis-export.zip";
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.notice = {
        ok: true,
        text: tpriv("exported", { count: res.headers.get("X-Conversations") ?? "0" }),
      };
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
  }

  private async erase(): Promise<void> {
    this.confirming = false;
    const q = this.query();
    if (!q || this.busy) return;
    this.busy = true;
    try {
      const { report } = await api<{ report: Report }>("POST", "/api/v1/privacy/erase", q, {
        "X-CSRF-Token": this.csrf,
      });
      this.kept = report.kept;
      this.notice = {
        ok: true,
        text: tpriv("erased", {
          deleted: report.deleted.length,
          partly: Object.keys(report.erased).length,
        }),
      };
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
  }

  private async verify(): Promise<void> {
    try {
      this.chain = await api<Verify>("GET", "/api/v1/audit/verify");
    } catch (err) {
      this.fail(err);
    }
  }

  private renderPolicy() {
    const p = this.policy;
    if (!p) return nothing;
    return html`<p data-testid="privacy-profile">${tpriv("profile", { profile: p.profile })}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">${tpriv("kind")}</th>
            <th scope="col">${tpriv("days")}</th>
          </tr>
        </thead>
        <tbody>
          ${Object.entries(p.retention_days).map(
            ([kind, days]) =>
              html`<tr>
                <td>${kind}</td>
                <td>${days}${kind in p.legal_holds ? ` (${tpriv("held")})` : ""}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
  }

  override render() {
    const chain = this.chain;
    return html`<h2>${tpriv("title")}</h2>
      ${this.renderPolicy()}
      <p class="muted">${tpriv("intro")}</p>
      <form @submit=${this.exportZip} data-testid="privacy-form">
        <div>
          <label for="dp-email">${tpriv("email")}</label>
          <input id="dp-email" type="email" maxlength="254" autocomplete="off" />
        </div>
        <div>
          <label for="dp-phone">${tpriv("phone")}</label>
          <input id="dp-phone" type="tel" maxlength="40" autocomplete="off" />
        </div>
        <div>
          <label for="dp-ids">${tpriv("ids")}</label>
          <input id="dp-ids" maxlength="4000" autocomplete="off" />
        </div>
        <div class="row">
          <button type="submit" data-testid="privacy-export" ?disabled=${this.busy}>
            ${tpriv("exportButton")}
          </button>
          ${
            this.confirming
              ? html`<span role="group" aria-label=${tpriv("eraseConfirm")}>
                  ${tpriv("eraseConfirm")}
                  <button
                    type="button"
                    class="danger solid"
                    data-testid="privacy-erase-yes"
                    @click=${() => this.erase()}
                  >
                    ${tpriv("eraseYes")}
                  </button>
                  <button type="button" class="secondary" @click=${() => (this.confirming = false)}>
                    ✕
                  </button>
                </span>`
              : html`<button
                  type="button"
                  class="danger"
                  data-testid="privacy-erase"
                  ?disabled=${this.busy}
                  @click=${() => (this.confirming = true)}
                >
                  ${tpriv("eraseButton")}
                </button>`
          }
        </div>
      </form>
      <p
        class=${this.notice?.ok ? "ok" : "status-line"}
        role=${this.notice?.ok ? "status" : "alert"}
        data-testid="privacy-notice"
      >
        ${this.notice?.text ?? ""}
      </p>
      ${
        this.kept.length
          ? html`<ul data-testid="privacy-kept">
              ${this.kept.map(
                (h) =>
                  html`<li>
                    ${tpriv("keptLine", {
                      kind: h.kind,
                      id: h.conversation_id,
                      until: formatDate(h.until),
                      reason: h.reason,
                    })}
                  </li>`,
              )}
            </ul>`
          : nothing
      }
      <h2>${tpriv("auditTitle")}</h2>
      <button type="button" class="secondary" data-testid="audit-verify" @click=${this.verify}>
        ${tpriv("auditVerify")}
      </button>
      ${
        chain
          ? html`<p role="status" class=${chain.ok ? "ok" : "status-line"}>
              ${
                chain.ok
                  ? tpriv("auditOk", { count: chain.count, head: chain.head })
                  : tpriv("auditBroken", {
                      problems: chain.problems.map((p) => `#${p.id} ${p.what}`).join("; "),
                    })
              }
            </p>`
          : nothing
      }`;
  }
}
customElements.define("vv-privacy-admin", PrivacyAdmin);
