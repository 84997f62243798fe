// The message list both apps show: durable events in seq order, then messages still
// in the outbox ("sending"), with delivered/read ticks on one's own messages.
import { css, html, nothing, svg, type PropertyValues } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { I18nElement } from "./base";
import { callKindA, callKindThe, callKindTitle, formatCallDuration, tcall } from "./call-strings";
import { collabLine, NOISY_KINDS, noisyKey, tev } from "./event-lines";
import { lang, tc } from "./i18n";
import type { EventMsg } from "./protocol.gen";
import { base } from "./styles";
import type { OutboxItem } from "./ws";

export type Role = "customer" | "adviser";
type Fold = { first: number; hidden: number; open: boolean; devices: boolean };
type Item =
  | { key: number | string; ev: EventMsg; fold?: undefined }
  | { key: string; fold: Fold; ev?: undefined };
export type PendingLine = OutboxItem & { failed?: boolean };
type Tick = "sending" | "sent" | "delivered" | "read" | "failed";

const timeFormats = new Map<string, Intl.DateTimeFormat>();
export function formatTime(iso: string): string {
  const l = lang();
  let f = timeFormats.get(l);
  if (!f) {
    f = new Intl.DateTimeFormat(l === "de" ? "de-DE" : "en-GB", {
      hour: "2-digit",
      minute: "2-digit",
    });
    timeFormats.set(l, f);
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : f.format(d);
}

/** Day and time, for times that are not today's (a moved appointment). */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(d);
}

const one = svg`<path d="M2 8.5l3.2 3.2L13 4" />`;
const two = svg`<path d="M1 8.5l3.2 3.2L12 4" /><path d="M7.5 11.2l.5.5L15.8 4" />`;

function tickIcon(tick: Tick) {
  if (tick === "sending") {
    return svg`<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="5.5" /><path d="M8 5v3.2l2 1.3" /></svg>`;
  }
  if (tick === "failed") {
    return svg`<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 4l8 8M12 4l-8 8" /></svg>`;
  }
  return svg`<svg viewBox="0 0 16 16" aria-hidden="true">${tick === "sent" ? one : two}</svg>`;
}

const tickLabel: Record<Tick, () => string> = {
  sending: () => tc("statusSending"),
  sent: () => tc("statusSent"),
  delivered: () => tc("statusDelivered"),
  read: () => tc("statusRead"),
  failed: () => tc("statusFailed"),
};

export class MessageList extends I18nElement {
  static override properties = {
    events: { attribute: false },
    pending: { attribute: false },
    self: { type: String },
    otherDelivered: { type: Number },
    otherRead: { type: Number },
    otherName: { type: String },
    busy: { type: Boolean },
    selfId: { type: String },
    teamNames: { attribute: false },
    unseen: { state: true },
    expanded: { state: true },
  };
  declare events: readonly EventMsg[];
  declare pending: readonly PendingLine[];
  declare self: Role;
  declare otherDelivered: number;
  declare otherRead: number;
  /** Fallback name of the other side (e.g. "Adviser" before one joined). */
  declare otherName: string;
  declare busy: boolean;
  /** Advisers: my id (my internal notes say "You"). */
  declare selfId: string;
  /** Advisers: team id → name, for hand-overs to a team. */
  declare teamNames: ((id: string) => string) | null;
  /** New entries arrived while the reader was scrolled up: the "new messages" hint. */
  declare unseen: boolean;
  /** Runs of device-status lines the reader unfolded (keyed by the run's first seq). */
  declare expanded: ReadonlySet<number>;

  /** The reader is at (or near) the bottom: new entries and resizes keep it there.
   * Kept from the reader's own scrolling, not measured at update time: when the call
   * panel appears or goes, the list's height changes without a scroll event, and a
   * measurement then would wrongly say "scrolled up". */
  private pinned = true;
  private shownCount = 0;
  private readonly resize = new ResizeObserver(() => {
    if (this.pinned) this.toBottom();
  });

  constructor() {
    super();
    this.events = [];
    this.pending = [];
    this.self = "customer";
    this.otherDelivered = 0;
    this.otherRead = 0;
    this.otherName = "";
    this.busy = false;
    this.selfId = "";
    this.teamNames = null;
    this.unseen = false;
    this.expanded = new Set();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener("scroll", this.onScroll, { passive: true });
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener("scroll", this.onScroll);
    this.resize.disconnect();
  }

  private readonly onScroll = (): void => {
    this.pinned = this.scrollHeight - this.scrollTop - this.clientHeight < 48;
    if (this.pinned && this.unseen) this.unseen = false;
  };

  private toBottom(): void {
    this.scrollTop = this.scrollHeight;
  }

  /** The hint's click: to the newest entry, and focus there (the hint goes away). */
  private showNewest(): void {
    this.pinned = true;
    this.unseen = false;
    this.toBottom();
    this.renderRoot.querySelector<HTMLElement>("ol")?.focus({ preventScroll: true });
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        overflow-y: auto;
        overscroll-behavior: contain;
        padding: 0.75rem;
        background: var(--vv-log-bg, #f4f6f8);
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
      }
      li.msg {
        max-width: min(85%, 36rem);
        padding: 0.45rem 0.7rem 0.35rem;
        border-radius: 12px;
        background: #fff;
        border: 1px solid #d5dbe1;
        align-self: flex-start;
      }
      li.msg.own {
        align-self: flex-end;
        background: var(--vv-own-bg, #dcebfa);
        border-color: #b5cfe9;
      }
      .who {
        font-size: 0.78rem;
        font-weight: 700;
        color: var(--vv-muted, #4a5563);
      }
      .text {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        margin: 0.1rem 0;
      }
      .meta {
        display: flex;
        justify-content: flex-end;
        align-items: center;
        gap: 0.25rem;
        font-size: 0.72rem;
        color: var(--vv-muted, #4a5563);
      }
      .meta svg {
        width: 1rem;
        height: 1rem;
        fill: none;
        stroke: currentColor;
        stroke-width: 1.6;
        stroke-linecap: round;
        stroke-linejoin: round;
      }
      .tick-read {
        color: #0b6bcb;
      }
      .tick-failed {
        color: var(--vv-danger, #a4161a);
      }
      li.note {
        align-self: stretch;
        max-width: none;
        padding: 0.4rem 0.7rem;
        border: 2px dashed #b07d00;
        border-radius: 8px;
        background: #fff8e1;
      }
      li.note .note-label {
        font-size: 0.75rem;
        font-weight: 700;
        color: #6b4a00;
      }
      li.note .text {
        font-style: italic;
      }
      ol:focus {
        outline: none;
      }
      li.fold button {
        font-size: 0.78rem;
        padding: 0.1rem 0.4rem;
        min-height: 0;
      }
      .new-wrap {
        position: sticky;
        bottom: 0;
        height: 0;
        display: flex;
        justify-content: center;
        overflow: visible;
      }
      .new-wrap button {
        transform: translateY(calc(-100% - 0.25rem));
        border-radius: 999px;
        box-shadow: 0 1px 4px rgb(0 0 0 / 25%);
        font-size: 0.85rem;
      }
      li.system {
        align-self: center;
        font-size: 0.8rem;
        color: var(--vv-muted, #4a5563);
        text-align: center;
        padding: 0.1rem 0.5rem;
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("events") || changed.has("pending")) {
      const count = this.events.length + this.pending.length;
      // More entries than before while the reader is scrolled up: tell them (a list
      // replaced by a shorter one, another conversation, is nothing new).
      if (!this.pinned && count > this.shownCount && this.shownCount > 0) this.unseen = true;
      this.shownCount = count;
    }
  }

  protected override firstUpdated(): void {
    const list = this.renderRoot.querySelector("ol");
    if (list) this.resize.observe(list);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if ((changed.has("events") || changed.has("pending")) && this.pinned) this.toBottom();
  }

  private tick(seq: number): Tick {
    if (seq <= this.otherRead) return "read";
    if (seq <= this.otherDelivered) return "delivered";
    return "sent";
  }

  /** Mine: my role, and for advisers (a colleague may be in the conversation) my id. */
  private isOwn(ev: EventMsg): boolean {
    return (
      ev.author.role === this.self &&
      (this.self === "customer" || !this.selfId || !ev.author.id || ev.author.id === this.selfId)
    );
  }

  private authorName(ev: EventMsg): string {
    if (this.isOwn(ev)) return tc("you");
    if (ev.author.name) return ev.author.name;
    if (this.otherName) return this.otherName;
    return ev.author.role === "adviser" ? tc("adviser") : tc("customer");
  }

  private systemText(ev: EventMsg): string {
    switch (ev.kind) {
      case "conversation.created":
        return tc("eventCreated");
      case "conversation.accepted": {
        const name =
          typeof ev.body["adviser_name"] === "string" ? ev.body["adviser_name"] : ev.author.name;
        return tc("eventAccepted", { name: name || tc("adviser") });
      }
      case "conversation.ended": {
        const by = ev.body["by"];
        if (by === "customer")
          return tc(this.self === "customer" ? "eventEndedCustomerSelf" : "eventEndedCustomer");
        if (by === "adviser") {
          if (this.bySelf(ev, "adviser")) return tc("eventEndedCustomerSelf");
          if (ev.author.name) return tc("eventEndedBy", { name: ev.author.name });
          return tc("eventEndedAdviser");
        }
        return tc("eventEndedSystem");
      }
      case "consultant.joined":
        return tc("eventConsultantJoined", { name: this.bodyName(ev, "adviser_name") });
      case "consultant.left":
        return tc("eventConsultantLeft", { name: this.bodyName(ev, "adviser_name") });
      case "appointment.moved":
        return tc("eventAppointmentMoved", {
          from: formatWhen(String(ev.body["from"])),
          to: formatWhen(String(ev.body["starts_at"])),
        });
      case "conversation.transferred": {
        const team = ev.body["to_team_id"];
        if (typeof team === "string" && team) {
          return this.self === "customer"
            ? tc("eventTransferredTeamCustomer")
            : tc("eventTransferredTeam", { team: this.teamName(team) });
        }
        const name = this.bodyName(ev, "to_adviser_name");
        return tc(this.self === "customer" ? "eventTransferredToYou" : "eventTransferredTo", {
          name,
        });
      }
      case "call.requested":
        return this.bySelf(ev, ev.body["by"])
          ? tcall("evRequestedSelf", { aKind: callKindA(ev.body["media"]) })
          : tcall("evRequested", { who: this.roleName(ev), aKind: callKindA(ev.body["media"]) });
      case "call.started":
        return tcall("evStarted", { Kind: callKindTitle(ev.body["media"]) });
      case "call.declined": {
        const theKind = callKindThe(this.callMedia(ev.body["call_id"]));
        return this.bySelf(ev, ev.body["by"])
          ? tcall("evDeclinedSelf", { theKind })
          : tcall("evDeclined", { who: this.roleName(ev), theKind });
      }
      case "call.media": {
        const who = this.bySelf(ev, ev.body["role"]) ? tcall("you") : this.roleName(ev);
        const line = tcall("evMedia", {
          who,
          video: tcall(ev.body["video"] === true ? "on" : "off"),
          audio: tcall(ev.body["audio"] === true ? "on" : "off"),
        });
        return ev.body["screen"] === true ? line + tcall("evScreen") : line;
      }
      case "form.opened":
        return tc("eventFormOpened", { title: this.formTitle(ev.body["form_id"]) });
      case "form.submitted":
        return tc("eventFormSubmitted", { title: this.formTitle(ev.body["form_id"]) });
      case "form.confirmed":
        return tc("eventFormConfirmed", { title: this.formTitle(ev.body["form_id"]) });
      case "form.cancelled":
        return tc("eventFormCancelled", { title: this.formTitle(ev.body["form_id"]) });
      case "call.ended": {
        const Kind = callKindTitle(ev.body["media"]);
        if (ev.body["reason"] === "cancelled") return tcall("evCancelled", { Kind });
        return tcall("evEnded", { Kind, duration: formatCallDuration(ev.body["duration_s"]) });
      }
      default: {
        const who = this.isOwn(ev) ? tc("you") : this.roleName(ev);
        return collabLine(ev, who, (id) => this.docInfo(id)) ?? ev.kind;
      }
    }
  }

  /** A document's name and page count, from its document.shared event. */
  private docInfo(id: unknown): { name: string; pages: number } | null {
    for (const ev of this.events) {
      if (ev.kind === "document.shared" && ev.body["document_id"] === id) {
        const pages = ev.body["pages"];
        return {
          name: typeof ev.body["name"] === "string" ? ev.body["name"] : "",
          pages: Array.isArray(pages) ? pages.length : 1,
        };
      }
    }
    return null;
  }

  private bodyName(ev: EventMsg, key: string): string {
    const name = ev.body[key];
    return typeof name === "string" && name ? name : tc("adviser");
  }

  private teamName(id: string): string {
    return this.teamNames?.(id) ?? id;
  }

  /** A call action of mine: my role and, for advisers, my id (after a transfer the
   * previous adviser's call lines are theirs, not "You"). */
  private bySelf(ev: EventMsg, role: unknown): boolean {
    if (role !== this.self) return false;
    return (
      this.self === "customer" || !this.selfId || !ev.author.id || ev.author.id === this.selfId
    );
  }

  /** Who did a call action: the author's name, else the other side's fallback name. */
  private roleName(ev: EventMsg): string {
    if (ev.author.name) return ev.author.name;
    if (ev.author.role !== this.self && this.otherName) return this.otherName;
    return ev.author.role === "adviser" ? tc("adviser") : tc("customer");
  }

  /** A form's title (in the reader's language), from its form.opened event. */
  private formTitle(formId: unknown): string {
    const opened = this.events.find(
      (e) => e.kind === "form.opened" && e.body["form_id"] === formId,
    );
    const title = opened?.body["title"] as Record<string, string> | undefined;
    return title?.[lang()] ?? "";
  }

  /** Advisers download a submitted form from its line (their cookie authorises the
   * GET; customers download in the form itself, with their token). */
  private formLinks(ev: EventMsg) {
    if (this.self !== "adviser" || ev.kind !== "form.submitted") return nothing;
    const id = encodeURIComponent(String(ev.body["form_id"]));
    return html` ·
      <span role="group" aria-label=${tc("formDownloads")}>
        <a href="/api/v1/forms/${id}/pdf?lang=${lang()}" data-testid="form-line-pdf" download
          >${tc("formAsPdf")}</a
        >
        ·
        <a href="/api/v1/forms/${id}" data-testid="form-line-json" download>${tc("formAsJson")}</a>
      </span>`;
  }

  /** A declined call's media, from its call.requested event. */
  private callMedia(callId: unknown): unknown {
    for (let i = this.events.length - 1; i >= 0; i -= 1) {
      const ev = this.events[i];
      if (ev && ev.kind === "call.requested" && ev.body["call_id"] === callId)
        return ev.body["media"];
    }
    return "video";
  }

  private renderNote(ev: EventMsg) {
    if (this.self === "customer") return nothing;
    const text = typeof ev.body["text"] === "string" ? ev.body["text"] : "";
    return html`<li
      class="note"
      data-testid="internal-note"
      data-seq=${ev.seq}
      data-kind=${ev.kind}
    >
      <div class="note-label">${tc("noteLabel")}</div>
      <div class="who">
        ${ev.author.id && ev.author.id === this.selfId ? tc("you") : (ev.author.name ?? tc("adviser"))}
      </div>
      <p class="text">${text}</p>
      <div class="meta"><time datetime=${ev.at}>${formatTime(ev.at)}</time></div>
    </li>`;
  }

  private renderEvent(ev: EventMsg) {
    if (ev.kind === "note.internal") return this.renderNote(ev);
    if (ev.kind === "form.changed") return nothing; // the form shows its fields, the log does not
    if (ev.kind !== "chat.message") {
      return html`<li
        class="system ${ev.kind.startsWith("call.") ? "call" : ""}"
        data-testid="message"
        data-seq=${ev.seq}
        data-author="system"
        data-kind=${ev.kind}
      >
        ${this.systemText(ev)} ·
        <time datetime=${ev.at}>${formatTime(ev.at)}</time>${this.formLinks(ev)}
      </li>`;
    }
    const own = this.isOwn(ev);
    const text = typeof ev.body["text"] === "string" ? ev.body["text"] : "";
    const tick = own ? this.tick(ev.seq) : null;
    return html`<li
      class="msg ${own ? "own" : ""}"
      data-testid="message"
      data-seq=${ev.seq}
      data-author=${ev.author.role}
      data-status=${tick ?? nothing}
    >
      <div class="who">${this.authorName(ev)}</div>
      <p class="text">${text}</p>
      <div class="meta">
        <time datetime=${ev.at}>${formatTime(ev.at)}</time>
        ${
          tick
            ? html`<span
                class="tick-${tick}"
                role="img"
                aria-label=${tickLabel[tick]()}
                title=${tickLabel[tick]()}
                >${tickIcon(tick)}</span
              >`
            : nothing
        }
      </div>
    </li>`;
  }

  private renderPending(item: PendingLine) {
    const tick: Tick = item.failed ? "failed" : "sending";
    return html`<li
      class="msg own"
      data-testid="message"
      data-seq=""
      data-author=${this.self}
      data-status=${tick}
      data-client-id=${item.client_id}
    >
      <div class="who">${tc("you")}</div>
      <p class="text">${item.text}</p>
      <div class="meta">
        <time datetime=${item.at}>${formatTime(item.at)}</time>
        <span
          class="tick-${tick}"
          role="img"
          aria-label=${tickLabel[tick]()}
          title=${tickLabel[tick]()}
          >${tickIcon(tick)}</span
        >
      </div>
    </li>`;
  }

  /** The entries to show: runs of consecutive burst lines (device status, drawing, page
   * turns, the video's controls) are folded to the latest line of each participant and
   * kind, unless the reader unfolded them. */
  private items(): Item[] {
    const out: Item[] = [];
    const evs = this.events;
    for (let i = 0; i < evs.length;) {
      const ev = evs[i]!;
      if (!NOISY_KINDS.has(ev.kind)) {
        out.push({ key: ev.seq, ev });
        i += 1;
        continue;
      }
      let j = i;
      while (j < evs.length && NOISY_KINDS.has(evs[j]!.kind)) j += 1;
      const run = evs.slice(i, j);
      const latest = new Map<string, number>();
      for (const e of run) latest.set(noisyKey(e), e.seq);
      const hidden = run.length - latest.size;
      const first = run[0]!.seq;
      const open = this.expanded.has(first);
      if (hidden > 0) {
        const devices = run.every((e) => e.kind === "call.media");
        out.push({ key: `fold-${first}`, fold: { first, hidden, open, devices } });
      }
      for (const e of run) {
        if (hidden === 0 || open || latest.get(noisyKey(e)) === e.seq)
          out.push({ key: e.seq, ev: e });
      }
      i = j;
    }
    return out;
  }

  private toggleFold(first: number): void {
    const next = new Set(this.expanded);
    if (next.has(first)) next.delete(first);
    else next.add(first);
    this.expanded = next;
  }

  private renderFold(f: Fold) {
    return html`<li class="system fold">
      <button
        type="button"
        class="secondary"
        data-testid="media-fold"
        data-hidden=${f.hidden}
        aria-expanded=${f.open ? "true" : "false"}
        @click=${() => this.toggleFold(f.first)}
      >
        ${
          f.devices
            ? f.open
              ? tc("foldLess")
              : tc("foldMore", { n: f.hidden })
            : f.open
              ? tev("foldLess")
              : f.hidden === 1
                ? tev("foldMoreOne")
                : tev("foldMore", { n: f.hidden })
        }
      </button>
    </li>`;
  }

  override render() {
    // The live region is a wrapper: role="log" on the <ol> itself would take away its
    // list role, and its <li> would be list items outside a list.
    return html`<div
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label=${tc("messages")}
        aria-busy=${this.busy ? "true" : "false"}
        data-testid="message-list"
      >
        <ol tabindex="-1">
          ${repeat(
            this.items(),
            (item) => item.key,
            (item) => (item.fold ? this.renderFold(item.fold) : this.renderEvent(item.ev)),
          )}
          ${repeat(
            this.pending,
            (item) => item.client_id,
            (item) => this.renderPending(item),
          )}
        </ol>
      </div>
      ${
        this.unseen
          ? html`<div class="new-wrap">
              <button type="button" data-testid="new-messages" @click=${this.showNewest}>
                ${tc("newMessages")} <span aria-hidden="true">↓</span>
              </button>
            </div>`
          : nothing
      }`;
  }
}
customElements.define("vv-messages", MessageList);
