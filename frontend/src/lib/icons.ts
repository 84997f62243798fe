// The few line icons the apps use (inline SVG: allowed by the strict CSP).
import { css, html, svg } from "lit";

const paths = {
  mic: svg`<path d="M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>`,
  micOff: svg`<path d="M9 9v3a3 3 0 0 0 5.1 2.1M15 10V6a3 3 0 0 0-5.9-.8"/><path d="M5 11a7 7 0 0 0 11.5 5.4M19 11a7 7 0 0 1-.7 3M12 18v3M3 3l18 18"/>`,
  cam: svg`<rect x="3" y="6" width="13" height="12" rx="2"/><path d="M16 10l5-3v10l-5-3z"/>`,
  camOff: svg`<path d="M16 16v1a1 1 0 0 1-1 1H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h1M10 6h5a1 1 0 0 1 1 1v3l5-3v10"/><path d="M3 3l18 18"/>`,
  flip: svg`<path d="M4 9a8 8 0 0 1 14-3l2 2M20 15a8 8 0 0 1-14 3l-2-2"/><path d="M20 4v4h-4M4 20v-4h4"/>`,
  gear: svg`<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9L7 7M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1"/>`,
  hangup: svg`<path d="M3 15c5-5 13-5 18 0l-2.5 2.5-3-2V13a9 9 0 0 0-7 0v2.5l-3 2z"/>`,
  phone: svg`<path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z"/>`,
};

export type IconName = keyof typeof paths;

/** A decorative icon (aria-hidden): the button around it carries the label. */
export function icon(name: IconName) {
  return html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">${paths[name]}</svg>`;
}

/** Icons drawn as lines in the text's colour. */
export const iconStyles = css`
  .icon {
    width: 1.2rem;
    height: 1.2rem;
    fill: none;
    stroke: currentColor;
    stroke-width: 1.8;
    stroke-linecap: round;
    stroke-linejoin: round;
  }
`;

/** The audio/video call buttons in both apps' headers: an icon and a label each. */
export const callButtonStyles = css`
  .call-buttons {
    display: flex;
    flex-wrap: wrap;
    gap: 0.35rem;
  }
  .call-buttons.reserved {
    visibility: hidden;
  }
  .call-buttons button {
    display: inline-flex;
    align-items: center;
    gap: 0.3rem;
  }
`;
