// The customer's only persistent state: written when a conversation starts, never
// before (privacy), removed when the customer starts a new one or the token dies.
import { isClientId, type OutboxItem } from "../lib/ws";

export const STORAGE_KEY = "visavis.conversation";

export interface StoredConversation {
  token: string;
  conversation_id: string;
  outbox: OutboxItem[];
}

export function loadStored(): StoredConversation | null {
  let raw: string | null;
  try {
    raw = localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
  if (!raw) return null;
  try {
    const data = JSON.parse(raw) as Partial<StoredConversation>;
    if (typeof data.token !== "string" || typeof data.conversation_id !== "string") return null;
    const outbox = Array.isArray(data.outbox)
      ? data.outbox.filter(
          (i): i is OutboxItem =>
            !!i &&
            isClientId(i.client_id) &&
            typeof i.text === "string" &&
            i.conversation_id === data.conversation_id,
        )
      : [];
    return { token: data.token, conversation_id: data.conversation_id, outbox };
  } catch {
    return null;
  }
}

export function saveStored(value: StoredConversation): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
  } catch {
    /* storage blocked (private mode, partitioned iframe): the chat still works in this tab */
  }
}

export function clearStored(): void {
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing to clear */
  }
}
