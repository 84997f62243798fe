// <vv-sign-panel>: signing in the room, its own chunk (loaded by the document stage
// when a signature event is in the log or the adviser starts one). What it shows is
// what the events say (sign-state.ts): the adviser's placement (<vv-sign-prepare>),
// the signer's pad (<vv-sign-pad>), "Wird versiegelt …", then the download of the
// signed PDF for both sides.
import { css, html, nothing } from "lit";
import { ApiError } from "../lib/api";
import { I18nElement } from "../lib/base";
import { errorText } from "../lib/i18n";
import type { EventMsg } from "../lib/protocol.gen";
import type { DocumentInfo } from "../room/stage-state";
import { base } from "../lib/styles";
import type { VisavisClient } from "../lib/ws";
import { fileUrl, type AccessTokens } from "../room/doc-http";
import "./sign-pad";
import type { SignDetail } from "./sign-pad";
import "./sign-prepare";
import type { RequestDetail } from "./sign-prepare";
import { mustSign, signRequestOf, type Side } from "./sign-state";
import { signError, ts } from "./strings";

export class SignPanel extends I18nElement {
  static override properties = {
    client: { attribute: false },
    conversationId: { type: String },
    side: { type: String },
    events: { attribute: false },
    doc: { attribute: false },
    page: { type: Number },
    urlFor: { attribute: false },
    tokens: { attribute: false },
    preparing: { type: Boolean },
    busy: { state: true },
    notice: { state: true },
  };
  declare client: VisavisClient | null;
  declare conversationId: string;
  declare side: Side;
  declare events: readonly EventMsg[];
  declare doc: DocumentInfo | null;
  declare page: number;
  declare urlFor: ((page: number, width: number, fresh: boolean) => Promise<string>) | null;
  declare tokens: AccessTokens | null;
  declare preparing: boolean;
  declare busy: boolean;
  declare notice: string;

  constructor() {
    super();
    this.client = null;
    this.conversationId = "";
    this.side = "customer";
    this.events = [];
    this.doc = null;
    this.page = 0;
    this.urlFor = null;
    this.tokens = null;
    this.preparing = false;
    this.busy = false;
    this.notice = "";
  }

  static override styles = [
    base,
    css`
      :host {
        display: block;
        padding: 0.5rem;
        background: #fff;
        border-top: 1px solid #d5dbe1;
      }
      h3 {
        margin: 0.2rem 0 0.4rem;
        font-size: 1.05rem;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: center;
      }
    `,
  ];

  private close(): void {
    this.dispatchEvent(new CustomEvent("vv-sign-close", { bubbles: true, composed: true }));
  }

  private async ask(frame: Parameters<VisavisClient["request"]>[0]): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    this.busy = true;
    try {
      const a = await client.request(frame);
      if (a.type === "error") {
        const code = a.code === "disconnected" || a.code === "timeout" ? "network" : a.code;
        this.notice = signError(code, errorText);
        return false;
      }
      this.notice = "";
      return true;
    } finally {
      this.busy = false;
    }
  }

  private async request(d: RequestDetail): Promise<void> {
    const doc = this.doc;
    if (!doc) return;
    const ok = await this.ask({
      type: "signature.request",
      conversation_id: this.conversationId,
      document_id: doc.id,
      signers: d.adviserSigns ? "customer+adviser" : "customer",
      spots: d.spots,
      use_pdf_fields: d.usePdfFields,
    });
    if (ok) this.close();
  }

  private async sign(d: SignDetail): Promise<void> {
    const req = signRequestOf(this.events);
    if (!req) return;
    await this.ask({
      type: "signature.sign",
      conversation_id: this.conversationId,
      request_id: req.requestId,
      document_sha256: req.sha256,
      consent: true,
      consent_version: d.consentVersion,
      method: d.method,
      image_png: d.pngBase64,
      typed_name: d.typedName,
    });
  }

  private async decline(requestId: string): Promise<void> {
    await this.ask({
      type: "signature.decline",
      conversation_id: this.conversationId,
      request_id: requestId,
    });
  }

  private async withdraw(requestId: string): Promise<void> {
    await this.ask({
      type: "signature.cancel",
      conversation_id: this.conversationId,
      request_id: requestId,
    });
  }

  private async download(id: string, name: string): Promise<void> {
    if (!this.tokens) return;
    try {
      const a = document.createElement("a");
      a.href = fileUrl(id, await this.tokens.token(id));
      a.download = name;
      a.click();
    } catch (err) {
      this.notice = errorText(err instanceof ApiError ? err.code : "network");
    }
  }

  private renderRequest() {
    const req = signRequestOf(this.events);
    if (!req) return nothing;
    const name = req.documentName;
    switch (req.status) {
      case "open": {
        if (mustSign(req, this.side))
          return html`<section aria-label=${ts("signTitle", { name })} data-testid="sign-panel">
            <h3>${ts("signTitle", { name })}</h3>
            <p>${ts("signHint")}</p>
            <vv-sign-pad
              ?busy=${this.busy}
              .docName=${name}
              @vv-sign=${(e: CustomEvent<SignDetail>) => this.sign(e.detail)}
            >
              ${
                this.side === "customer"
                  ? html`<button
                      type="button"
                      class="secondary"
                      data-testid="sign-decline"
                      @click=${() => this.decline(req.requestId)}
                    >
                      ${ts("decline")}
                    </button>`
                  : html`<button
                      type="button"
                      class="secondary"
                      data-testid="sign-withdraw"
                      @click=${() => this.withdraw(req.requestId)}
                    >
                      ${ts("withdraw")}
                    </button>`
              }
            </vv-sign-pad>
          </section>`;
        const waiting = req.signers.filter((s) => !req.signed.has(s)).map((s) => ts(s));
        return html`<div class="row" data-testid="sign-waiting">
          <p role="status">${ts("waitingFor", { who: waiting.join(", ") })}</p>
          ${
            this.side === "adviser"
              ? html`<button
                  type="button"
                  class="secondary"
                  data-testid="sign-withdraw"
                  @click=${() => this.withdraw(req.requestId)}
                >
                  ${ts("withdraw")}
                </button>`
              : nothing
          }
        </div>`;
      }
      case "sealing":
        return html`<p role="status" aria-busy="true" data-testid="sign-sealing">
          ${ts("sealing")}
        </p>`;
      case "completed": {
        const id = req.signedDocumentId ?? "";
        const file = req.signedName ?? name;
        return html`<div class="row" data-testid="sign-completed">
          <p role="status">${ts("completed", { name: file })}</p>
          <button
            type="button"
            data-testid="signed-download"
            @click=${() => this.download(id, file)}
          >
            ${ts("download")}
          </button>
        </div>`;
      }
      case "declined":
        return html`<p role="status" data-testid="sign-declined">${ts("declined")}</p>`;
      case "cancelled":
        return html`<p role="status" data-testid="sign-cancelled">${ts("cancelled")}</p>`;
      case "failed":
        return html`<p role="alert" data-testid="sign-failed">
          ${ts("failed", { code: req.failure ?? "" })}
        </p>`;
    }
  }

  override render() {
    return html`${
        this.preparing && this.side === "adviser"
          ? html`<vv-sign-prepare
              .doc=${this.doc}
              .page=${this.page}
              .urlFor=${this.urlFor}
              ?busy=${this.busy}
              @vv-sign-request=${(e: CustomEvent<RequestDetail>) => this.request(e.detail)}
            ></vv-sign-prepare>`
          : this.renderRequest()
      }
      <p class="status-line" role="alert" data-testid="sign-notice">${this.notice}</p>`;
  }
}
customElements.define("vv-sign-panel", SignPanel);

declare global {
  interface HTMLElementTagNameMap {
    "vv-sign-panel": SignPanel;
  }
}
