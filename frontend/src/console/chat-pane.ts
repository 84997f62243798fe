// The console's chat pane: the selected conversation's header (call buttons, transfer,
// end with confirmation, close), the call, the consultation bar, the messages, typing,
// and the composer, or why there is none (ended, handed over). A shared screen or a
// presented document shows on the room's stage (src/room/, loaded when first needed). It writes to the
// conversation itself; ending it is answered by `vv-end-answer` {id, answer}.
import { html, nothing, type PropertyValues } from "lit";
import { keyed } from "lit/directives/keyed.js";
import { I18nElement } from "../lib/base";
import type { CallManager, Media } from "../lib/call";
import { tcall } from "../lib/call-strings";
import { roomIcon } from "../lib/call/room-icons";
import { tscreen } from "../lib/call/screen-strings";
import "../lib/composer";
import { loadDocStage } from "../lib/doc-stage-lazy";
import { languageName, lang, tc } from "../lib/i18n";
import { icon } from "../lib/icons";
import "../lib/messages";
import type { PendingLine } from "../lib/messages";
import { isEnded, myPart, type Conversation } from "../lib/model/reduce";
import { hasPresented, loadRoom } from "../lib/room-lazy";
import { base } from "../lib/styles";
import type { Answer, VisavisClient } from "../lib/ws";
import "./cobrowse-glue";
import "../forms/slot";
import "./consult-bar";
import { t } from "./strings";
import { paneStyles } from "./styles";
import { tw } from "./ways-strings";

export interface EndAnswer {
  id: string;
  answer: Answer;
}

export class ChatPane extends I18nElement {
  static override properties = {
    conv: { attribute: false },
    pending: { attribute: false },
    client: { attribute: false },
    call: { attribute: false },
    callElsewhere: { type: Boolean },
    meId: { type: String },
    topicLabel: { attribute: false },
    teamName: { attribute: false },
    confirming: { state: true },
    roomReady: { state: true },
  };
  declare conv: Conversation | null;
  declare pending: readonly PendingLine[];
  declare client: VisavisClient | null;
  /** The conversation's call manager (once the call code is loaded). */
  declare call: CallManager | null;
  /** A call of another conversation rings out or runs (one call at a time). */
  declare callElsewhere: boolean;
  declare meId: string;
  declare topicLabel: (id: string | null) => string;
  declare teamName: (id: string) => string;
  /** Conversations whose end waits for "Yes". */
  declare confirming: ReadonlySet<string>;
  /** The room's code is loaded (a call ran or a document was presented). */
  declare roomReady: boolean;

  constructor() {
    super();
    this.conv = null;
    this.pending = [];
    this.client = null;
    this.call = null;
    this.callElsewhere = false;
    this.meId = "";
    this.topicLabel = (id) => id ?? "";
    this.teamName = (id) => id;
    this.confirming = new Set();
    this.roomReady = false;
  }

  protected override updated(): void {
    const needed =
      (this.call && this.call.phase !== "idle") || hasPresented(this.conv?.events ?? []);
    if (!this.roomReady && needed)
      loadRoom().then(
        () => (this.roomReady = true),
        () => undefined, // tried again with the next update
      );
  }

  static override styles = [base, paneStyles];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.call?.removeEventListener("change", this.onCallChange);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // The call buttons follow the call manager's phase.
    if (changed.has("call")) {
      changed.get("call")?.removeEventListener("change", this.onCallChange);
      this.call?.addEventListener("change", this.onCallChange);
    }
    const conv = this.conv;
    if (conv && (isEnded(conv) || conv.gone) && this.confirming.has(conv.summary.id))
      this.confirming = this.without(conv.summary.id);
  }

  private readonly onCallChange = (): void => this.requestUpdate();

  /** Put the cursor into the composer (a conversation was selected). */
  async focusComposer(): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>("vv-composer")?.focus();
  }

  private without(id: string): ReadonlySet<string> {
    const next = new Set(this.confirming);
    next.delete(id);
    return next;
  }

  private askEnd(id: string): void {
    this.confirming = new Set(this.confirming).add(id);
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>('[data-testid="confirm-end"]')?.focus(),
    );
  }

  private async end(id: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    const answer = await client.request({ type: "conversation.end", conversation_id: id });
    this.confirming = this.without(id);
    this.emit<EndAnswer>("vv-end-answer", { id, answer });
  }

  private onSend(e: CustomEvent<{ text: string }>): void {
    const id = this.conv?.summary.id;
    if (id) this.client?.sendChat(id, e.detail.text);
  }

  private onTyping(e: CustomEvent<{ active: boolean }>): void {
    const id = this.conv?.summary.id;
    if (id) this.client?.send({ type: "typing", conversation_id: id, active: e.detail.active });
  }

  private renderCallButtons(name: string) {
    const call = this.call;
    const status = this.conv?.summary.status;
    if (!call || status === "ended") return nothing;
    // Hidden, not removed, while a call runs or the chat is not active yet: the header
    // keeps its layout when they come back.
    const usable = status === "active" && call.phase === "idle";
    const elsewhere = this.callElsewhere;
    const disabled = call.busy || elsewhere || !usable;
    const start = (media: Media): void => void call.request(media);
    return html`<span class="call-buttons ${usable ? "" : "reserved"}" ?inert=${!usable}>
      <button
        type="button"
        class="secondary"
        data-testid="call-audio"
        aria-label=${tcall("startAudioLabel", { name })}
        title=${elsewhere ? tcall("busyElsewhere") : tcall("startAudioLabel", { name })}
        ?disabled=${disabled}
        @click=${() => start("audio")}
      >
        ${icon("phone")}<span>${tcall("audioCall")}</span>
      </button>
      ${
        call.canShareScreen
          ? html`<button
              type="button"
              class="secondary"
              data-testid="call-screen-start"
              aria-label=${tscreen("screenShareLabel")}
              title=${elsewhere ? tcall("busyElsewhere") : tscreen("screenShareLabel")}
              ?disabled=${disabled}
              @click=${() => void call.shareScreen()}
            >
              ${roomIcon("screen")}<span>${tscreen("screenShare")}</span>
            </button>`
          : nothing
      }
      <button
        type="button"
        class="secondary"
        data-testid="call-video"
        aria-label=${tcall("startVideoLabel", { name })}
        title=${elsewhere ? tcall("busyElsewhere") : tcall("startVideoLabel", { name })}
        ?disabled=${disabled}
        @click=${() => start("video")}
      >
        ${icon("cam")}<span>${tcall("videoCall")}</span>
      </button>
    </span>`;
  }

  /** Close (ended), nothing (consulting colleague), or End with its confirmation. */
  private renderEnd(id: string, ended: boolean, part: string) {
    if (!ended && part === "consultant") return nothing;
    if (ended)
      return html`<button
        type="button"
        class="secondary"
        data-testid="close-tab"
        @click=${() => this.emit("vv-close-tab", id)}
      >
        ${t("closeTab")}
      </button>`;
    if (this.confirming.has(id))
      return html`<span role="group" aria-label=${tc("confirmEnd")}>
        ${tc("confirmEnd")}
        <button
          type="button"
          class="danger solid"
          data-testid="confirm-end"
          @click=${() => this.end(id)}
        >
          ${tc("confirmYes")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="cancel-end"
          @click=${() => (this.confirming = this.without(id))}
        >
          ${tc("confirmNo")}
        </button>
      </span>`;
    return html`<button
      type="button"
      class="danger"
      data-testid="end-conversation"
      @click=${() => this.askEnd(id)}
    >
      ${t("end")}
    </button>`;
  }

  private renderFoot(conv: Conversation, ended: boolean) {
    const s = conv.summary;
    const gone = conv.gone;
    if (gone)
      return html`<div class="handed" role="status" data-testid="handed-over" data-gone=${gone}>
        <p>
          ${
            gone === "adviser"
              ? tw("handedOver", { name: s.adviser?.name ?? "" })
              : gone === "team"
                ? tw("handedToTeam")
                : tw("leftConsult")
          }
        </p>
      </div>`;
    if (ended)
      return html`<div class="ended-note" role="status"><p>${t("conversationEnded")}</p></div>`;
    return keyed(
      s.id,
      html`<vv-composer @vv-send=${this.onSend} @vv-typing=${this.onTyping}></vv-composer>`,
    );
  }

  /** Documents together (room/doc-stage.ts, its own chunk) — here until the room
   * layout (room/room.ts) shows it. */
  private renderDocStage(conv: Conversation) {
    if (conv.summary.status !== "active") return nothing;
    loadDocStage();
    return keyed(
      conv.summary.id,
      html`<vv-doc-stage
        .client=${this.client}
        .conversationId=${conv.summary.id}
        .side=${"adviser"}
        .selfId=${this.meId}
        .events=${conv.events}
        .lang=${lang()}
      ></vv-doc-stage>`,
    );
  }

  override render() {
    const conv = this.conv;
    if (!conv)
      return html`<section class="pane"><p class="empty muted">${t("selectChat")}</p></section>`;
    const s = conv.summary;
    const ended = isEnded(conv) || conv.gone !== null;
    const part = myPart(s, this.meId);
    const name = s.customer_name || t("anonymous");
    const typing = conv.typing ? conv.typing.name || name : null;
    return html`<section class="pane" aria-labelledby="pane-h" data-conversation-id=${s.id}>
      <header>
        <h2 id="pane-h">${name}</h2>
        <span class="muted"
          >${this.topicLabel(s.topic) || t("noTopic")}${s.language ? ` · ${languageName(s.language)}` : ""}</span
        >
        ${part === "adviser" ? this.renderCallButtons(name) : nothing}
        ${
          !ended && part === "adviser" && s.status === "active" && !s.consultant
            ? html`<button
                type="button"
                class="secondary"
                data-testid="transfer-open"
                @click=${() => this.emit("vv-transfer-open")}
              >
                ${tw("transferButton")}
              </button>`
            : nothing
        }
        ${this.renderEnd(s.id, ended, part)}
      </header>
      ${ended || part !== "adviser" ? nothing : html`<vv-call .manager=${this.call} .otherName=${name}></vv-call>`}
      ${
        !ended && this.roomReady
          ? html`<vv-room
              mode="inline"
              .manager=${part === "adviser" ? this.call : null}
              .events=${conv.events}
              .client=${this.client}
              conversation-id=${s.id}
              side="adviser"
              other-name=${name}
            ></vv-room>`
          : nothing
      }
      ${ended || part !== "adviser" || s.status !== "active" ? nothing : html`<vv-cobrowse .conv=${conv} .client=${this.client}></vv-cobrowse>`}
      ${ended ? nothing : html`<vv-consult-bar .summary=${s} .meId=${this.meId} .client=${this.client}></vv-consult-bar>`}
      ${ended || part === "none" ? nothing : this.renderDocStage(conv)}
      <vv-form-slot
        .events=${conv.events}
        side="adviser"
        .client=${this.client}
        conversationId=${s.id}
        ?canOpen=${!ended && part === "adviser" && s.status === "active"}
        ?readonly=${ended}
      ></vv-form-slot>
      <vv-messages
        .events=${conv.events}
        .pending=${this.pending}
        self="adviser"
        .selfId=${this.meId}
        .teamNames=${this.teamName}
        .otherDelivered=${conv.other.delivered}
        .otherRead=${conv.other.read}
        .otherName=${name}
      ></vv-messages>
      <div class="typing" aria-live="polite">
        ${typing && !ended ? html`<span data-testid="typing-indicator">${tc("typing", { name: typing })}</span>` : nothing}
      </div>
      ${this.renderFoot(conv, ended)}
    </section>`;
  }
}
customElements.define("vv-chat-pane", ChatPane);
