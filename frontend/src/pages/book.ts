// /book: appointments (R5.6). Free slots grouped by day in the browser's time zone →
// name and e-mail → confirmation (date, adviser, the e-mailed calendar invitation,
// a manage link). The e-mailed manage link (/book?appointment=…&token=…) opens the
// appointment here: move it to another free time of the same adviser (the server
// swaps the slots in one transaction, so the old time stays until the new one is
// booked) or cancel it; after cancelling, another slot can be booked at once.
import "../lib/page.css";
import "./pages.css";
import { css, html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { api, ApiError, type Topic } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, initLang, lang, translator, type Strings } from "../lib/i18n";
import { base } from "../lib/styles";
import { carriedParams } from "../customer/params";
import { pageHeader, pageStyles } from "./shell";
import { fieldText } from "../lib/form";

const strings = {
  title: ["Termin buchen", "Book an appointment"],
  managePage: ["Termin verwalten", "Manage your appointment"],
  intro: [
    "Wählen Sie einen freien Termin für eine Video- oder Chatberatung. Sie erhalten eine E-Mail mit Kalendereinladung und dem Link zum Gespräch.",
    "Choose a free slot for a video or chat consultation. You will get an e-mail with a calendar invitation and the link to the conversation.",
  ],
  topic: ["Thema (freiwillig)", "Topic (optional)"],
  anyTopic: ["– alle –", "– any –"],
  timezone: ["Zeiten in Ihrer Zeitzone ({tz}).", "Times in your time zone ({tz})."],
  loading: ["Lade freie Termine …", "Loading free slots…"],
  noSlots: [
    "Zurzeit sind keine Termine frei. Bitte schauen Sie später wieder vorbei.",
    "No free slots at the moment. Please check again later.",
  ],
  slotLabel: ["{day}, {from}–{to} mit {adviser}", "{day}, {from}–{to} with {adviser}"],
  chosen: ["Ihr Termin: {when} mit {adviser}", "Your appointment: {when} with {adviser}"],
  change: ["Anderen Termin wählen", "Choose another slot"],
  name: ["Ihr Name", "Your name"],
  email: ["Ihre E-Mail-Adresse", "Your e-mail address"],
  emailHint: [
    "Dorthin schicken wir die Einladung und den Link.",
    "We send the invitation and the link there.",
  ],
  book: ["Verbindlich buchen", "Book now"],
  booking: ["Buche …", "Booking…"],
  needName: ["Bitte geben Sie Ihren Namen an.", "Please give your name."],
  needEmail: [
    "Bitte geben Sie eine gültige E-Mail-Adresse an.",
    "Please give a valid e-mail address.",
  ],
  err_slot_taken: [
    "Dieser Termin wurde gerade vergeben. Bitte wählen Sie einen anderen.",
    "Someone was faster and took this slot. Please choose another one.",
  ],
  err_bad_request: [
    "Bitte prüfen Sie Ihre Angaben (E-Mail-Adresse?).",
    "Please check your details (e-mail address?).",
  ],
  err_invalid_state: [
    "Terminbuchung ist gerade nicht möglich (E-Mail-Versand nicht eingerichtet).",
    "Booking is not possible right now (e-mail is not set up).",
  ],
  err_mail_failed: [
    "Die Bestätigung konnte nicht verschickt werden – der Termin wurde nicht gebucht. Bitte versuchen Sie es erneut.",
    "The confirmation could not be sent – nothing was booked. Please try again.",
  ],
  err_not_found: [
    "Diesen Termin gibt es nicht mehr. Bitte wählen Sie einen anderen.",
    "This slot no longer exists. Please choose another one.",
  ],
  doneTitle: ["Ihr Termin ist gebucht", "Your appointment is booked"],
  doneWhen: ["Wann", "When"],
  doneWith: ["Mit", "With"],
  doneMail: [
    "Wir haben Ihnen eine E-Mail mit einer Kalendereinladung (.ics) geschickt. Öffnen Sie den Anhang, um den Termin in Ihren Kalender zu übernehmen. Zur Terminzeit öffnen Sie einfach den Link aus der E-Mail.",
    "We have sent you an e-mail with a calendar invitation (.ics). Open the attachment to add the appointment to your calendar. At the time, just open the link in the e-mail.",
  ],
  cancelLink: ["Termin verschieben oder absagen", "Move or cancel the appointment"],
  cancelTitle: ["Termin absagen", "Cancel your appointment"],
  cancelIntro: [
    "Möchten Sie Ihren Termin wirklich absagen? Der Termin wird wieder freigegeben.",
    "Do you really want to cancel your appointment? The slot becomes free again.",
  ],
  cancelYes: ["Ja, Termin absagen", "Yes, cancel it"],
  cancelling: ["Sage ab …", "Cancelling…"],
  cancelled: [
    "Ihr Termin ist abgesagt. Sie erhalten eine Bestätigung per E-Mail.",
    "Your appointment is cancelled. You will get a confirmation by e-mail.",
  ],
  cancelFailed: [
    "Der Termin konnte nicht abgesagt werden: {reason}",
    "The appointment could not be cancelled: {reason}",
  ],
  bookAgain: ["Neuen Termin buchen", "Book another appointment"],
  toChat: ["Zum Chat", "To the chat"],
  manageTitle: ["Ihr Termin", "Your appointment"],
  manageLoading: ["Lade Ihren Termin …", "Loading your appointment…"],
  manageInvalid: [
    "Dieser Link ist ungültig, oder den Termin gibt es nicht mehr.",
    "This link is not valid, or the appointment no longer exists.",
  ],
  stateCancelled: ["Dieser Termin wurde abgesagt.", "This appointment was cancelled."],
  stateBegun: [
    "Dieser Termin hat bereits begonnen und lässt sich nicht mehr verschieben oder absagen. Öffnen Sie den Link aus der E-Mail, um zum Gespräch zu kommen.",
    "This appointment has already begun and can no longer be moved or cancelled. Open the link in the e-mail to join the conversation.",
  ],
  stateOver: ["Dieser Termin ist vorbei.", "This appointment is over."],
  move: ["Auf eine andere Zeit verschieben", "Move to another time"],
  moveTitle: ["Neue Zeit wählen", "Choose a new time"],
  moveIntro: [
    "Freie Zeiten bei {adviser}. Ihr jetziger Termin ({when}) bleibt bestehen, bis der neue gebucht ist.",
    "Free times with {adviser}. Your current appointment ({when}) stays until the new one is booked.",
  ],
  moveNone: [
    "{adviser} hat zurzeit keine anderen freien Zeiten. Ihr Termin bleibt, wie er ist.",
    "{adviser} has no other free times at the moment. Your appointment stays as it is.",
  ],
  moveFrom: ["Bisher", "Before"],
  moveTo: ["Neu", "New"],
  moveConfirm: ["Termin verschieben", "Move the appointment"],
  moving: ["Verschiebe Ihren Termin …", "Moving your appointment…"],
  back: ["Zurück", "Back"],
  movedTitle: ["Ihr Termin ist verschoben", "Your appointment has moved"],
  movedMail: [
    "Wir haben Ihnen und {adviser} eine aktualisierte Kalendereinladung geschickt; Ihr Kalender ersetzt damit den alten Eintrag. Der Link zum Gespräch aus Ihrer E-Mail gilt weiter – zur neuen Zeit.",
    "We have sent you and {adviser} an updated calendar invitation; your calendar replaces the old entry with it. The link to the conversation in your e-mail keeps working – at the new time.",
  ],
  movedNoMail: [
    "Die E-Mail mit der neuen Zeit konnte nicht verschickt werden. Ihr Termin ist trotzdem verschoben – bitte notieren Sie sich die neue Zeit. Der Link zum Gespräch aus Ihrer E-Mail gilt weiter.",
    "The e-mail with the new time could not be sent. Your appointment has moved all the same – please note the new time. The link to the conversation in your e-mail keeps working.",
  ],
  moveTaken: [
    "Diese Zeit wurde gerade vergeben. Ihr bisheriger Termin bleibt bestehen – bitte wählen Sie eine andere.",
    "Someone was faster and took this time. Your current appointment stays as it is – please choose another one.",
  ],
  moveFailed: [
    "Der Termin konnte nicht verschoben werden: {reason}",
    "The appointment could not be moved: {reason}",
  ],
  manageAgain: ["Termin verschieben oder absagen", "Move or cancel the appointment"],
} as const satisfies Strings;
const t = translator(strings);

interface Slot {
  id: string;
  adviser_id: string;
  adviser_name: string | null;
  start: string;
  end: string;
}

interface Booked {
  appointment: {
    id: string;
    start: string;
    end: string;
    adviser_id: string;
    adviser_name: string | null;
  };
  manage_url: string;
  /** Rebooking only: false if the update mails could not be sent (the move stands). */
  mailed?: boolean;
}

/** `GET /api/v1/appointments/{id}?token=`: the appointment as it is now. */
interface Managed {
  id: string;
  state: "booked" | "begun" | "over" | "cancelled";
  start: string | null;
  end: string | null;
  adviser_id: string | null;
  adviser_name: string | null;
}

type Step =
  "pick" | "details" | "done" | "manage" | "move" | "confirm-move" | "moved" | "cancelled";

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function fmt(iso: string, opts: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", opts).format(new Date(iso));
}
const dayOf = (iso: string) =>
  fmt(iso, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const timeOf = (iso: string) => fmt(iso, { hour: "2-digit", minute: "2-digit" });
const whenOf = (s: { start: string; end: string }) =>
  `${dayOf(s.start)}, ${timeOf(s.start)}–${timeOf(s.end)}`;

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
  declare notice: { code: string; text: string } | null;
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

  static override styles = [
    base,
    pageStyles,
    css`
      main.page {
        max-width: 40rem;
      }
      h2 {
        font-size: 1.1rem;
      }
      h3 {
        font-size: 0.98rem;
        margin: 1rem 0 0.4rem;
      }
      ul.times {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
      }
      ul.times button {
        background: #fff;
        color: var(--vv-primary, #0b57a4);
        font-variant-numeric: tabular-nums;
      }
      ul.times button:hover {
        background: #eef4fb;
      }
      ul.times .who {
        font-weight: 400;
        font-size: 0.85rem;
      }
      .field {
        margin-bottom: 0.9rem;
      }
      .chosen,
      .done {
        padding: 0.75rem;
        border-radius: 8px;
        background: #eef4fb;
        border: 1px solid #c6d9ee;
      }
      .done {
        background: #e8f3ea;
        border-color: #b9d9c0;
      }
      .done dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.2rem 0.75rem;
        margin: 0.5rem 0;
      }
      .done dt {
        font-weight: 700;
      }
      .done dd {
        margin: 0;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .field-topic {
        max-width: 20rem;
        margin-bottom: 0.5rem;
      }
      .manage,
      .move {
        padding: 0.75rem;
        border-radius: 8px;
        border: 1px solid #c6d9ee;
        margin-bottom: 1rem;
      }
      .manage dl,
      .move dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.2rem 0.75rem;
        margin: 0.5rem 0;
      }
      .manage dt,
      .move dt {
        font-weight: 700;
      }
      .manage dd,
      .move dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .move dd.new {
        font-weight: 700;
      }
      .progress {
        min-height: 1.4em;
        margin: 0.5rem 0;
      }
    `,
  ];

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

  private renderNotice() {
    return this.notice
      ? html`<p
          class="status-line"
          role="alert"
          data-testid="book-error"
          data-code=${this.notice.code}
        >
          ${this.notice.text}
        </p>`
      : nothing;
  }

  private renderSlotList(slots: Slot[], pick: (s: Slot) => void) {
    const days = new Map<string, Slot[]>();
    for (const s of slots) {
      const key = dayOf(s.start);
      days.set(key, [...(days.get(key) ?? []), s]);
    }
    return repeat(
      [...days.entries()],
      ([day]) => day,
      ([day, list]) =>
        html`<section aria-label=${day}>
          <h3>${day}</h3>
          <ul class="times" data-testid="book-day">
            ${list.map(
              (s) =>
                html`<li>
                  <button
                    type="button"
                    class="secondary"
                    data-testid="book-slot"
                    data-slot-id=${s.id}
                    data-start=${s.start}
                    aria-label=${t("slotLabel", { day, from: timeOf(s.start), to: timeOf(s.end), adviser: s.adviser_name ?? "" })}
                    @click=${() => pick(s)}
                  >
                    ${timeOf(s.start)}–${timeOf(s.end)}
                    ${s.adviser_name ? html`<span class="who">&nbsp;· ${s.adviser_name}</span>` : nothing}
                  </button>
                </li>`,
            )}
          </ul>
        </section>`,
    );
  }

  private timezoneNote() {
    return html`<p class="muted">
      ${t("timezone", { tz: Intl.DateTimeFormat().resolvedOptions().timeZone })}
    </p>`;
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
      ${this.timezoneNote()} ${this.renderNotice()}
      ${
        slots === null
          ? html`<p class="muted" role="status">${t("loading")}</p>`
          : slots.length === 0
            ? html`<p data-testid="book-empty">${t("noSlots")}</p>`
            : this.renderSlotList(slots, (s) => this.choose(s))
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
        ${this.renderNotice()}
        <button type="submit" data-testid="book-submit" ?disabled=${this.busy}>
          ${this.busy ? t("booking") : t("book")}
        </button>
      </form>`;
  }

  /** When and with whom: after booking and after moving. */
  private renderWhenWith(a: Booked["appointment"]) {
    return html`<dl>
      <dt>${t("doneWhen")}</dt>
      <dd data-testid="book-done-when">${whenOf(a)}</dd>
      <dt>${t("doneWith")}</dt>
      <dd data-testid="book-done-adviser">${a.adviser_name ?? ""}</dd>
    </dl>`;
  }

  private renderDone() {
    const b = this.booked;
    if (!b) return nothing;
    const a = b.appointment;
    return html`<div
        class="done"
        role="status"
        tabindex="-1"
        data-testid="book-done"
        data-appointment-id=${a.id}
      >
        <h2>${t("doneTitle")}</h2>
        ${this.renderWhenWith(a)}
        <p>${t("doneMail")}</p>
      </div>
      <p class="row">
        <a href=${b.manage_url} data-testid="book-cancel-link">${t("cancelLink")}</a>
      </p>`;
  }

  private renderManage() {
    const a = this.current;
    if (!a) {
      return this.notice
        ? html`${this.renderNotice()}
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
      ${this.renderNotice()}
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
      ${this.timezoneNote()} ${this.renderNotice()}
      ${
        slots === null
          ? html`<p class="muted" role="status">${t("loading")}</p>`
          : slots.length === 0
            ? html`<p data-testid="book-empty">${t("moveNone", { adviser })}</p>`
            : this.renderSlotList(slots, (s) => this.chooseNewTime(s))
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
      ${this.renderNotice()}
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

  private renderMoved() {
    const b = this.booked;
    if (!b) return nothing;
    const a = b.appointment;
    return html`<div
        class="done"
        role="status"
        tabindex="-1"
        data-testid="book-moved"
        data-appointment-id=${a.id}
      >
        <h2>${t("movedTitle")}</h2>
        ${this.renderWhenWith(a)}
        <p data-testid="book-moved-mail" data-mailed=${b.mailed === false ? "false" : "true"}>
          ${b.mailed === false ? t("movedNoMail") : t("movedMail", { adviser: a.adviser_name ?? "" })}
        </p>
      </div>
      <p>
        <button
          type="button"
          class="secondary"
          data-testid="book-manage-again"
          @click=${this.backToManage}
        >
          ${t("manageAgain")}
        </button>
      </p>`;
  }

  private renderCancelled() {
    return html`<p class="done" role="status" tabindex="-1" data-testid="book-cancelled">
        ${t("cancelled")}
      </p>
      <p>
        <button type="button" data-testid="book-rebook" @click=${this.backToSlots}>
          ${t("bookAgain")}
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
      done: () => this.renderDone(),
      manage: () => this.renderManage(),
      move: () => this.renderMove(),
      "confirm-move": () => this.renderConfirmMove(),
      moved: () => this.renderMoved(),
      cancelled: () => this.renderCancelled(),
    };
    const body = views[this.step]();
    return html`${pageHeader(title, html`<a href=${`/chat?${carriedParams()}`}>${t("toChat")}</a>`)}
      <main class="page" data-step=${this.step}>${body}</main>`;
  }
}
customElements.define("vv-book-page", BookPage);
initLang();
