// <vv-form-slot>: the glue between a conversation view and the forms code. It is all
// that the customer app and the console's chat pane load up front (a room UI takes it
// over later): it notices a form in the conversation's events, loads <vv-form> as its
// own chunk then (and the adviser's picker on their click), and hands it the other
// side's `form.focus` frames, which the apps pass in with `formFrame` from their
// socket's frame hook.
import { css, html, nothing } from "lit";
import { I18nElement } from "../lib/base";
import { translator } from "../lib/i18n";
import type { EventMsg, FormFocusOutMsg, ServerMessage } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { VisavisClient } from "../lib/ws";

const t = translator({ openForm: ["Formular öffnen", "Open a form"] });

type Focus = FormFocusOutMsg & { receivedAt: number };
const listeners = new Set<(f: Focus) => void>();

/** Every frame the app's socket gets; the forms take `form.focus`. */
export function formFrame(frame: ServerMessage): void {
  if (frame.type !== "form.focus") return;
  const focus = { ...frame, receivedAt: Date.now() };
  for (const fn of listeners) fn(focus);
}

/** Values the customer's page handed over for forms: `?prefill_<key>=` parameters of
 * the chat URL, and the name given at the start. Templates name a key per field. */
export function pagePrefill(customerName: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(location.search)) {
    const m = /^prefill_([a-z][a-z0-9_]{0,40})$/u.exec(key);
    if (m?.[1] && value) out[m[1]] = value.slice(0, 500);
  }
  if (customerName && !out["name"]) out["name"] = customerName;
  return out;
}

let loading: Promise<unknown> | null = null;
function loadForms(): Promise<unknown> {
  loading ??= import("./vv-form").catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** Is a form in the log, and is the latest one still open? */
function formsIn(events: readonly EventMsg[]): { any: boolean; open: boolean } {
  let any = false;
  let open = false;
  for (const e of events) {
    if (!e.kind.startsWith("form.") || e.kind === "form.changed") continue;
    any = true;
    open = e.kind === "form.opened";
  }
  return { any, open };
}

export class VvFormSlot extends I18nElement {
  static override properties = {
    events: { attribute: false },
    side: { type: String },
    client: { attribute: false },
    conversationId: { type: String },
    token: { type: String },
    prefill: { attribute: false },
    canOpen: { type: Boolean },
    readonly: { type: Boolean },
    picking: { state: true },
    loaded: { state: true },
    otherFocus: { state: true },
  };
  declare events: readonly EventMsg[];
  declare side: "customer" | "adviser";
  declare client: VisavisClient | null;
  declare conversationId: string;
  declare token: string;
  declare prefill: Readonly<Record<string, string>>;
  /** The adviser may open a form here (their active conversation). */
  declare canOpen: boolean;
  declare readonly: boolean;
  declare picking: boolean;
  declare loaded: boolean;
  declare otherFocus: Focus | null;

  constructor() {
    super();
    this.events = [];
    this.side = "customer";
    this.client = null;
    this.conversationId = "";
    this.token = "";
    this.prefill = {};
    this.canOpen = false;
    this.readonly = false;
    this.picking = false;
    this.loaded = false;
    this.otherFocus = null;
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .pick {
        margin: 0.4rem 0.6rem;
      }
      vv-form,
      vv-form-picker {
        display: block;
        margin: 0.4rem 0.6rem;
      }
    `,
  ];

  private readonly onFocus = (f: Focus) => {
    if (f.conversation_id === this.conversationId) this.otherFocus = f;
  };

  override connectedCallback(): void {
    super.connectedCallback();
    listeners.add(this.onFocus);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    listeners.delete(this.onFocus);
  }

  protected override willUpdate(): void {
    if (!this.loaded && (this.picking || formsIn(this.events).any))
      void loadForms().then(() => (this.loaded = true));
  }

  override render() {
    const forms = formsIn(this.events);
    const button =
      this.canOpen && !forms.open && !this.picking
        ? html`<div class="pick">
            <button
              type="button"
              class="secondary"
              data-testid="form-pick"
              @click=${() => (this.picking = true)}
            >
              ${t("openForm")}
            </button>
          </div>`
        : nothing;
    if (!this.loaded) return button;
    return html`${button}
    ${
      this.picking && !forms.open
        ? html`<vv-form-picker
            .client=${this.client}
            conversationId=${this.conversationId}
            @vv-form-close=${() => (this.picking = false)}
          ></vv-form-picker>`
        : nothing
    }
    ${
      forms.any
        ? html`<vv-form
            .events=${this.events}
            side=${this.side}
            .client=${this.client}
            conversationId=${this.conversationId}
            token=${this.token}
            .prefill=${this.prefill}
            .otherFocus=${this.otherFocus}
            ?readonly=${this.readonly}
          ></vv-form>`
        : nothing
    }`;
  }
}
customElements.define("vv-form-slot", VvFormSlot);
