// The frame of the small public pages (/code, /advisers, /book): a header with the
// title and the DE/EN switch, and a centred main column. Embeddable like /chat.
import { css, html, type TemplateResult } from "lit";
import "../lib/lang-toggle";

export const pageStyles = css`
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  :host {
    display: flex;
    flex-direction: column;
    min-height: 100%;
    background: #fff;
  }
  header.page {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.5rem 0.75rem;
    background: var(--vv-header-bg, #0b57a4);
    color: #fff;
    flex-wrap: wrap;
  }
  header.page h1 {
    font-size: 1.05rem;
    margin: 0;
    flex: 1;
    min-width: 10rem;
  }
  header.page a {
    color: #fff;
    font-weight: 600;
  }
  main.page {
    padding: 1rem;
    width: 100%;
    max-width: 60rem;
    margin: 0 auto;
  }
  a {
    color: var(--vv-primary, #0b57a4);
  }
`;

export function pageHeader(title: string, extra: TemplateResult | string = ""): TemplateResult {
  return html`<header class="page">
    <h1 id="page-title">${title}</h1>
    ${extra}
    <vv-lang-toggle></vv-lang-toggle>
  </header>`;
}
