// "My slots" (R5.6): the adviser offers bookable times (POST /api/v1/slots with ISO
// 8601 times carrying the browser's offset) and removes free ones; booked ones show
// as booked. Listed by week and day in the adviser's own time zone.
import { css, html, nothing } from "lit";
import { api, ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText, lang } from "../lib/i18n";
import { base } from "../lib/styles";
import { tw } from "./ways-strings";
import { fieldText } from "../lib/form";

export interface MySlot {
  id: string;
  adviser_id: string;
  adviser_name: string | null;
  start: string;
  end: string;
  booked?: boolean;
}

const LENGTHS = [15, 30, 45, 60, 90];

/** Local date + time → ISO 8601 with this browser's UTC offset ("…T09:00:00+01:00"). */
export function isoWithOffset(d: Date): string {
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:00${sign}${pad(off / 60)}:${pad(off % 60)}`
  );
}

function localDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function fmt(d: Date, opts: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(lang() === "de" ? "de-DE" : "en-GB", opts).format(d);
}

function weekStart(d: Date): Date {
  const w = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  w.setDate(w.getDate() - ((w.getDay() + 6) % 7)); // Monday
  return w;
}

export class SlotsView extends I18nElement {
  static override properties = {
    csrf: { type: String },
    slots: { state: true },
    busy: { state: true },
    notice: { state: true },
  };
  declare csrf: string;
  declare slots: MySlot[] | null;
  declare busy: boolean;
  declare notice: { code: string; text: string } | null;

  constructor() {
    super();
    this.csrf = "";
    this.slots = null;
    this.busy = false;
    this.notice = null;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        padding: 1rem;
        max-width: 46rem;
        overflow-y: auto;
      }
      h2 {
        font-size: 1.15rem;
        margin: 0 0 0.3rem;
      }
      h3 {
        font-size: 1rem;
        margin: 1.1rem 0 0.3rem;
      }
      h4 {
        font-size: 0.92rem;
        margin: 0.6rem 0 0.25rem;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem;
        align-items: flex-end;
        padding: 0.75rem;
        border: 1px solid #c9d1da;
        border-radius: 8px;
        background: #f7f9fb;
      }
      form div {
        min-width: 8rem;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        padding: 0.25rem 0;
        border-bottom: 1px solid #eef1f4;
        font-variant-numeric: tabular-nums;
      }
      li .time {
        min-width: 7.5rem;
        font-weight: 600;
      }
      li .state {
        flex: 1;
      }
      li[data-booked] .state {
        color: #1e7b34;
        font-weight: 700;
      }
      li button {
        min-height: 2rem;
        padding: 0.2rem 0.6rem;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.slots = (await api<{ slots: MySlot[] }>("GET", "/api/v1/me/slots")).slots ?? [];
    } catch (err) {
      this.slots = [];
      const code = err instanceof ApiError ? err.code : "network";
      this.notice = { code, text: errorText(code) };
    }
  }

  private async add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    const day = fieldText(data, "day");
    const time = fieldText(data, "time");
    const minutes = Number(data.get("length") ?? 30);
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    const h = /^(\d{2}):(\d{2})$/.exec(time);
    const start =
      m && h
        ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(h[1]), Number(h[2]))
        : null;
    if (!start || Number.isNaN(start.getTime()) || start.getTime() <= Date.now()) {
      this.notice = { code: "bad_request", text: tw("err_slot_bad") };
      return;
    }
    const end = new Date(start.getTime() + minutes * 60_000);
    this.busy = true;
    this.notice = null;
    try {
      await api(
        "POST",
        "/api/v1/slots",
        { start: isoWithOffset(start), end: isoWithOffset(end) },
        { "X-CSRF-Token": this.csrf },
      );
      // The next slot most likely follows this one.
      const timeInput = this.renderRoot.querySelector<HTMLInputElement>("#slot-time");
      if (timeInput)
        timeInput.value = `${String(end.getHours()).padStart(2, "0")}:${String(end.getMinutes()).padStart(2, "0")}`;
      await this.load();
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      this.notice = { code, text: errorText(code) };
    } finally {
      this.busy = false;
    }
  }

  private async removeSlot(slot: MySlot): Promise<void> {
    this.notice = null;
    try {
      await api("DELETE", `/api/v1/slots/${encodeURIComponent(slot.id)}`, undefined, {
        "X-CSRF-Token": this.csrf,
      });
      await this.load();
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      this.notice = { code, text: errorText(code) };
    }
  }

  private renderList() {
    const slots = this.slots;
    if (slots === null) return html`<p class="muted">…</p>`;
    if (slots.length === 0)
      return html`<p class="muted" data-testid="slots-empty">${tw("slotsEmpty")}</p>`;
    // week → day → slots
    const weeks = new Map<string, Map<string, MySlot[]>>();
    for (const s of slots) {
      const d = new Date(s.start);
      const wk = fmt(weekStart(d), { weekday: "short", day: "numeric", month: "long" });
      const day = fmt(d, { weekday: "long", day: "numeric", month: "long" });
      const days = weeks.get(wk) ?? new Map<string, MySlot[]>();
      days.set(day, [...(days.get(day) ?? []), s]);
      weeks.set(wk, days);
    }
    const time = (iso: string) => fmt(new Date(iso), { hour: "2-digit", minute: "2-digit" });
    return [...weeks.entries()].map(
      ([wk, days]) =>
        html`<h3>${tw("slotsWeek", { day: wk })}</h3>
          ${[...days.entries()].map(
            ([day, list]) =>
              html`<h4>${day}</h4>
                <ul data-testid="slots-day">
                  ${list.map((s) => {
                    const when = `${day} ${time(s.start)}–${time(s.end)}`;
                    return html`<li
                      data-testid="my-slot"
                      data-slot-id=${s.id}
                      data-start=${s.start}
                      ?data-booked=${!!s.booked}
                    >
                      <span class="time">${time(s.start)}–${time(s.end)}</span>
                      <span class="state">${s.booked ? tw("slotBooked") : tw("slotFree")}</span>
                      ${
                        s.booked
                          ? nothing
                          : html`<button
                              type="button"
                              class="danger"
                              data-testid="slot-remove"
                              aria-label=${tw("slotRemoveLabel", { when })}
                              @click=${() => this.removeSlot(s)}
                            >
                              ${tw("slotRemove")}
                            </button>`
                      }
                    </li>`;
                  })}
                </ul>`,
          )}`,
    );
  }

  override render() {
    const tomorrow = new Date(Date.now() + 86_400_000);
    return html`<h2>${tw("slotsTitle")}</h2>
      <p class="muted">${tw("slotsIntro")}</p>
      <form @submit=${this.add} data-testid="slot-form">
        <div>
          <label for="slot-day">${tw("slotDay")}</label>
          <input
            id="slot-day"
            name="day"
            type="date"
            required
            min=${localDate(new Date())}
            value=${localDate(tomorrow)}
            data-testid="slot-day"
          />
        </div>
        <div>
          <label for="slot-time">${tw("slotStart")}</label>
          <input
            id="slot-time"
            name="time"
            type="time"
            required
            step="900"
            value="09:00"
            data-testid="slot-time"
          />
        </div>
        <div>
          <label for="slot-length">${tw("slotLength")}</label>
          <select id="slot-length" name="length" data-testid="slot-length">
            ${LENGTHS.map((n) => html`<option value=${n} ?selected=${n === 30}>${tw("minutes", { n })}</option>`)}
          </select>
        </div>
        <button type="submit" data-testid="slot-add" ?disabled=${this.busy}>
          ${this.busy ? tw("slotAdding") : tw("slotAdd")}
        </button>
      </form>
      ${this.notice ? html`<p class="status-line" role="alert" data-testid="slots-error" data-code=${this.notice.code}>${this.notice.text}</p>` : nothing}
      ${this.renderList()}`;
  }
}
customElements.define("vv-slots", SlotsView);
