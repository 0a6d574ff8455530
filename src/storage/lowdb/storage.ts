/**
 * The embedded default `Storage`: lowdb files under one data directory.
 *
 *   <dataDir>/assistants/{meta.json,000.json..}   assistants with their versions
 *   <dataDir>/threads/{meta.json,000.json..}      threads
 *   <dataDir>/checkpoints/{meta.json,000.json..}  checkpoints and pending writes, sharded by thread id
 *   <dataDir>/runs/{meta.json,000.json..}         runs, sharded by thread id
 *   <dataDir>/crons/{meta.json,000.json..}        crons
 *   <dataDir>/store/{meta.json,000.json..}        store items with their embeddings
 *   <dataDir>/webhooks/{meta.json,000.json..}     webhook deliveries owed (the outbox)
 *   <dataDir>/log-<generation>.ndjson             commit log: mutations not yet in their shard
 *   <dataDir>/log-next.tmp                         the commit log's next file, being prepared
 *   <dataDir>/health.json                          last storage health check
 *   <dataDir>/format.json                          the directory's data format (data-format.ts)
 *
 * A mutation is acknowledged once the commit log holds it (group commit: one fsync for all the
 * mutations of a flush, whichever collections they touch); a checkpoint then writes what changed
 * to the shards (appended segments, or whole rewrites: see Collection) and drops the log. Opening
 * replays whatever log a crash left.
 *
 * One process owns a data directory at a time.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { StorageUnavailableError } from "../errors.js";
import type { Storage, ThreadHooks } from "../types.js";
import { LowdbArchive } from "./archive.js";
import { assistantCollectionOptions, LowdbAssistants } from "./assistants.js";
import { checkpointCollectionOptions, LowdbCheckpoints } from "./checkpoints.js";
import { Collection, type CollectionOptions } from "./collection.js";
import { CommitLog, removePreparing, replayLogs, withdrawable, type Withdrawable } from "./commit-log.js";
import { cronCollectionOptions, LowdbCrons } from "./crons.js";
import { openDataFormat, type DataFormatOptions } from "./data-format.js";
import { DurableJsonFile, type FileIO } from "./durable-file.js";
import { LowdbRuns, runCollectionOptions } from "./runs.js";
import { LowdbStoreItems, storeItemCollectionOptions } from "./store-items.js";
import { LowdbThreads, threadCollectionOptions } from "./threads.js";
import { LowdbWebhooks, webhookCollectionOptions } from "./webhooks.js";

/**
 * Each collection: its folder under the data directory, and the shard count it gets when first
 * created. A write rewrites one shard, so its cost grows with records per shard: aim for a few
 * hundred records per shard at most (1024 thread shards keep a shard around 60 KB at 100k threads).
 */
const LAYOUT = {
  assistants: { dir: "assistants", shards: 64, options: assistantCollectionOptions },
  threads: { dir: "threads", shards: 1024, options: threadCollectionOptions },
  checkpoints: { dir: "checkpoints", shards: 1024, options: checkpointCollectionOptions },
  runs: { dir: "runs", shards: 1024, options: runCollectionOptions },
  crons: { dir: "crons", shards: 64, options: cronCollectionOptions },
  storeItems: { dir: "store", shards: 1024, options: storeItemCollectionOptions },
  webhooks: { dir: "webhooks", shards: 16, options: webhookCollectionOptions },
} as const;

type CollectionName = keyof typeof LAYOUT;

/** Default log bytes after which a checkpoint rewrites the changed shards (bounds replay at startup). */
const CHECKPOINT_LOG_BYTES = 16 * 1024 * 1024;

/** Checkpoint shards unused this long leave memory (their files hold them)... */
const SHARD_IDLE_MS = 10_000;
/** ...checked this often (a shard in use when its rewrite ends stays until then). */
const EVICT_EVERY_MS = 1000;

/** Rewritten by each health check (`check()`); holds nothing else. */
const HEALTH_FILE = "health.json";
type Collections = {
  [K in CollectionName]: ReturnType<(typeof LAYOUT)[K]["options"]> extends CollectionOptions<infer T> ? Collection<T> : never;
};

export interface LowdbStorageOptions {
  dataDir: string;
  /** Shard counts used when a collection is first created. */
  shards?: Partial<Record<CollectionName, number>>;
  /** Clock of store-item expiry (tests move it by hand). */
  clock?: () => number;
  /** Log bytes after which a checkpoint rewrites the changed shards (default 16 MiB). */
  checkpointLogBytes?: number;
  /** File calls of durable writes; defaults to node's (tests substitute a recording one). */
  io?: FileIO;
  /** The data format and its migration steps (tests substitute their own). */
  format?: DataFormatOptions;
  /** How long a checkpoint shard stays in memory unused (default 10 s; 0: never dropped but by `evictIdle`). */
  shardIdleMs?: number;
}

export class LowdbStorage implements Storage {
  readonly backend = "lowdb";
  /** One commit log, flushed in order: a durable line carries every line before it. */
  readonly durableInOrder = true;
  readonly assistants: LowdbAssistants;
  readonly threads: LowdbThreads;
  readonly checkpoints: LowdbCheckpoints;
  readonly runs: LowdbRuns;
  readonly crons: LowdbCrons;
  readonly storeItems: LowdbStoreItems;
  readonly webhooks: LowdbWebhooks;
  readonly archive: LowdbArchive;
  readonly #collections: Collections;
  readonly #threadHooks = new Set<ThreadHooks>();
  readonly #log: CommitLog;
  /**
   * Temporary threads (a stateless run's), with the withdrawable their records' lines go under:
   * one deleted before any of them left for the disk writes nothing at all. Emptied before shards
   * are rewritten (a checkpoint, the close), which puts the records on disk without their lines.
   */
  readonly #temporary = new Map<string, Withdrawable>();
  readonly #healthFile: DurableJsonFile<{ checked_at: string }>;
  #checkpointing: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  readonly #evicting: NodeJS.Timeout | null;

  private constructor(
    collections: Collections,
    options: LowdbStorageOptions,
    generation: number,
    healthFile: DurableJsonFile<{ checked_at: string }>,
  ) {
    this.#collections = collections;
    this.#healthFile = healthFile;
    const limit = options.checkpointLogBytes ?? CHECKPOINT_LOG_BYTES;
    this.#log = new CommitLog(options.dataDir, generation, limit, () => this.#checkpoint(), options.io);
    // a thread's records: the thread, and its runs and checkpoints (sharded by their thread's id)
    const threadRecords: readonly string[] = ["threads", "runs", "checkpoints"] satisfies CollectionName[];
    const temporaryOf = (threadId: string) => this.#temporary.get(threadId);
    for (const [name, collection] of Object.entries(collections)) {
      collection.attachLog(name, this.#log, threadRecords.includes(name) ? temporaryOf : undefined);
    }
    this.assistants = new LowdbAssistants(collections.assistants);
    this.threads = new LowdbThreads(
      collections.threads,
      () => this.#threadHooks,
      {
        begin: (threadId) => {
          if (!this.#checkpointing && !this.#closing) this.#temporary.set(threadId, withdrawable());
        },
        deleting: (threadId, deletes) => {
          const unit = this.#temporary.get(threadId);
          if (unit) this.#log.withdraw(unit);
          try {
            return this.#log.atomically(deletes);
          } finally {
            this.#temporary.delete(threadId);
          }
        },
      },
      // a thread's checkpoints, runs and crons go with it, in its commit-log record
      (threadId) => Promise.all([this.checkpoints.deleteThread(threadId), this.runs.deleteThread(threadId), this.crons.deleteThread(threadId)]),
      (threadId, work) => this.checkpoints.hold(threadId, work),
    );
    this.checkpoints = new LowdbCheckpoints(collections.checkpoints);
    this.runs = new LowdbRuns(collections.runs, collections.threads, collections.webhooks, (writes) => this.#log.atomically(writes));
    this.webhooks = new LowdbWebhooks(collections.webhooks);
    this.crons = new LowdbCrons(collections.crons);
    this.storeItems = new LowdbStoreItems(collections.storeItems, options.clock ?? Date.now);
    this.archive = new LowdbArchive(
      collections,
      () => this.#log.durable(),
      (item) => this.storeItems.restore(item),
    );
    // a thread's copy gets its checkpoints (its deletion takes what it owns: see LowdbThreads)
    this.#threadHooks.add({ copy: (source, target) => this.checkpoints.copyThread(source, target) });
    const idleMs = options.shardIdleMs ?? SHARD_IDLE_MS;
    this.#evicting = idleMs > 0 ? setInterval(() => this.evictIdle(idleMs), Math.min(idleMs, EVICT_EVERY_MS)).unref() : null;
  }

  /** Drops from memory the checkpoint shards unused for `idleMs` (see Collection); returns how many. */
  evictIdle(idleMs = 0): number {
    return this.#collections.checkpoints.evictIdle(idleMs);
  }

  static async open(options: LowdbStorageOptions): Promise<LowdbStorage> {
    await mkdir(options.dataDir, { recursive: true });
    await openDataFormat(options.dataDir, { ...options.format, ...(options.io ? { io: options.io } : {}) });
    const names = Object.keys(LAYOUT) as CollectionName[];
    const opened = await Promise.all(
      names.map((name) => {
        const { dir, shards, options: collectionOptions } = LAYOUT[name];
        const folder = path.join(options.dataDir, dir);
        const opts = collectionOptions(folder, options.shards?.[name] ?? shards) as CollectionOptions<never>;
        return Collection.open({ ...opts, io: options.io });
      }),
    );
    const collections = Object.fromEntries(names.map((name, i) => [name, opened[i]])) as unknown as Collections;
    // what a crash left in the log goes into memory and then, durably, into the shards (a log
    // file it left half prepared is never read: deleted before the log files are listed)
    await removePreparing(options.dataDir);
    const replayed = await replayLogs(options.dataDir, (entry) => {
      const collection = collections[entry.c as CollectionName] as Collection<unknown> | undefined;
      if (!collection) throw new Error(`commit log in ${options.dataDir} names an unknown collection '${entry.c}'`);
      collection.applyLogged(entry);
    });
    const healthFile = new DurableJsonFile<{ checked_at: string }>(path.join(options.dataDir, HEALTH_FILE), options.io);
    const storage = new LowdbStorage(collections, options, (replayed.at(-1) ?? 0) + 1, healthFile);
    await storage.#checkpointNow(storage.#log.generation);
    // the checkpoints are all in their files now: read back a thread at a time, when used
    storage.evictIdle();
    return storage;
  }

  /** Rewrites the shards the log changed, then drops the log they are in. Failures keep the log. */
  #checkpoint(): void {
    this.#temporary.clear();
    this.#checkpointing ??= (async () => this.#checkpointNow((await this.#log.rotate()) + 1))()
      .catch(() => undefined) // the log stays and a later checkpoint (or the next open) retries
      .finally(() => (this.#checkpointing = null));
  }

  /** Rewrites every changed shard, then deletes the log generations below `generation`. */
  async #checkpointNow(generation: number): Promise<void> {
    await Promise.all(Object.values(this.#collections).map((c) => c.writeDirtyShards()));
    await this.#log.removeBefore(generation);
  }

  /** A durable write to `<dataDir>/health.json`: fails when the disk is gone, full or read-only. */
  async check(): Promise<void> {
    if (this.#closing) throw new StorageUnavailableError("storage is closed");
    try {
      await this.#healthFile.write({ checked_at: new Date().toISOString() });
    } catch (err) {
      throw new StorageUnavailableError(`data directory is not writable: ${(err as Error).message}`, { cause: err });
    }
  }

  addThreadHooks(hooks: ThreadHooks): () => void {
    if (this.#closing) throw new StorageUnavailableError("storage is closed");
    this.#threadHooks.add(hooks);
    return () => this.#threadHooks.delete(hooks);
  }

  /**
   * Records in memory, mutations held until their shard's file has them (checkpoints), shard
   * writes and longest write block so far (diagnostics, benchmark).
   */
  stats(): Record<CollectionName, { records: number; unwritten: number; shards: number; writes: number; maxWriteBlockMs: number }> {
    const entries = Object.entries(this.#collections).map(([name, c]) => [
      name,
      { records: c.size, unwritten: c.unwritten, shards: c.shardCount, writes: c.writes, maxWriteBlockMs: c.maxWriteBlockMs },
    ]);
    return Object.fromEntries(entries) as ReturnType<LowdbStorage["stats"]>;
  }

  /** Commit log flushes so far (each one fsync, shared by every mutation it carried). */
  get logFlushes(): number {
    return this.#log.flushes;
  }

  /** Commit log lines (mutations) and flushes (fsyncs) so far (benchmarks: per-run costs). */
  get logStats(): { appends: number; flushes: number } {
    return { appends: this.#log.appends, flushes: this.#log.flushes };
  }

  /** Refuses further mutations, makes every one made so far durable in its shard, drops the log. */
  close(): Promise<void> {
    this.#temporary.clear();
    this.#closing ??= (async () => {
      clearInterval(this.#evicting ?? undefined);
      const collections = Object.values(this.#collections);
      await Promise.all(collections.map((c) => c.close()));
      await this.#checkpointing;
      await this.#log.close();
      // a last checkpoint only makes the next open quicker: if it fails (disk full, data
      // directory gone), the log still holds every acknowledged mutation for the next open
      await this.#checkpointNow(this.#log.generation).catch(() => undefined);
    })();
    return this.#closing;
  }
}
