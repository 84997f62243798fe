// Supervisors' live overview (R12.1): every adviser with status and load, every team's
// queue (from the queue.snapshot supervisors receive for all teams) and the offline
// queue, and the conversations running now. Advisers and running conversations come
// from the overview.snapshot the server pushes to supervisors' sockets after every
// (re)connect and whenever an adviser's status or load changes: nothing is polled, so
// many supervisors online do not all fetch at once after every change.
import { css, html, nothing, type PropertyValues } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { api } from "../lib/api";
import { I18nElement } from "../lib/base";
import { lang } from "../lib/i18n";
import type { OverviewSnapshotMsg, QueueEntry } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { TeamInfo } from "./transfer-dialog";
import { tw } from "./ways-strings";

function waited(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class Overview extends I18nElement {
  static override properties = {
    queue: { attribute: false },
    offline: { attribute: false },
    topicLabel: { attribute: false },
    now: { type: Number },
    snapshot: { attribute: false },
    teams: { state: true },
    updatedAt: { state: true },
  };
  declare queue: QueueEntry[];
  declare offline: QueueEntry[];
  declare topicLabel: (id: string | null) => string;
  declare now: number;
  /** The last overview.snapshot (null until the first one arrived). */
  declare snapshot: OverviewSnapshotMsg | null;
  declare teams: TeamInfo[];
  /** When the shown snapshot arrived. */
  declare updatedAt: number;

  constructor() {
    super();
    this.queue = [];
    this.offline = [];
    this.topicLabel = (id) => id ?? "";
    this.now = Date.now();
    this.snapshot = null;
    this.teams = [];
    this.updatedAt = 0;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        padding: 1rem;
        overflow-y: auto;
      }
      h2 {
        font-size: 1.15rem;
        margin: 0 0 0.5rem;
      }
      h3 {
        font-size: 1rem;
        margin: 1.1rem 0 0.4rem;
      }
      .scroll {
        overflow-x: auto;
      }
      table {
        border-collapse: collapse;
        width: 100%;
        min-width: 30rem;
        font-variant-numeric: tabular-nums;
      }
      th,
      td {
        text-align: left;
        padding: 0.3rem 0.5rem;
        border-bottom: 1px solid #e1e6eb;
        vertical-align: top;
      }
      th {
        font-size: 0.85rem;
        background: #f4f6f8;
      }
      .status::before {
        content: "";
        display: inline-block;
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        margin-right: 0.35rem;
        background: #8a94a0;
      }
      .status[data-status="available"]::before {
        background: #1e9b46;
      }
      .status[data-status="away"]::before {
        background: #d08700;
      }
      meter {
        width: 5rem;
        vertical-align: middle;
      }
      .teams {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr));
        gap: 0.75rem;
      }
      .team {
        border: 1px solid #c9d1da;
        border-radius: 8px;
        padding: 0.5rem 0.7rem;
      }
      .team h4 {
        margin: 0 0 0.25rem;
        font-size: 0.95rem;
        display: flex;
        justify-content: space-between;
        gap: 0.5rem;
      }
      .team ul {
        list-style: none;
        margin: 0.3rem 0 0;
        padding: 0;
        font-size: 0.88rem;
      }
      .closed {
        font-size: 0.8rem;
        font-weight: 400;
      }
      ul.live {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      ul.live li {
        padding: 0.25rem 0;
        border-bottom: 1px solid #eef1f4;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    // Team names and hours: changed by admins from the shell, not live.
    void api<{ teams: TeamInfo[] }>("GET", "/api/v1/teams").then(
      (r) => (this.teams = r.teams ?? []),
      () => undefined,
    );
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("snapshot") && this.snapshot) this.updatedAt = Date.now();
  }

  private teamName(id: string | null): string {
    if (!id) return tw("noTeam");
    return this.teams.find((t) => t.id === id)?.name ?? id;
  }

  private renderAdvisers() {
    const list = this.snapshot?.advisers;
    if (!list) return html`<p class="muted">…</p>`;
    const order = { available: 0, away: 1, offline: 2 } as const;
    const sorted = [...list].sort(
      (x, y) => order[x.status] - order[y.status] || x.name.localeCompare(y.name),
    );
    return html`<div class="scroll">
      <table data-testid="overview-advisers">
        <thead>
          <tr>
            <th scope="col">${tw("colName")}</th>
            <th scope="col">${tw("colRole")}</th>
            <th scope="col">${tw("colStatus")}</th>
            <th scope="col">${tw("colLoad")}</th>
            <th scope="col">${tw("colTeams")}</th>
          </tr>
        </thead>
        <tbody>
          ${repeat(
            sorted,
            (a) => a.id,
            (a) =>
              html`<tr
                data-testid="overview-adviser"
                data-adviser-id=${a.id}
                data-status=${a.status}
                data-active=${a.active}
              >
                <th scope="row">${a.name}</th>
                <td>${tw(`role_${a.role}`)}</td>
                <td>
                  <span class="status" data-status=${a.status}>${tw(`status_${a.status}`)}</span>
                </td>
                <td>
                  <meter
                    min="0"
                    max=${Math.max(1, a.max_chats)}
                    .value=${a.active}
                    aria-hidden="true"
                  ></meter>
                  <span data-testid="overview-load">${a.active}/${a.max_chats}</span>
                </td>
                <td>
                  ${a.teams.length ? a.teams.map((t) => this.teamName(t)).join(", ") : tw("noTeam")}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }

  private renderQueues() {
    // Every team, even with nobody waiting; plus the customers of no team.
    const ids = new Set<string | null>(this.teams.map((t) => t.id));
    for (const e of [...this.queue, ...this.offline]) ids.add(e.team_id ?? null);
    if (ids.size === 0) ids.add(null);
    return html`<div class="teams" data-testid="overview-queues">
      ${[...ids].map((id) => {
        const waiting = this.queue.filter((e) => (e.team_id ?? null) === id);
        const offline = this.offline.filter((e) => (e.team_id ?? null) === id);
        const team = this.teams.find((t) => t.id === id);
        const oldest = waiting[0] ? this.now - Date.parse(waiting[0].queued_at) : 0;
        return html`<section
          class="team"
          data-testid="overview-team"
          data-team-id=${id ?? ""}
          data-waiting=${waiting.length}
        >
          <h4>
            <span>${this.teamName(id)}</span>
            ${team && !team.open ? html`<span class="closed muted">${lang() === "de" ? "geschlossen" : "closed"}</span>` : nothing}
          </h4>
          <div>
            ${tw("waitingN", { n: waiting.length })}${waiting.length ? html` · ${tw("longestWait", { time: waited(oldest) })}` : nothing}
            ${offline.length ? html` · ${tw("offlineN", { n: offline.length })}` : nothing}
          </div>
          ${
            waiting.length
              ? html`<ul>
                  ${waiting.map(
                    (e) =>
                      html`<li data-testid="overview-waiting">
                        ${e.customer_name || (lang() === "de" ? "Gast" : "Guest")} ·
                        ${this.topicLabel(e.topic) || "–"} ·
                        ${waited(this.now - Date.parse(e.queued_at))}
                      </li>`,
                  )}
                </ul>`
              : nothing
          }
        </section>`;
      })}
    </div>`;
  }

  private renderLive() {
    const live = this.snapshot?.conversations ?? [];
    if (live.length === 0) return html`<p class="muted">${tw("liveNone")}</p>`;
    return html`<ul class="live" data-testid="overview-live">
      ${repeat(
        live,
        (c) => c.id,
        (c) =>
          html`<li data-testid="overview-conversation" data-conversation-id=${c.id}>
            ${tw("liveLine", { customer: c.customer_name || (lang() === "de" ? "Gast" : "Guest"), adviser: c.adviser?.name ?? "–" })}
            ${c.consultant ? html` + ${c.consultant.name}` : nothing} ·
            ${this.teamName(c.team_id ?? null)}
          </li>`,
      )}
    </ul>`;
  }

  override render() {
    const time = this.updatedAt
      ? new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", {
          hour: "2-digit",
          minute: "2-digit",
          second: "2-digit",
        }).format(this.updatedAt)
      : "";
    return html`<h2>${tw("overviewTitle")}</h2>
      <p class="muted" aria-live="off">${time ? tw("updated", { time }) : ""}</p>
      <h3>${tw("overviewAdvisers")}</h3>
      ${this.renderAdvisers()}
      <h3>${tw("overviewQueues")}</h3>
      ${this.renderQueues()}
      <h3>${tw("overviewLive")}</h3>
      ${this.renderLive()}`;
  }
}
customElements.define("vv-overview", Overview);
