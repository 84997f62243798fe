// The console's sign-in form: e-mail and password → a session (`vv-signed-in`).
import { html } from "lit";
import { api, ApiError, type SessionInfo } from "../lib/api";
import { I18nElement } from "../lib/base";
import { fieldText } from "../lib/form";
import { errorText } from "../lib/i18n";
import { base } from "../lib/styles";
import { t } from "./strings";
import { loginStyles } from "./styles";

export class LoginView extends I18nElement {
  static override properties = {
    error: { type: String },
    busy: { state: true },
  };
  /** Why signing in failed, or why the console is here again (session expired). */
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.error = "";
    this.busy = false;
  }

  static override styles = [base, loginStyles];

  private async onSubmit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.error = "";
    try {
      const s = await api<SessionInfo>("POST", "/api/v1/session", {
        email: fieldText(data, "email").trim(),
        password: fieldText(data, "password"),
      });
      this.emit("vv-signed-in", s);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "network";
      this.error =
        code === "bad_credentials"
          ? t("err_bad_credentials")
          : code === "rate_limited"
            ? t("err_login_rate_limited")
            : errorText(code);
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLInputElement>("#password")?.select(),
      );
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<main class="login">
      <h2>${t("loginTitle")}</h2>
      <form @submit=${this.onSubmit}>
        <div class="field">
          <label for="email">${t("email")}</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            data-testid="login-email"
          />
        </div>
        <div class="field">
          <label for="password">${t("password")}</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            data-testid="login-password"
          />
        </div>
        <p class="status-line" role="alert" data-testid="login-error">${this.error}</p>
        <button type="submit" data-testid="login-submit" ?disabled=${this.busy}>
          ${this.busy ? t("loggingIn") : t("login")}
        </button>
      </form>
    </main>`;
  }
}
customElements.define("vv-login", LoginView);
