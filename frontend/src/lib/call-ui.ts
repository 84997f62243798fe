// Everything a call needs beyond the strings, loaded on demand (import("./call-ui"))
// once a conversation is active: the first load of the chat stays small.
export { CallManager } from "./call";
import "./call-view";
