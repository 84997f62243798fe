// The glue between the console and co-browsing (kept apart from the chat pane's own
// code): `<vv-cobrowse>` shows the ask button and, once co-browsing is asked for or
// runs, loads the co-browsing view (its own chunk, with the replayer) and hands it
// the conversation's state and mirror batches (`deliverCobrowse`, from the app's
// frame handler).
import { html, nothing } from "lit";
import { I18nElement } from "../lib/base";
import type { Conversation } from "../lib/model/reduce";
import type { CobrowseBatchOutMsg } from "../lib/protocol.gen";
import type { VisavisClient } from "../lib/ws";
import { cobrowseState } from "./cobrowse-state";
import { tcb } from "./cobrowse-strings";
import type { CobrowseView } from "./cobrowse-view";

let loading: Promise<unknown> | null = null;
const views = new Map<string, CobrowseView>();

/** A mirror batch from the socket: to the view of its conversation, if one is shown
 * (one that opens later asks for a fresh snapshot itself). */
export function deliverCobrowse(frame: CobrowseBatchOutMsg): void {
  views.get(frame.conversation_id)?.receive(frame);
}

export class CobrowseSlot extends I18nElement {
  static override properties = {
    conv: { attribute: false },
    client: { attribute: false },
    loaded: { state: true },
  };
  declare conv: Conversation | null;
  declare client: VisavisClient | null;
  declare loaded: boolean;

  constructor() {
    super();
    this.conv = null;
    this.client = null;
    this.loaded = customElements.get("vv-cobrowse-view") !== undefined;
  }

  private load(): void {
    loading ??= import("./cobrowse-view");
    void loading.then(
      () => (this.loaded = true),
      () => (loading = null), // e.g. offline: tried again on the next change
    );
  }

  private async ask(): Promise<void> {
    const id = this.conv?.summary.id;
    if (!id) return;
    this.load();
    await this.client?.request({ type: "cobrowse.request", conversation_id: id });
  }

  protected override updated(): void {
    for (const [id, view] of views) if (!view.isConnected) views.delete(id);
    const view = this.renderRoot.querySelector<CobrowseView>("vv-cobrowse-view");
    if (view && this.conv) views.set(this.conv.summary.id, view);
  }

  override render() {
    const conv = this.conv;
    if (!conv) return nothing;
    const state = cobrowseState(conv.events);
    const name = conv.summary.customer_name || "";
    if (state.phase !== "idle" && !this.loaded) this.load();
    if (this.loaded)
      return html`<vv-cobrowse-view
        .conversationId=${conv.summary.id}
        .state=${state}
        .client=${this.client}
        .name=${name}
      ></vv-cobrowse-view>`;
    return html`<button
      type="button"
      class="secondary"
      data-testid="cobrowse-ask"
      aria-label=${tcb("askLabel", { name })}
      @click=${() => this.ask()}
    >
      ${tcb("ask")}
    </button>`;
  }
}
customElements.define("vv-cobrowse", CobrowseSlot);
