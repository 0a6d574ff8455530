/**
 * StorageArchive over the embedded store's collections. A snapshot is the stored records
 * themselves (never mutated in place: a write replaces the whole record), taken from every
 * collection in one synchronous step, so it is consistent across collections and costs one
 * reference per record; it is handed out once the commit log holds every write it contains.
 * The checkpoints' shards that left memory are read back for it (`holdAll`), and for a restore's
 * conflict checks.
 */
import { ConflictError } from "../errors.js";
import type { ArchiveKind, ArchiveRecords, ArchiveView, StorageArchive } from "../types.js";
import type { AssistantEntity } from "./assistants.js";
import type { CheckpointEntity } from "./checkpoints.js";
import type { Collection } from "./collection.js";
import { copy } from "./json.js";
import type { StoreItemEntity } from "./store-items.js";
import type { Cron, Run, Thread, WebhookDelivery } from "../types.js";
import { archiveRecordId } from "../archive/kinds.js";

export interface ArchiveCollections {
  assistants: Collection<AssistantEntity>;
  threads: Collection<Thread>;
  checkpoints: Collection<CheckpointEntity>;
  runs: Collection<Run>;
  crons: Collection<Cron>;
  storeItems: Collection<StoreItemEntity>;
  webhooks: Collection<WebhookDelivery>;
}

/** Per kind, the stored records (checkpoint entities still carry their `kind` tag). */
type Snapshot = Record<ArchiveKind, readonly object[]>;

/** A stored record as the archive has it: checkpoint entities lose their tag. */
function archived(record: object): object {
  if (!("kind" in record)) return record;
  const { kind: _kind, ...rest } = record as CheckpointEntity;
  return rest;
}

export class LowdbArchive implements StorageArchive {
  constructor(
    private readonly collections: ArchiveCollections,
    /** Resolves once every write made so far is durable. */
    private readonly durable: () => Promise<void>,
    /** Stores a store item (the repository also tracks its expiry). */
    private readonly putStoreItem: (item: StoreItemEntity) => Promise<void>,
  ) {}

  async snapshot<T>(work: (view: ArchiveView) => Promise<T>): Promise<T> {
    const c = this.collections;
    const taken: Snapshot = await c.checkpoints.holdAll(() => this.#take());
    await this.durable();
    return work({
      counts: async () => Object.fromEntries(Object.entries(taken).map(([kind, records]) => [kind, records.length])) as Record<ArchiveKind, number>,
      records: async function* <K extends ArchiveKind>(kind: K, batchSize: number) {
        const records = taken[kind];
        for (let i = 0; i < records.length; i += batchSize) yield records.slice(i, i + batchSize).map(archived) as ArchiveRecords[K][];
      },
    });
  }

  /** Every collection's records, in one synchronous step. */
  #take(): Snapshot {
    const c = this.collections;
    const checkpoints = c.checkpoints.snapshot();
    return {
      assistant: c.assistants.snapshot(),
      thread: c.threads.snapshot(),
      checkpoint: checkpoints.filter((r) => r.kind === "checkpoint"),
      checkpoint_writes: checkpoints.filter((r) => r.kind === "writes"),
      run: c.runs.snapshot(),
      cron: c.crons.snapshot(),
      store_item: c.storeItems.snapshot(),
      webhook: c.webhooks.snapshot(),
    };
  }

  async restore<K extends ArchiveKind>(kind: K, records: readonly ArchiveRecords[K][], options: { replace?: boolean } = {}): Promise<void> {
    const lazy = kind === "checkpoint" || kind === "checkpoint_writes" ? this.collections.checkpoints : null;
    const started = () => {
      const writes = records.map((given) => {
        const record = copy(given) as ArchiveRecords[ArchiveKind];
        const [collection, stored] = this.#stored(kind, record);
        if (!options.replace && collection.get(collection.idOf(stored)) !== undefined) {
          throw new ConflictError(kind, archiveRecordId(kind, record));
        }
        return () => (kind === "store_item" ? this.putStoreItem(stored) : collection.put(stored));
      });
      // every id is checked before the first write: a conflict writes nothing
      return writes.map((write) => write());
    };
    await Promise.all(lazy ? await lazy.holdAll(started) : started());
  }

  #stored(kind: ArchiveKind, record: ArchiveRecords[ArchiveKind]): [Collection<never>, never] {
    const c = this.collections;
    const pick = <T>(collection: Collection<T>, stored: T) => [collection, stored] as unknown as [Collection<never>, never];
    switch (kind) {
      case "assistant":
        return pick(c.assistants, record as AssistantEntity);
      case "thread":
        return pick(c.threads, record as Thread);
      case "checkpoint":
        return pick(c.checkpoints, { ...(record as ArchiveRecords["checkpoint"]), kind: "checkpoint" });
      case "checkpoint_writes":
        return pick(c.checkpoints, { ...(record as ArchiveRecords["checkpoint_writes"]), kind: "writes" });
      case "run":
        return pick(c.runs, record as Run);
      case "cron":
        return pick(c.crons, record as Cron);
      case "store_item":
        return pick(c.storeItems, record as StoreItemEntity);
      case "webhook":
        return pick(c.webhooks, record as WebhookDelivery);
    }
  }
}
