// The visible DE/EN switch.
import { html } from "lit";
import { I18nElement } from "./base";
import { lang, setLang, tc } from "./i18n";
import { base } from "./styles";

export class LangToggle extends I18nElement {
  static override styles = [base];

  override render() {
    const next = lang() === "de" ? "en" : "de";
    return html`<button
      type="button"
      class="secondary"
      data-testid="lang-toggle"
      lang=${next}
      aria-label=${tc("langToggleLabel")}
      title=${tc("langToggleLabel")}
      @click=${() => setLang(next, true)}
    >
      ${tc("langToggle")}
    </button>`;
  }
}
customElements.define("vv-lang-toggle", LangToggle);
