// When the WebSocket client tries again: reconnects after a lost connection, and chat
// messages the server refused for now (`overloaded`, `rate_limited`). Pure functions of
// the attempt and a random number, so they are tested without a browser.

/** Reconnect delays while the browser is online: short, so that after a server restart
 * every client is back within a few seconds of it answering again, and spread out (at
 * least half the capped delay, the rest random) so thousands of clients do not come
 * back in the same instant. A refused TCP connection to a server that is still down
 * costs it nothing. While the browser says it is offline the cap is long; its `online`
 * event retries at once anyway. */
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_CAP_ONLINE_MS = 2_000;
export const RECONNECT_CAP_OFFLINE_MS = 30_000;

/** A node that goes away (close 1012, "service restart": a deploy, SIGTERM) closes all
 * its sockets in the same instant, and another node is already there to take them.
 * The first attempt after such a close is spread evenly over this window, from no wait
 * at all on: with the usual first step (125–250 ms) thousands of clients would arrive
 * within an eighth of a second, past what a listen backlog holds (dropped connection
 * attempts are retried by TCP only a second later). */
export const RESTART_SPREAD_MS = 1_000;
export const CLOSE_SERVICE_RESTART = 1012;

export function reconnectDelay(
  attempts: number,
  online: boolean,
  random: number,
  minMs: number = RECONNECT_MIN_MS,
  capMs: number = online ? RECONNECT_CAP_ONLINE_MS : RECONNECT_CAP_OFFLINE_MS,
  closeCode?: number,
): number {
  if (attempts === 0 && online && closeCode === CLOSE_SERVICE_RESTART) {
    return Math.min(RESTART_SPREAD_MS, capMs) * clamp01(random);
  }
  const ceiling = Math.min(capMs, minMs * 2 ** Math.min(attempts, 20));
  return ceiling / 2 + (ceiling / 2) * clamp01(random);
}

/** The server serves the conversation in another of its processes now (close 4010,
 * `moved`: its adviser is there, so its messages need not cross between processes):
 * the client connects again at once, without telling the user — nothing was lost, and
 * the new socket is served where the adviser is. At once only if the last such move
 * is `MOVE_AT_ONCE_EVERY_MS` past; more often than that (a server that keeps saying
 * it) the usual back-off applies. */
export const CLOSE_MOVED = 4010;
export const MOVE_AT_ONCE_EVERY_MS = 10_000;

export function movesAtOnce(closeCode: number, lastMoveAtMs: number, nowMs: number): boolean {
  return closeCode === CLOSE_MOVED && nowMs - lastMoveAtMs >= MOVE_AT_ONCE_EVERY_MS;
}

/** Codes of a `chat.send` refusal after which the same message is sent again (with the
 * same client_id, so the server stores it once); any other refusal is for good. */
export const RESEND_CODES = new Set(["overloaded", "rate_limited"]);

/** How long to wait before resending a refused chat message: the server's
 * `retry_after_ms` hint (else one second), stretched by up to twice at random so the
 * refused clients do not all come back together. */
export function resendDelay(retryAfterMs: unknown, random: number): number {
  const hint =
    typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs > 0
      ? Math.min(retryAfterMs, 60_000)
      : 1_000;
  return hint * (1 + clamp01(random));
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}
