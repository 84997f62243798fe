// Small helpers the customer app and the public pages share (no components here, so
// a page importing them does not pull in the app).
import { lang } from "../lib/i18n";

/** An adviser as the portal lists them (GET /api/v1/portal). */
export interface PortalAdviser {
  id: string;
  name: string;
  photo_url: string | null;
  languages: string[];
  topics: string[];
  bio: string;
  status: "available" | "busy" | "away" | "offline";
}

/** Query string a page passes on to the next: widget embedding (embed, host), the
 * current language, and `extra` (empty values left out). */
export function carriedParams(extra: Record<string, string> = {}): string {
  const from = new URLSearchParams(location.search);
  const out = new URLSearchParams();
  for (const key of ["embed", "host"]) {
    const v = from.get(key);
    if (v) out.set(key, v);
  }
  out.set("lang", lang());
  for (const [k, v] of Object.entries(extra)) if (v) out.set(k, v);
  return out.toString();
}

export function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .map((w) => w[0] ?? "")
      .join("")
      .slice(0, 2)
      .toUpperCase() || "?"
  );
}
