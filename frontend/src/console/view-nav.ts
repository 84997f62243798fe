// The console's views (chats, history, my profile, my slots, the supervisors'
// overview, the admins' document library, form templates and data protection) as tabs (`vv-view`), and the ways to bring a customer in: an e-mail
// invitation or a phone code (`vv-open-dialog` with the dialog's tag).
import { html, nothing } from "lit";
import { I18nElement } from "../lib/base";
import { base } from "../lib/styles";
import { tdoc } from "./documents-strings";
import { tpriv } from "./privacy-strings";
import { t } from "./strings";
import { navStyles } from "./styles";
import { tw } from "./ways-strings";

export type View =
  "chats" | "history" | "profile" | "slots" | "overview" | "library" | "forms" | "privacy";

export class ViewNav extends I18nElement {
  static override properties = {
    view: { type: String },
    supervisor: { type: Boolean },
    admin: { type: Boolean },
  };
  declare view: View;
  /** Supervisors and admins see the overview. */
  declare supervisor: boolean;
  /** Admins keep the document library and the form templates. */
  declare admin: boolean;

  constructor() {
    super();
    this.view = "chats";
    this.supervisor = false;
    this.admin = false;
  }

  static override styles = [base, navStyles];

  private tab(view: View, testId: string, label: string) {
    return html`<button
      type="button"
      class="secondary"
      data-testid=${testId}
      aria-current=${this.view === view ? "page" : "false"}
      @click=${() => this.emit("vv-view", view)}
    >
      ${label}
    </button>`;
  }

  private way(dialog: string, testId: string, label: string) {
    return html`<button
      type="button"
      data-testid=${testId}
      aria-haspopup="dialog"
      @click=${() => this.emit("vv-open-dialog", dialog)}
    >
      ${label}
    </button>`;
  }

  override render() {
    return html`<nav aria-label=${t("appTitle")}>
      ${this.tab("chats", "chats-tab", t("tabChats"))}
      ${this.tab("history", "history-tab", t("tabHistory"))}
      ${this.tab("profile", "profile-tab", tw("tabProfile"))}
      ${this.tab("slots", "slots-tab", tw("tabSlots"))}
      ${this.supervisor ? this.tab("overview", "overview-tab", tw("tabOverview")) : nothing}
      ${this.admin ? this.tab("library", "library-tab", tdoc("tabLibrary")) : nothing}
      ${this.admin ? this.tab("forms", "forms-tab", tw("tabForms")) : nothing}
      ${this.admin ? this.tab("privacy", "privacy-tab", tpriv("tabPrivacy")) : nothing}
      <span class="ways">
        ${this.way("vv-invite-dialog", "open-invite", tw("inviteButton"))}
        ${this.way("vv-code-dialog", "open-code", tw("codeButton"))}
      </span>
    </nav>`;
  }
}
customElements.define("vv-view-nav", ViewNav);
