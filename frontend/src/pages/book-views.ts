// The booking page's data (slots, appointments), how times read, its styles, and the
// parts of it that only show data: the free times by day, the confirmation, the moved
// and cancelled notes, an error line.
import { css, html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { lang } from "../lib/i18n";
import { t } from "./book-strings";

export interface Slot {
  id: string;
  adviser_id: string;
  adviser_name: string | null;
  start: string;
  end: string;
}

export interface Booked {
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
export interface Managed {
  id: string;
  state: "booked" | "begun" | "over" | "cancelled";
  start: string | null;
  end: string | null;
  adviser_id: string | null;
  adviser_name: string | null;
}

function fmt(iso: string, opts: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", opts).format(new Date(iso));
}
export const dayOf = (iso: string) =>
  fmt(iso, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
export const timeOf = (iso: string) => fmt(iso, { hour: "2-digit", minute: "2-digit" });
export const whenOf = (s: { start: string; end: string }) =>
  `${dayOf(s.start)}, ${timeOf(s.start)}–${timeOf(s.end)}`;

export interface Notice {
  code: string;
  text: string;
}

export function noticeLine(notice: Notice | null) {
  return notice
    ? html`<p class="status-line" role="alert" data-testid="book-error" data-code=${notice.code}>
        ${notice.text}
      </p>`
    : nothing;
}

/** Free times grouped by day in the browser's time zone; `pick` chooses one. */
export function slotList(slots: Slot[], pick: (s: Slot) => void) {
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

export function timezoneNote() {
  return html`<p class="muted">
    ${t("timezone", { tz: Intl.DateTimeFormat().resolvedOptions().timeZone })}
  </p>`;
}

/** When and with whom: after booking and after moving. */
export function whenWith(a: Booked["appointment"]) {
  return html`<dl>
    <dt>${t("doneWhen")}</dt>
    <dd data-testid="book-done-when">${whenOf(a)}</dd>
    <dt>${t("doneWith")}</dt>
    <dd data-testid="book-done-adviser">${a.adviser_name ?? ""}</dd>
  </dl>`;
}

/** Booked: when, with whom, the mail, and the link to move or cancel it. */
export function doneView(b: Booked) {
  const a = b.appointment;
  return html`<div
      class="done"
      role="status"
      tabindex="-1"
      data-testid="book-done"
      data-appointment-id=${a.id}
    >
      <h2>${t("doneTitle")}</h2>
      ${whenWith(a)}
      <p>${t("doneMail")}</p>
    </div>
    <p class="row">
      <a href=${b.manage_url} data-testid="book-cancel-link">${t("cancelLink")}</a>
    </p>`;
}

/** Moved: the new time, whether the mails went out; back to managing it. */
export function movedView(b: Booked, manageAgain: () => void) {
  const a = b.appointment;
  return html`<div
      class="done"
      role="status"
      tabindex="-1"
      data-testid="book-moved"
      data-appointment-id=${a.id}
    >
      <h2>${t("movedTitle")}</h2>
      ${whenWith(a)}
      <p data-testid="book-moved-mail" data-mailed=${b.mailed === false ? "false" : "true"}>
        ${b.mailed === false ? t("movedNoMail") : t("movedMail", { adviser: a.adviser_name ?? "" })}
      </p>
    </div>
    <p>
      <button type="button" class="secondary" data-testid="book-manage-again" @click=${manageAgain}>
        ${t("manageAgain")}
      </button>
    </p>`;
}

export function cancelledView(bookAgain: () => void) {
  return html`<p class="done" role="status" tabindex="-1" data-testid="book-cancelled">
      ${t("cancelled")}
    </p>
    <p>
      <button type="button" data-testid="book-rebook" @click=${bookAgain}>${t("bookAgain")}</button>
    </p>`;
}

export const bookStyles = css`
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
`;
