// /code: the customer types the code an adviser read out on the phone (R5.5) and
// lands in that adviser's conversation (the chat app, which resumes it).
import "../lib/page.css";
import "./pages.css";
import { html } from "lit";
import { I18nElement } from "../lib/base";
import { initLang, translator, type Strings } from "../lib/i18n";
import type { CreatedConversation } from "../lib/api";
import "../customer/code-entry";
import { carriedParams } from "../customer/params";
import { saveStored } from "../customer/storage";
import { pageHeader, pageStyles } from "./shell";

const t = translator({
  title: ["Mit Code zur Beratung", "Join with a code"],
  opening: ["Gespräch wird geöffnet …", "Opening your conversation…"],
  orChat: ["Kein Code? Zum Chat", "No code? Go to the chat"],
} as const satisfies Strings);

export class CodePage extends I18nElement {
  static override properties = { opening: { state: true } };
  declare opening: boolean;

  constructor() {
    super();
    this.opening = false;
  }

  static override styles = [pageStyles];

  private onRedeemed(e: CustomEvent<CreatedConversation>): void {
    // Stored exactly like a conversation started in the chat app, which resumes it.
    saveStored({ token: e.detail.token, conversation_id: e.detail.conversation.id, outbox: [] });
    this.opening = true;
    location.assign(`/chat?${carriedParams()}`);
  }

  override render() {
    document.title = t("title");
    return html`${pageHeader(t("title"))}
      <main class="page">
        ${
          this.opening
            ? html`<p role="status">${t("opening")}</p>`
            : html`<vv-code-entry @vv-redeemed=${this.onRedeemed}></vv-code-entry>
                <p><a href=${`/chat?${carriedParams()}`}>${t("orChat")}</a></p>`
        }
      </main>`;
  }
}
customElements.define("vv-code-page", CodePage);
initLang();
