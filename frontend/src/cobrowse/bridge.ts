// The messages between the co-browsing recorder on the host page (host.ts, loaded by
// the widget loader after consent) and the chat iframe (customer/cobrowse-bridge.ts),
// which alone talks to the server. Both sides post with the other's exact origin as
// target and accept only messages from the other's window and origin; every message
// carries `source: "visavis"` like the loader's own, and a `cb.` type the loader
// ignores. (The loader itself acts on one more: `cobrowse`, "add the recorder".)
import type { CobrowseInputOutMsg } from "../lib/protocol.gen";
import type { Chunk } from "./packing";

/** Host page → iframe. */
export type FromHost =
  /** The recorder is up: tell me the state (again). */
  | { type: "cb.hello" }
  | ({ type: "cb.batch" } & Chunk)
  /** The customer pressed "stop sharing" on the page's bar (recording already stopped). */
  | { type: "cb.end" }
  /** The customer took control back on the page (inputs already refused). */
  | { type: "cb.revoke" };

/** What the recorder needs to know; sent on every change and in answer to hello. */
export interface HostState {
  type: "cb.state";
  /** The customer consented and co-browsing runs. */
  sharing: boolean;
  /** The customer granted control and did not take it back. */
  control: boolean;
  lang: "de" | "en";
}

export interface HostPointer {
  type: "cb.pointer";
  /** The customer's viewport, CSS px. */
  x: number;
  y: number;
  visible: boolean;
  name: string;
}

/** A control input the server let through; the recorder checks it again. */
export type HostInput = { type: "cb.input" } & Pick<
  CobrowseInputOutMsg,
  "action" | "target" | "x" | "y" | "dx" | "dy" | "text" | "key"
>;

/** Iframe → host page. `cobrowse` is for the loader (add the recorder). */
export type ToHost =
  | { type: "cobrowse" }
  | HostState
  | HostPointer
  | HostInput
  /** An adviser's mirror needs a full snapshot. */
  | { type: "cb.resync" };

export const BRIDGE_SOURCE = "visavis";
/** Host-origin sessionStorage key: co-browsing runs in this tab (read by the loader on
 * the next page, set and cleared by the recorder). */
export const RESUME_KEY = "visavis.cb";
