// Base class: every component re-renders when the language changes.
import { LitElement } from "lit";
import { onLangChange } from "./i18n";

export class I18nElement extends LitElement {
  private offLang: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.offLang = onLangChange(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offLang?.();
    this.offLang = null;
  }

  /** Dispatch a bubbling, composed CustomEvent (crosses shadow roots). */
  protected emit<T>(name: string, detail?: T): void {
    this.dispatchEvent(
      new CustomEvent<T | undefined>(name, { detail, bubbles: true, composed: true }),
    );
  }
}
