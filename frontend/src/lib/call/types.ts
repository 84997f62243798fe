// The words the call units and the view share.

export type Role = "customer" | "adviser";
/** What a call is for; "screen": a screen share without camera or microphone. */
export type Media = "audio" | "video" | "screen";
/** `elsewhere`: the call runs, but another tab or device of this side holds it. */
export type Phase = "idle" | "outgoing" | "incoming" | "active" | "elsewhere";
export type LinkState = "connecting" | "connected" | "reconnecting";
export type DeviceError = "" | "denied" | "notfound" | "busy" | "unsupported" | "other";
export type CheckResult = "idle" | "running" | "relay" | "no-relay" | "none" | "error";

export interface MediaFlags {
  audio: boolean;
  video: boolean;
  /** A screen share (an extra video line; see screen.ts). Absent: none. */
  screen?: boolean;
}

export interface ConnectionCheck {
  result: CheckResult;
  /** ICE servers handed out by the server (what this browser may contact). */
  servers: number;
  turn: boolean;
  policy: RTCIceTransportPolicy;
  candidateTypes: string[];
}

/** What `ice.servers` said, and when. */
export interface IceConfig {
  iceServers: RTCIceServer[];
  policy: RTCIceTransportPolicy;
  ttlS: number;
  fetchedAt: number;
}

/** A timer handle (a number in browsers; whatever the test runner's fake gives). */
export type Timer = ReturnType<typeof setTimeout> | undefined;
