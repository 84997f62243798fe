// /book: appointments (R5.6). Free slots grouped by day in the browser's time zone →
// name and e-mail → confirmation (date, adviser, the e-mailed calendar invitation,
// a manage link). The e-mailed manage link (/book?appointment=…&token=…) opens the
// appointment here: move it to another free time of the same adviser (the server
// swaps the slots in one transaction, so the old time stays until the new one is
// booked) or cancel it; after cancelling, another slot can be booked at once.
import "../lib/page.css";
import "./pages.css";
import { html, nothing } from "lit";
import { api, ApiError, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, initLang, lang } from "../lib/i18n";
import { base } from "../lib/styles";
import { carriedParams } from "../customer/params";
import { pageHeader, pageStyles } from "./shell";
import { fieldText } from "../lib/form";
import { strings, t } from "./book-strings";
import {
  bookStyles,
  cancelledView,
  doneView,
  movedView,
  noticeLine,
  slotList,
  timezoneNote,
  whenOf,
  type Booked,
  type Managed,
  type Notice,
  type Slot,
} from "./book-views";

type Step =
  "pick" | "details" | "done" | "manage" | "move" | "confirm-move" | "moved" | "cancelled";

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Cancel id and token from a manage link (`/book?appointment=…&token=…`). */
export function manageParams(url: string): { id: string; token: string } | null {
  try {
    const u = new URL(url, location.origin);
    const id = u.searchParams.get("appointment");
    const token = u.searchParams.get("token");
    return id && token ? { id, token } : null;
  } catch {
    return null;
  }
}

export class BookPage extends I18nElement {
  static override properties = {
    step: { state: true },
    slots: { state: true },
    topics: { state: true },
    topic: { state: true },
    chosen: { state: true },
    notice: { state: true },
    busy: { state: true },
    booked: { state: true },
    current: { state: true },
  };
  declare step: Step;
  declare slots: Slot[] | null;
  declare topics: Topic[];
  declare topic: string;
  declare chosen: Slot | null;
  declare notice: Notice | null;
  declare busy: boolean;
  declare booked: Booked | null;
  /** The appointment of the manage link; null while loading (or if the link is bad). */
  declare current: Managed | null;

  private readonly adviserId: string;
  private manage: { id: string; token: string } | null;

  constructor() {
    super();
    const params = new URLSearchParams(location.search);
    this.adviserId = params.get("adviser") ?? "";
    this.topic = params.get("topic") ?? "";
    this.manage = manageParams(location.href);
    this.step = this.manage ? "manage" : "pick";
    this.slots = null;
    this.topics = [];
    this.chosen = null;
    this.notice = null;
    this.busy = false;
    this.booked = null;
    this.current = null;
  }

  static override styles = [base, pageStyles, bookStyles];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.step === "pick") void this.loadSlots();
    if (this.step === "manage") void this.loadManaged();
    void api<{ topics: Topic[] }>("GET", "/api/v1/topics").then(
      (r) => (this.topics = r.topics ?? []),
      () => undefined,
    );
  }

  private async loadSlots(): Promise<void> {
    const q = new URLSearchParams();
    // Moving: only the same adviser's times (the server refuses others).
    const adviser = this.step === "move" ? (this.current?.adviser_id ?? "") : this.adviserId;
    if (this.topic && this.step !== "move") q.set("topic", this.topic);
    if (adviser) q.set("adviser_id", adviser);
    try {
      this.slots = (await api<{ slots: Slot[] }>("GET", `/api/v1/slots?${q}`)).slots ?? [];
    } catch (err) {
      this.slots = [];
      this.notice = {
        code: err instanceof ApiError ? err.code : "network",
        text: errorText(err instanceof ApiError ? err.code : "network"),
      };
    }
  }

  private manageUrl(m: { id: string; token: string }): string {
    return `/api/v1/appointments/${encodeURIComponent(m.id)}`;
  }

  /** The manage link's appointment as it is now (another tab may have moved it). */
  private async loadManaged(): Promise<void> {
    const m = this.manage;
    if (!m) return;
    this.current = null;
    this.notice = null;
    try {
      const r = await api<{ appointment: Managed }>(
        "GET",
        `${this.manageUrl(m)}?token=${encodeURIComponent(m.token)}`,
      );
      this.current = r.appointment;
      this.focusOn("#manage-title");
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      this.notice = { code, text: code === "not_found" ? t("manageInvalid") : errorText(code) };
    }
  }

  private startMove(): void {
    this.step = "move";
    this.chosen = null;
    this.notice = null;
    this.slots = null;
    void this.loadSlots();
    this.focusOn("#move-title");
  }

  private chooseNewTime(slot: Slot): void {
    this.chosen = slot;
    this.notice = null;
    this.step = "confirm-move";
    this.focusOn("[data-testid=book-move-submit]");
  }

  private backToManage(): void {
    this.step = "manage";
    this.chosen = null;
    void this.loadManaged();
  }

  private async moveTo(): Promise<void> {
    const m = this.manage;
    const slot = this.chosen;
    if (!m || !slot || this.busy) return;
    this.busy = true;
    this.notice = null;
    try {
      this.booked = await api<Booked>("POST", `${this.manageUrl(m)}/rebook`, {
        token: m.token,
        slot_id: slot.id,
      });
      this.step = "moved";
      this.focusOn("[data-testid=book-moved]");
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      if (code === "slot_taken" || code === "not_found") {
        // Someone was faster: the old time is kept; back to a fresh list.
        this.startMove();
        this.notice = { code, text: code === "slot_taken" ? t("moveTaken") : t("err_not_found") };
      } else if (code === "invalid_state") {
        // Cancelled or begun meanwhile (e.g. in another tab): show it as it is now.
        this.backToManage();
      } else {
        this.notice = { code, text: t("moveFailed", { reason: errorText(code) }) };
      }
    } finally {
      this.busy = false;
    }
  }

  private focusOn(sel: string): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(sel)?.focus());
  }

  private choose(slot: Slot): void {
    this.chosen = slot;
    this.notice = null;
    this.step = "details";
    this.focusOn("#name");
  }

  private backToSlots(): void {
    this.step = "pick";
    this.chosen = null;
    void this.loadSlots();
  }

  private async book(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy || !this.chosen) return;
    const data = new FormData(e.target as HTMLFormElement);
    const name = fieldText(data, "name").trim();
    const email = fieldText(data, "email").trim();
    if (!name) {
      this.notice = { code: "bad_request", text: t("needName") };
      this.focusOn("#name");
      return;
    }
    if (!EMAIL_RE.test(email)) {
      this.notice = { code: "bad_request", text: t("needEmail") };
      this.focusOn("#email");
      return;
    }
    const body: Record<string, unknown> = {
      slot_id: this.chosen.id,
      customer_name: name.slice(0, 80),
      email,
      language: lang(),
    };
    if (this.topic) body["topic"] = this.topic;
    this.busy = true;
    this.notice = null;
    try {
      this.booked = await api<Booked>("POST", "/api/v1/appointments", body);
      this.manage = manageParams(this.booked.manage_url);
      this.step = "done";
      this.focusOn(".done");
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      const key = `err_${code}` as keyof typeof strings;
      this.notice = { code, text: key in strings ? t(key) : errorText(code) };
      if (code === "slot_taken" || code === "not_found") {
        // Someone else was faster: back to the (fresh) list, keep the message.
        const notice = this.notice;
        this.backToSlots();
        this.notice = notice;
      }
    } finally {
      this.busy = false;
    }
  }

  private async cancel(): Promise<void> {
    const m = this.manage;
    if (!m || this.busy) return;
    this.busy = true;
    this.notice = null;
    try {
      await api("DELETE", `${this.manageUrl(m)}?token=${encodeURIComponent(m.token)}`);
      this.step = "cancelled";
      this.booked = null;
      this.manage = null;
      // The link has done its job: keep its token out of the address bar and the history.
      const url = new URL(location.href);
      url.searchParams.delete("appointment");
      url.searchParams.delete("token");
      history.replaceState(null, "", url);
      this.focusOn("[data-testid=book-cancelled]");
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      if (code === "invalid_state") {
        // Cancelled or begun meanwhile (e.g. in another tab): show it as it is now.
        this.backToManage();
        return;
      }
      this.notice = { code, text: t("cancelFailed", { reason: errorText(code) }) };
    } finally {
      this.busy = false;
    }
  }

  private renderPick() {
    const slots = this.slots;
    return html`<p>${t("intro")}</p>
      ${
        this.adviserId
          ? nothing
          : html`<div class="field-topic">
              <label for="topic">${t("topic")}</label>
              <select
                id="topic"
                data-testid="book-topic"
                @change=${(e: Event) => {
                  this.topic = (e.target as HTMLSelectElement).value;
                  this.slots = null;
                  void this.loadSlots();
                }}
              >
                <option value="">${t("anyTopic")}</option>
                ${this.topics.map(
                  (tp) =>
                    html`<option value=${tp.id} ?selected=${tp.id === this.topic}>
                      ${lang() === "de" ? tp.label_de : tp.label_en}
                    </option>`,
                )}
              </select>
            </div>`
      }
      ${timezoneNote()} ${noticeLine(this.notice)}
      ${
        slots === null
          ? html`<p class="muted" role="status">${t("loading")}</p>`
          : slots.length === 0
            ? html`<p data-testid="book-empty">${t("noSlots")}</p>`
            : slotList(slots, (s) => this.choose(s))
      }`;
  }

  private renderDetails() {
    const s = this.chosen;
    if (!s) return nothing;
    return html`<p class="chosen" data-testid="book-chosen">
        ${t("chosen", { when: whenOf(s), adviser: s.adviser_name ?? "" })}
      </p>
      <p>
        <button
          type="button"
          class="secondary"
          data-testid="book-change"
          @click=${this.backToSlots}
        >
          ${t("change")}
        </button>
      </p>
      <form @submit=${this.book} novalidate aria-labelledby="page-title">
        <div class="field">
          <label for="name">${t("name")}</label>
          <input
            id="name"
            name="name"
            type="text"
            autocomplete="name"
            maxlength="80"
            required
            data-testid="book-name"
          />
        </div>
        <div class="field">
          <label for="email">${t("email")}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            maxlength="254"
            required
            aria-describedby="email-hint"
            data-testid="book-email"
          />
          <p class="muted" id="email-hint">${t("emailHint")}</p>
        </div>
        ${noticeLine(this.notice)}
        <button type="submit" data-testid="book-submit" ?disabled=${this.busy}>
          ${this.busy ? t("booking") : t("book")}
        </button>
      </form>`;
  }

  private renderManage() {
    const a = this.current;
    if (!a) {
      return this.notice
        ? html`${noticeLine(this.notice)}
            <p>
              <button type="button" data-testid="book-rebook" @click=${this.bookAnew}>
                ${t("bookAgain")}
              </button>
            </p>`
        : html`<p class="muted" role="status">${t("manageLoading")}</p>`;
    }
    const when = a.start && a.end ? whenOf({ start: a.start, end: a.end }) : "";
    const details = when
      ? html`<dl>
          <dt>${t("doneWhen")}</dt>
          <dd data-testid="book-manage-when" data-start=${a.start ?? ""}>${when}</dd>
          <dt>${t("doneWith")}</dt>
          <dd data-testid="book-manage-adviser">${a.adviser_name ?? ""}</dd>
        </dl>`
      : nothing;
    if (a.state !== "booked") {
      const text =
        a.state === "cancelled"
          ? t("stateCancelled")
          : a.state === "begun"
            ? t("stateBegun")
            : t("stateOver");
      return html`<div class="manage" data-testid="book-manage" data-state=${a.state}>
          <h2 id="manage-title" tabindex="-1">${t("manageTitle")}</h2>
          ${details}
          <p data-testid="book-state">${text}</p>
        </div>
        ${
          a.state === "begun"
            ? nothing
            : html`<p>
                <button type="button" data-testid="book-rebook" @click=${this.bookAnew}>
                  ${t("bookAgain")}
                </button>
              </p>`
        }`;
    }
    return html`<div class="manage" data-testid="book-manage" data-state=${a.state}>
        <h2 id="manage-title" tabindex="-1">${t("manageTitle")}</h2>
        ${details}
        <p>
          <button
            type="button"
            data-testid="book-move"
            ?disabled=${this.busy}
            @click=${this.startMove}
          >
            ${t("move")}
          </button>
        </p>
      </div>
      <h2>${t("cancelTitle")}</h2>
      <p>${t("cancelIntro")}</p>
      ${noticeLine(this.notice)}
      <p class="row">
        <button
          type="button"
          class="danger solid"
          data-testid="book-cancel"
          ?disabled=${this.busy}
          @click=${this.cancel}
        >
          ${this.busy ? t("cancelling") : t("cancelYes")}
        </button>
      </p>`;
  }

  private renderMove() {
    const a = this.current;
    if (!a?.start || !a.end) return nothing;
    const slots = this.slots;
    const adviser = a.adviser_name ?? "";
    return html`<h2 id="move-title" tabindex="-1">${t("moveTitle")}</h2>
      <p data-testid="book-move-intro">
        ${t("moveIntro", { adviser, when: whenOf({ start: a.start, end: a.end }) })}
      </p>
      ${timezoneNote()} ${noticeLine(this.notice)}
      ${
        slots === null
          ? html`<p class="muted" role="status">${t("loading")}</p>`
          : slots.length === 0
            ? html`<p data-testid="book-empty">${t("moveNone", { adviser })}</p>`
            : slotList(slots, (s) => this.chooseNewTime(s))
      }
      <p>
        <button
          type="button"
          class="secondary"
          data-testid="book-move-back"
          @click=${this.backToManage}
        >
          ${t("back")}
        </button>
      </p>`;
  }

  private renderConfirmMove() {
    const a = this.current;
    const s = this.chosen;
    if (!a?.start || !a.end || !s) return nothing;
    return html`<h2 id="move-title">${t("moveTitle")}</h2>
      <div class="move" aria-busy=${this.busy ? "true" : "false"}>
        <dl>
          <dt>${t("moveFrom")}</dt>
          <dd><s>${whenOf({ start: a.start, end: a.end })}</s></dd>
          <dt>${t("moveTo")}</dt>
          <dd class="new" data-testid="book-move-new">${whenOf(s)}</dd>
          <dt>${t("doneWith")}</dt>
          <dd>${s.adviser_name ?? ""}</dd>
        </dl>
      </div>
      ${noticeLine(this.notice)}
      <p class="progress muted" role="status" data-testid="book-progress">
        ${this.busy ? t("moving") : ""}
      </p>
      <p class="row">
        <button
          type="button"
          data-testid="book-move-submit"
          ?disabled=${this.busy}
          @click=${this.moveTo}
        >
          ${this.busy ? t("moving") : t("moveConfirm")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="book-move-back"
          ?disabled=${this.busy}
          @click=${this.startMove}
        >
          ${t("back")}
        </button>
      </p>`;
  }

  /** From a spent or bad manage link to a fresh booking. */
  private bookAnew(): void {
    this.manage = null;
    this.current = null;
    this.notice = null;
    const url = new URL(location.href);
    url.searchParams.delete("appointment");
    url.searchParams.delete("token");
    history.replaceState(null, "", url);
    this.backToSlots();
  }

  override render() {
    const title = this.manage ? t("managePage") : t("title");
    document.title = title;
    const views: Record<Step, () => unknown> = {
      pick: () => this.renderPick(),
      details: () => this.renderDetails(),
      done: () => (this.booked ? doneView(this.booked) : nothing),
      manage: () => this.renderManage(),
      move: () => this.renderMove(),
      "confirm-move": () => this.renderConfirmMove(),
      moved: () => (this.booked ? movedView(this.booked, () => this.backToManage()) : nothing),
      cancelled: () => cancelledView(() => this.backToSlots()),
    };
    const body = views[this.step]();
    return html`${pageHeader(title, html`<a href=${`/chat?${carriedParams()}`}>${t("toChat")}</a>`)}
      <main class="page" data-step=${this.step}>${body}</main>`;
  }
}
customElements.define("vv-book-page", BookPage);
initLang();
