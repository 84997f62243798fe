// The stage's HTTP side (docs/protocol.md, "HTTP API"): access tokens for the GETs an
// <img>, <video> or download link makes, uploads with progress, the library.
//
// Customers authenticate with their conversation token (Bearer), advisers with their
// session cookie plus the session's CSRF token, fetched once from GET /api/v1/session.
import { api, ApiError } from "../lib/api";
import type { DocumentAccess, DocumentInfo, LibraryDocument } from "../lib/protocol.gen";
import type { VisavisClient } from "../lib/ws";

export type Role = "customer" | "adviser";

/** Renew a token when less than this is left (tokens live 15 minutes). */
const RENEW_BEFORE_MS = 2 * 60_000;

let csrfLoad: Promise<string> | null = null;

/** The adviser's CSRF token (the console has it too, but the stage holds only the client). */
function csrfToken(): Promise<string> {
  csrfLoad ??= api<{ csrf_token: string }>("GET", "/api/v1/session").then(
    (s) => s.csrf_token,
    (err: unknown) => {
      csrfLoad = null;
      throw err;
    },
  );
  return csrfLoad;
}

/** Headers that say who asks. */
export async function authHeaders(
  client: VisavisClient | null,
  role: Role,
): Promise<Record<string, string>> {
  if (role === "customer") {
    const token = client?.bearer;
    return token ? { Authorization: `Bearer ${token}` } : {};
  }
  return { "X-CSRF-Token": await csrfToken() };
}

interface Held {
  token: string;
  /** Local clock (ms) after which it is renewed. */
  renewAt: number;
}

/** Short-lived access tokens per document, fetched once and renewed before expiry. */
export class AccessTokens {
  private readonly held = new Map<string, Held>();
  private readonly loading = new Map<string, Promise<string>>();

  constructor(
    private readonly client: () => VisavisClient | null,
    private readonly role: () => Role,
  ) {}

  /** A token for this document valid for at least two more minutes. */
  async token(documentId: string): Promise<string> {
    const h = this.held.get(documentId);
    if (h && Date.now() < h.renewAt) return h.token;
    let p = this.loading.get(documentId);
    if (!p) {
      p = this.fetch(documentId).finally(() => this.loading.delete(documentId));
      this.loading.set(documentId, p);
    }
    return p;
  }

  /** The token held now (null: none yet or due for renewal). */
  peek(documentId: string): string | null {
    const h = this.held.get(documentId);
    return h && Date.now() < h.renewAt ? h.token : null;
  }

  /** When the held token is due (ms from now; null: none held). */
  dueIn(documentId: string): number | null {
    const h = this.held.get(documentId);
    return h ? h.renewAt - Date.now() : null;
  }

  forget(documentId: string): void {
    this.held.delete(documentId);
  }

  private async fetch(documentId: string): Promise<string> {
    const asked = Date.now();
    const res = await api<DocumentAccess>(
      "POST",
      `/api/v1/documents/${encodeURIComponent(documentId)}/access`,
      undefined,
      await authHeaders(this.client(), this.role()),
    );
    // The server's expiry in the local clock: its lifetime from the server's view
    // is unknown, so trust the difference only up to the documented 15 minutes.
    const lifetime = Math.min(Date.parse(res.expires_at) - Date.now(), 15 * 60_000);
    const renewAt =
      asked + Math.max(30_000, (Number.isFinite(lifetime) ? lifetime : 0) - RENEW_BEFORE_MS);
    this.held.set(documentId, { token: res.token, renewAt });
    return res.token;
  }
}

export function pageUrl(documentId: string, page: number, width: number, token: string): string {
  const id = encodeURIComponent(documentId);
  return `/api/v1/documents/${id}/pages/${page}?w=${width}&a=${encodeURIComponent(token)}`;
}

export function fileUrl(documentId: string, token: string): string {
  return `/api/v1/documents/${encodeURIComponent(documentId)}/file?a=${encodeURIComponent(token)}`;
}

export interface Upload {
  readonly done: Promise<DocumentInfo>;
  abort(): void;
}

/** POST a file into the conversation with upload progress (fetch has none): `onProgress`
 * gets bytes sent and the total; the server's refusal rejects with its code. */
export function uploadDocument(opts: {
  conversationId: string;
  file: Blob;
  name: string;
  source: "upload" | "snapshot";
  headers: Record<string, string>;
  onProgress: (sent: number, total: number) => void;
}): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<DocumentInfo>((resolve, reject) => {
    const q = new URLSearchParams({ name: opts.name.slice(0, 200), source: opts.source });
    xhr.open(
      "POST",
      `/api/v1/conversations/${encodeURIComponent(opts.conversationId)}/documents?${q}`,
    );
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", opts.file.type || "application/octet-stream");
    for (const [k, v] of Object.entries(opts.headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (ev) => {
      opts.onProgress(ev.loaded, ev.lengthComputable ? ev.total : opts.file.size);
    };
    xhr.onload = () => {
      type Answer = { document?: DocumentInfo; error?: { code?: string; message?: string } };
      let data: Answer | null;
      try {
        data = JSON.parse(xhr.responseText) as Answer;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data?.document) resolve(data.document);
      else
        reject(
          new ApiError(
            data?.error?.code ?? (xhr.status === 413 ? "upload_too_large" : `http_${xhr.status}`),
            data?.error?.message ?? xhr.statusText,
            xhr.status,
          ),
        );
    };
    xhr.onerror = () => reject(new ApiError("network", "network error", 0));
    xhr.onabort = () => reject(new ApiError("aborted", "aborted", 0));
    xhr.send(opts.file);
  });
  return { done, abort: () => xhr.abort() };
}

export async function loadLibrary(): Promise<LibraryDocument[]> {
  return (await api<{ documents: LibraryDocument[] }>("GET", "/api/v1/library")).documents ?? [];
}
