/** Storage contract: whole-deployment snapshots and restores (lgts export, import, migrate, backup). */
import type { Assistant, AssistantVersion, Cron, Run, Thread } from "../records.js";
import type { WebhookDelivery } from "./webhooks.js";
import type { StoreItem, StoreVector } from "./store-items.js";
import type { CheckpointKey, CheckpointPut, CheckpointWrite } from "./checkpoints.js";

/** A store item as stored: the item and its embeddings. */
export interface StoredStoreItem extends StoreItem {
  vectors: StoreVector[];
}

/**
 * Every kind of record a deployment holds, exactly as stored (what `lgts export` writes, one
 * record per line): restored as they are, they give back the same API reads.
 */
export interface ArchiveRecords {
  /** An assistant's current state and every version of it (ascending). */
  assistant: { assistant: Assistant; versions: AssistantVersion[] };
  /** With its `ttl`. */
  thread: Thread;
  checkpoint: CheckpointPut;
  /** The pending writes recorded against one checkpoint (which need not exist), in recorded order. */
  checkpoint_writes: CheckpointKey & { writes: CheckpointWrite[] };
  run: Run;
  /** With the user its firings run as (`auth_user`). */
  cron: Cron;
  store_item: StoredStoreItem;
  webhook: WebhookDelivery;
}
export type ArchiveKind = keyof ArchiveRecords;

/** A consistent view of everything stored at one moment (see `StorageArchive.snapshot`). */
export interface ArchiveView {
  /** How many records of each kind the view holds. */
  counts(): Promise<Record<ArchiveKind, number>>;
  /**
   * The records of one kind, `batchSize` at a time (keyset pagination on PostgreSQL; slices of
   * the view on the embedded store), never all of them at once. Read-only.
   */
  records<K extends ArchiveKind>(kind: K, batchSize: number): AsyncIterable<ArchiveRecords[K][]>;
}

/** Whole-deployment reads and writes, for export, import, backups and moves between backends. */
export interface StorageArchive {
  /**
   * Runs `work` over what is stored at one moment, while writes go on: PostgreSQL, a REPEATABLE
   * READ transaction; the embedded store, the (never mutated) stored records taken in one
   * synchronous step, once durable. Every write acknowledged before the call is in the view.
   */
  snapshot<T>(work: (view: ArchiveView) => Promise<T>): Promise<T>;
  /**
   * Stores records exactly as given (ids, timestamps, versions, statuses). A record whose id is
   * taken is a ConflictError unless `replace` (then it is replaced). Resolves once durable.
   */
  restore<K extends ArchiveKind>(kind: K, records: readonly ArchiveRecords[K][], options?: { replace?: boolean }): Promise<void>;
}
