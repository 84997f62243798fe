// "Connecting…" / "Reconnecting…" / "Connected", announced politely.
import { css, html } from "lit";
import { I18nElement } from "./base";
import { tc } from "./i18n";
import { base } from "./styles";
import type { ConnState } from "./ws";

export class ConnStatus extends I18nElement {
  static override properties = { state: { type: String } };
  declare state: ConnState;

  constructor() {
    super();
    this.state = "idle";
  }

  static override styles = [
    base,
    css`
      :host {
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
        font-size: 0.85rem;
      }
      .dot {
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        background: #8a94a0;
        flex: none;
      }
      .open .dot {
        background: #1e7b34;
      }
      .reconnecting .dot,
      .auth_failed .dot {
        background: #b3261e;
      }
      span.wrap {
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
      }
    `,
  ];

  private text(): string {
    switch (this.state) {
      case "open":
        return tc("connected");
      case "reconnecting":
        return navigator.onLine === false ? tc("offline") : tc("reconnecting");
      case "auth_failed":
        return tc("authFailed");
      case "stopped":
        return "";
      default:
        return tc("connecting");
    }
  }

  override render() {
    return html`<span
      class="wrap ${this.state}"
      role="status"
      aria-live="polite"
      data-testid="conn-status"
      data-state=${this.state}
      ><span class="dot" aria-hidden="true"></span><span>${this.text()}</span></span
    >`;
  }
}
customElements.define("vv-conn-status", ConnStatus);
