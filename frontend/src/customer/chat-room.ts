// The customer app's parts for the room, loaded with the conversation model (not in
// the chat's first load, which is the start form): the buttons to open the
// conversation large or in its own window, the screen share button, the room around
// the chat, and the own window's handover (handoff.ts). The room's own code is
// loaded later still, when it is needed (lib/room-lazy.ts).
import { html, nothing } from "lit";
import type { CallManager } from "../lib/call";
import { roomIcon } from "../lib/call/room-icons";
import { tscreen } from "../lib/call/screen-strings";
import { translator, type Strings } from "../lib/i18n";
import type { EventMsg } from "../lib/protocol.gen";
import type { VisavisClient } from "../lib/ws";

export { openOwnWindow, receiveHandoff } from "./handoff";
export { hasPresented, loadRoom } from "../lib/room-lazy";

const t = translator({
  roomLarge: ["Groß", "Large"],
  roomLargeLabel: ["Gespräch groß anzeigen", "Show the conversation large"],
  roomWindow: ["Eigenes Fenster", "Own window"],
  roomWindowLabel: [
    "Eigenes Fenster für das Gespräch öffnen",
    "Open the conversation in its own window",
  ],
} as const satisfies Strings);

/** Large view (overlay, full width) and, inside the widget, a window of its own. */
export function roomButtons(
  large: boolean,
  embedded: boolean,
  toggle: () => void,
  openWindow: () => void,
) {
  return html`<span class="call-buttons">
    <button
      type="button"
      data-testid="room-open"
      aria-pressed=${large ? "true" : "false"}
      aria-label=${t("roomLargeLabel")}
      title=${t("roomLargeLabel")}
      @click=${toggle}
    >
      ${roomIcon("expand")}<span class="label">${t("roomLarge")}</span>
    </button>
    ${
      embedded
        ? html`<button
            type="button"
            data-testid="room-window"
            aria-label=${t("roomWindowLabel")}
            title=${t("roomWindowLabel")}
            @click=${openWindow}
          >
            ${t("roomWindow")}
          </button>`
        : nothing
    }
  </span>`;
}

/** Share the screen without a call (hidden where the browser cannot share). */
export function screenStartButton(calls: CallManager) {
  if (!calls.canShareScreen) return nothing;
  return html`<button
    type="button"
    data-testid="call-screen-start"
    aria-label=${tscreen("screenShareLabel")}
    title=${tscreen("screenShareLabel")}
    ?disabled=${calls.busy}
    @click=${() => void calls.shareScreen()}
  >
    ${roomIcon("screen")}<span class="label">${tscreen("screenShare")}</span>
  </button>`;
}

export interface RoomProps {
  calls: CallManager | null;
  events: readonly EventMsg[];
  client: VisavisClient | null;
  conversationId: string;
  other: string;
}

/** The room around the chat (large), or above it (inline: a screen or a document). */
export function room(p: RoomProps, large: boolean, controls: unknown, chat: unknown) {
  return html`<vv-room
    mode=${large ? "large" : "inline"}
    .manager=${p.calls}
    .events=${p.events}
    .client=${p.client}
    conversation-id=${p.conversationId}
    side="customer"
    other-name=${p.other}
  >
    ${
      large
        ? html`${controls}
            <div slot="chat" class="room-chat">${chat}</div>`
        : nothing
    }
  </vv-room>`;
}
