// HTTP API (docs/protocol.md, "HTTP API"): same-origin JSON, errors as
// {"error": {"code", "message"}} with stable codes.
import type { AdviserInfo, ConversationSummary, EventMsg } from "./protocol.gen";

export interface Topic {
  id: string;
  label_de: string;
  label_en: string;
}

export interface Availability {
  available: boolean;
  advisers_available: number;
  waiting: number;
  /** The team (of the topic, or any team) is within its business hours. */
  open?: boolean;
  /** Estimated seconds until an adviser takes a new customer; null: unknown. */
  estimate_s?: number | null;
  next_opening?: string | null;
}

export interface CreatedConversation {
  conversation: ConversationSummary;
  token: string;
}

export interface SessionInfo {
  adviser: AdviserInfo;
  csrf_token: string;
}

export interface Transcript {
  conversation: ConversationSummary;
  events: EventMsg[];
}

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Machine-readable fields of the error body besides code and message (e.g.
   * `starts_at` / `opens_at` of `too_early`). */
  readonly details: Record<string, unknown>;
  constructor(
    code: string,
    message: string,
    status: number,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export async function api<T>(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", "network error", 0);
  }
  let data: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (
      data as { error?: { code?: string; message?: string } & Record<string, unknown> } | null
    )?.error;
    throw new ApiError(
      err?.code ?? `http_${res.status}`,
      err?.message ?? res.statusText,
      res.status,
      err ?? {},
    );
  }
  return data as T;
}
