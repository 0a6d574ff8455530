/** The kinds of record an archive holds, in the order they are written and restored. */
import type { ArchiveKind } from "../types.js";

/** Owners before what refers to them (an assistant before its runs, a thread before its checkpoints). */
export const ARCHIVE_KINDS: readonly ArchiveKind[] = [
  "assistant",
  "thread",
  "checkpoint",
  "checkpoint_writes",
  "run",
  "cron",
  "store_item",
  "webhook",
];

/** The id of a record of `kind` (messages, conflicts). */
export function archiveRecordId(kind: ArchiveKind, record: unknown): string {
  const r = record as Record<string, unknown>;
  switch (kind) {
    case "assistant":
      return String((r.assistant as Record<string, unknown>).assistant_id);
    case "thread":
      return String(r.thread_id);
    case "checkpoint":
    case "checkpoint_writes":
      return JSON.stringify([r.thread_id, r.checkpoint_ns, r.checkpoint_id]);
    case "run":
      return String(r.run_id);
    case "cron":
      return String(r.cron_id);
    case "store_item":
      return JSON.stringify([r.namespace, r.key]);
    case "webhook":
      return String(r.delivery_id);
  }
}
