// Icons of the screen share and the room, drawn like lib/icons.ts (class "icon",
// decorative): kept out of the shared first-load chunk, they are used only by code
// loaded once a conversation runs.
import { html, svg } from "lit";

const screen = svg`<rect x="3" y="4" width="18" height="12" rx="1"/><path d="M8 20h8M12 16v4"/>`;
const expand = svg`<path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5"/>`;

export function roomIcon(name: "screen" | "expand") {
  return html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
    ${name === "screen" ? screen : expand}
  </svg>`;
}
