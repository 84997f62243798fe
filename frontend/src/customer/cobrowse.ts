// Co-browsing, the customer's side in the chat (a lazy chunk, loaded with the
// conversation): the consent dialogs (sharing this tab; then, separately, control),
// "stop" and "revoke control" always at hand while it runs, and the bridge between
// the recorder on the host page (cobrowse/host.ts, by postMessage) and the socket:
// batches up, the adviser's pointer and inputs down.
//
// The recorder only ever records after this side told it `sharing` — which it does
// only from the conversation's log (the server's `cobrowse.started`), never ahead of it.
import { html, nothing, css, type TemplateResult } from "lit";
import type { FromHost, HostState, ToHost } from "../cobrowse/bridge";
import { mirrorFrame } from "../cobrowse/frame";
import { I18nElement } from "../lib/base";
import { cobrowseState, COBROWSE_IDLE, type CobrowseState } from "../lib/cobrowse-state";
import { errorText, lang } from "../lib/i18n";
import type { EventMsg, ServerMessage } from "../lib/protocol.gen";
import { base } from "../lib/styles";
import type { ConnState, VisavisClient } from "../lib/ws";
import { tcb } from "./cobrowse-strings";
import { hasHost, onHostPage, toHostPage } from "./embed";

type Answer = "cobrowse.answer" | "cobrowse.control_answer";

export class CobrowsePanel extends I18nElement {
  static override properties = {
    events: { attribute: false },
    loaded: { type: Boolean },
    ended: { type: Boolean },
    conversationId: { attribute: false },
    client: { attribute: false },
    conn: { attribute: false },
    busy: { state: true },
    notice: { state: true },
  };
  declare events: readonly EventMsg[];
  /** The conversation's history is complete (before that, "idle" may just be unknown). */
  declare loaded: boolean;
  declare ended: boolean;
  declare conversationId: string;
  declare client: VisavisClient | null;
  declare conn: ConnState;
  declare busy: boolean;
  declare notice: string;

  private state: CobrowseState = COBROWSE_IDLE;
  /** The customer stopped this co-browsing (its `since`) / took control back, here or on
   * the page's bar: the recorder hears it at once, before the log says so. */
  private stoppedHere = -1;
  private revokedHere = false;
  private told: string = "";
  private hostUp = false;
  /** The co-browsing (its `since`) for which the loader was asked to add the recorder. */
  private added = -1;
  private lost = false;
  /** A fresh snapshot was asked for after a refused chunk; cleared by its chunk 0. */
  private restarting = false;
  private offHost: (() => void) | null = null;

  constructor() {
    super();
    this.events = [];
    this.loaded = false;
    this.ended = false;
    this.conversationId = "";
    this.client = null;
    this.conn = "idle";
    this.busy = false;
    this.notice = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      section {
        margin: 0.5rem 0.75rem;
        padding: 0.75rem;
        border: 2px solid var(--vv-primary, #0b57a4);
        border-radius: 10px;
        background: #f2f7fc;
      }
      section:focus-visible {
        outline: 3px solid var(--vv-focus, #f0a202);
      }
      h2 {
        margin: 0 0 0.4rem;
        font-size: 1rem;
      }
      p {
        margin: 0 0 0.5rem;
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
      .running {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.4rem 0.75rem;
        margin: 0;
        padding: 0.4rem 0.75rem;
        border-bottom: 1px solid #d5dbe1;
        background: #12355b;
        color: #fff;
      }
      .running p {
        margin: 0;
        flex: 1 1 12rem;
      }
      .running .control {
        font-weight: 600;
      }
      .running button {
        background: #fff;
        color: #12355b;
        border-color: #fff;
      }
      .alert {
        color: var(--vv-danger, #a4161a);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.offHost = onHostPage((msg) => this.fromHost(msg));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offHost?.();
    this.offHost = null;
    // The chat left this conversation: the recorder stops (this tab shares nothing more).
    this.tellHost(false);
  }

  protected override willUpdate(): void {
    const before = this.state;
    this.state = this.ended ? COBROWSE_IDLE : cobrowseState(this.events);
    if (this.state.phase !== before.phase || this.state.control !== before.control)
      this.notice = "";
    if (this.state.control !== "granted") this.revokedHere = false;
  }

  protected override updated(changed: Map<string, unknown>): void {
    if (this.loaded) this.tellHost();
    // The socket came back while sharing: frames may have been lost, record afresh.
    if (changed.has("conn") && this.conn === "open" && this.lost && this.sharing) {
      this.lost = false;
      toHostPage({ type: "cb.resync" });
    }
    // A question appeared: bring it to attention without putting a button under the
    // customer's Enter key (they may be typing a message).
    const ask = this.renderRoot.querySelector<HTMLElement>("section[data-ask]");
    if (ask && ask.dataset.ask !== ask.dataset.focused) {
      ask.dataset.focused = ask.dataset.ask;
      ask.focus();
    }
  }

  /** Recording is wanted: the log says started, and the customer did not stop it here. */
  private get sharing(): boolean {
    return this.state.phase === "started" && this.stoppedHere !== this.state.since;
  }

  private get control(): boolean {
    return this.sharing && this.state.control === "granted" && !this.revokedHere;
  }

  /** The recorder's state, said on every change (and when it says hello). */
  private tellHost(sharing = this.sharing): void {
    const msg: HostState = {
      type: "cb.state",
      sharing,
      control: sharing && this.control,
      lang: lang(),
    };
    const key = JSON.stringify(msg);
    if (sharing && !this.hostUp && this.added !== this.state.since) {
      this.added = this.state.since;
      toHostPage({ type: "cobrowse" }); // the loader adds the recorder
    }
    if (key === this.told) return;
    this.told = key;
    toHostPage(msg);
  }

  private fromHost(msg: FromHost): void {
    switch (msg.type) {
      case "cb.hello":
        this.hostUp = true;
        this.told = "";
        if (this.loaded) this.tellHost();
        break;
      case "cb.batch": {
        const { stream, n, data, sent_at } = msg;
        if (!this.sharing || !(data instanceof Uint8Array) || typeof n !== "number") return;
        if (typeof stream !== "string" || typeof sent_at !== "number") return;
        if (n === 0) this.restarting = false;
        // errors about it come back with id `cb-<n>` (onFrame)
        const sent = this.client?.sendBinary(mirrorFrame({ stream, n, data, sent_at }));
        if (!sent) this.lost = true;
        break;
      }
      case "cb.end":
        if (this.sharing) this.stop();
        break;
      case "cb.revoke":
        if (this.control) this.revoke();
        break;
    }
  }

  /** The adviser's pointer, inputs and resync requests (the app passes every frame). */
  onFrame(f: ServerMessage): void {
    // A refused chunk breaks the mirror stream: the recorder begins a new one with a
    // full snapshot (once; the next refusals belong to the broken stream).
    if (f.type === "error" && f.id?.startsWith("cb-")) {
      if (this.sharing && !this.restarting) toHostPage({ type: "cb.resync" });
      this.restarting = true;
      return;
    }
    if (!("conversation_id" in f) || f.conversation_id !== this.conversationId) return;
    if (!this.sharing) return;
    let out: ToHost | null = null;
    if (f.type === "cobrowse.pointer")
      out = { type: "cb.pointer", x: f.x, y: f.y, visible: f.visible, name: f.from.name ?? "" };
    else if (f.type === "cobrowse.input" && this.control) {
      const { action, target, x, y, dx, dy, text, key } = f;
      out = { type: "cb.input", action, target, x, y, dx, dy, text, key };
    } else if (f.type === "cobrowse.resync") out = { type: "cb.resync" };
    if (out) toHostPage(out);
  }

  private async command(type: "cobrowse.end" | "cobrowse.control_revoke"): Promise<void> {
    const answer = await this.client?.request({ type, conversation_id: this.conversationId });
    if (answer?.type === "error" && answer.code !== "invalid_state")
      this.notice = errorText(answer.code);
  }

  private async answer(type: Answer, accept: boolean): Promise<void> {
    if (!this.client || this.busy) return;
    this.busy = true;
    // Consent given: the recorder's script loads while the server writes it down (it
    // records only once the log says `started`).
    if (type === "cobrowse.answer" && accept) toHostPage({ type: "cobrowse" });
    const res = await this.client.request({ type, conversation_id: this.conversationId, accept });
    this.busy = false;
    if (res.type === "error") this.notice = errorText(res.code);
  }

  // Both act at once on this side: the recorder hears it before the server answers.
  private stop(): void {
    this.stoppedHere = this.state.since;
    this.tellHost();
    this.requestUpdate();
    void this.command("cobrowse.end");
  }

  private revoke(): void {
    this.revokedHere = true;
    this.tellHost();
    this.requestUpdate();
    void this.command("cobrowse.control_revoke");
  }

  /** One consent question: a labelled alert dialog with its buttons (the first one the
   * answer that goes on, the others secondary). */
  private dialog(
    ask: string,
    testid: string,
    title: string,
    body: TemplateResult,
    buttons: { testid: string; label: string; act: () => void }[],
    notice = false,
  ) {
    return html`<section
      tabindex="-1"
      role="alertdialog"
      aria-labelledby="${testid}-t"
      aria-describedby="${testid}-d"
      data-ask=${ask}
      data-testid=${testid}
    >
      <h2 id="${testid}-t">${title}</h2>
      <div id="${testid}-d">${body}</div>
      <div class="buttons">
        ${buttons.map(
          (b, i) =>
            html`<button
              type="button"
              class=${i ? "secondary" : ""}
              data-testid=${b.testid}
              ?disabled=${this.busy}
              @click=${b.act}
            >
              ${b.label}
            </button>`,
        )}
      </div>
      ${notice && this.notice ? html`<p class="alert" role="alert">${this.notice}</p>` : nothing}
    </section>`;
  }

  private renderAsk() {
    const ask = `share-${this.state.since}`;
    const decline = () => void this.answer("cobrowse.answer", false);
    if (!hasHost)
      return this.dialog(ask, "cobrowse-ask", tcb("askTitle"), html`<p>${tcb("notHere")}</p>`, [
        { testid: "cobrowse-decline", label: tcb("ok"), act: decline },
      ]);
    return this.dialog(
      ask,
      "cobrowse-ask",
      tcb("askTitle"),
      html`<p>${tcb("askWhat")}</p>
        <p>${tcb("askHidden")}</p>`,
      [
        {
          testid: "cobrowse-accept",
          label: tcb("accept"),
          act: () => void this.answer("cobrowse.answer", true),
        },
        { testid: "cobrowse-decline", label: tcb("decline"), act: decline },
      ],
      true,
    );
  }

  private renderControlAsk() {
    return this.dialog(
      `control-${this.state.asked}`,
      "cobrowse-control-ask",
      tcb("controlTitle"),
      html`<p>${tcb("controlWhat")}</p>`,
      [
        {
          testid: "cobrowse-control-accept",
          label: tcb("allowControl"),
          act: () => void this.answer("cobrowse.control_answer", true),
        },
        {
          testid: "cobrowse-control-decline",
          label: tcb("decline"),
          act: () => void this.answer("cobrowse.control_answer", false),
        },
      ],
    );
  }

  override render() {
    const s = this.state;
    if (s.phase === "requested") return this.renderAsk();
    if (s.phase !== "started") return nothing;
    const granted = this.control;
    return html`<div
        class="running"
        role="region"
        aria-label=${tcb("stop")}
        data-testid="cobrowse-running"
        data-control=${s.control}
      >
        <p role="status">
          ${tcb("running")}${granted ? html` <span class="control">${tcb("controlRunning")}</span>` : nothing}
        </p>
        ${granted ? html`<button type="button" data-testid="cobrowse-chat-revoke" @click=${this.revoke}>${tcb("revoke")}</button>` : nothing}
        <button type="button" data-testid="cobrowse-chat-stop" @click=${this.stop}>
          ${tcb("stop")}
        </button>
        ${this.notice ? html`<p class="alert" role="alert">${this.notice}</p>` : nothing}
      </div>
      ${s.control === "requested" ? this.renderControlAsk() : nothing}`;
  }
}
customElements.define("vv-cobrowse", CobrowsePanel);
