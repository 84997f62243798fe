// Until the room layout (room/room.ts) shows it, both apps mount the document stage
// (room/doc-stage.ts) where the conversation is. Its code is its own chunk, fetched
// with the first active conversation; the tag upgrades when it arrives.
let loading: Promise<unknown> | null = null;

export function loadDocStage(): void {
  loading ??= import("../room/doc-stage").catch(() => {
    loading = null; // offline: tried again with the next render
  });
}
