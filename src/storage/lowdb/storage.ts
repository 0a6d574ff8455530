/**
 * The embedded default `Storage`: lowdb files under one data directory.
 *
 *   <dataDir>/assistants/{meta.json,000.json..}   assistants with their versions
 *   <dataDir>/threads/{meta.json,000.json..}      threads
 *   <dataDir>/checkpoints/{meta.json,000.json..}  checkpoints and pending writes, sharded by thread id
 *   <dataDir>/runs/{meta.json,000.json..}         runs, sharded by thread id
 *   <dataDir>/crons/{meta.json,000.json..}        crons
 *   <dataDir>/store/{meta.json,000.json..}        store items with their embeddings
 *
 * One process owns a data directory at a time.
 */
import path from "node:path";
import { StorageUnavailableError } from "../errors.js";
import type { Cron, Run, Thread } from "../records.js";
import type { Storage, ThreadHooks } from "../types.js";
import { assistantCollectionOptions, LowdbAssistants, type AssistantEntity } from "./assistants.js";
import { checkpointCollectionOptions, LowdbCheckpoints, type CheckpointEntity } from "./checkpoints.js";
import { Collection } from "./collection.js";
import { cronCollectionOptions, LowdbCrons } from "./crons.js";
import { LowdbRuns, runCollectionOptions } from "./runs.js";
import { LowdbStoreItems, storeItemCollectionOptions, type StoreItemEntity } from "./store-items.js";
import { LowdbThreads, threadCollectionOptions } from "./threads.js";

export interface LowdbStorageOptions {
  dataDir: string;
  /** Shard counts used when a collection is first created. */
  shards?: { assistants?: number; threads?: number; checkpoints?: number; runs?: number; storeItems?: number };
}

/**
 * Shard counts of new collections. A write rewrites one shard, so its cost grows
 * with records per shard: aim for a few hundred records per shard at most
 * (1024 thread shards keep a shard around 60 KB at 100k threads).
 */
export const DEFAULT_SHARDS = { assistants: 64, threads: 1024, checkpoints: 1024, runs: 1024, storeItems: 1024, crons: 64 } as const;

export class LowdbStorage implements Storage {
  readonly assistants: LowdbAssistants;
  readonly threads: LowdbThreads;
  readonly checkpoints: LowdbCheckpoints;
  readonly runs: LowdbRuns;
  readonly crons: LowdbCrons;
  readonly storeItems: LowdbStoreItems;
  readonly #collections: {
    assistants: Collection<AssistantEntity>;
    threads: Collection<Thread>;
    checkpoints: Collection<CheckpointEntity>;
    runs: Collection<Run>;
    crons: Collection<Cron>;
    storeItems: Collection<StoreItemEntity>;
  };
  readonly #threadHooks = new Set<ThreadHooks>();
  #closing: Promise<void> | null = null;

  private constructor(
    assistants: Collection<AssistantEntity>,
    threads: Collection<Thread>,
    checkpoints: Collection<CheckpointEntity>,
    runs: Collection<Run>,
    storeItems: Collection<StoreItemEntity>,
    crons: Collection<Cron>,
  ) {
    this.#collections = { checkpoints, crons, assistants, threads, runs, storeItems };
    this.assistants = new LowdbAssistants(assistants);
    this.threads = new LowdbThreads(threads, () => this.#threadHooks);
    this.checkpoints = new LowdbCheckpoints(checkpoints);
    // A thread's checkpoints go with it, and a copy gets the whole history.
    this.#threadHooks.add({
      copy: (source, target) => this.checkpoints.copyThread(source, target),
      delete: (threadId) => this.checkpoints.deleteThread(threadId),
    });
    this.runs = new LowdbRuns(runs);
    this.crons = new LowdbCrons(crons);
    this.storeItems = new LowdbStoreItems(storeItems);
    // A thread's runs and crons go with it; copies start without either.
    this.#threadHooks.add({
      delete: async (threadId) => {
        await this.runs.deleteThread(threadId);
        await this.crons.deleteThread(threadId);
      },
    });
  }

  static async open(options: LowdbStorageOptions): Promise<LowdbStorage> {
    const shards = { ...DEFAULT_SHARDS, ...options.shards };
    const [assistants, threads, checkpoints, runs, storeItems, crons] = await Promise.all([
      Collection.open(assistantCollectionOptions(path.join(options.dataDir, "assistants"), shards.assistants)),
      Collection.open(threadCollectionOptions(path.join(options.dataDir, "threads"), shards.threads)),
      Collection.open(checkpointCollectionOptions(path.join(options.dataDir, "checkpoints"), shards.checkpoints)),
      Collection.open(runCollectionOptions(path.join(options.dataDir, "runs"), shards.runs)),
      Collection.open(storeItemCollectionOptions(path.join(options.dataDir, "store"), shards.storeItems)),
      Collection.open(cronCollectionOptions(path.join(options.dataDir, "crons"), shards.crons)),
    ]);
    return new LowdbStorage(assistants, threads, checkpoints, runs, storeItems, crons);
  }

  addThreadHooks(hooks: ThreadHooks): () => void {
    if (this.#closing) throw new StorageUnavailableError("storage is closed");
    this.#threadHooks.add(hooks);
    return () => this.#threadHooks.delete(hooks);
  }

  /** Record counts, shard writes and longest write block so far (diagnostics, benchmark). */
  stats(): Record<
    "assistants" | "threads" | "checkpoints" | "runs" | "storeItems" | "crons",
    { records: number; shards: number; writes: number; maxWriteBlockMs: number }
  > {
    const of = <T>(c: Collection<T>) => ({
      records: c.size,
      shards: c.shardCount,
      writes: c.writes,
      maxWriteBlockMs: c.maxWriteBlockMs,
    });
    return {
      assistants: of(this.#collections.assistants),
      threads: of(this.#collections.threads),
      checkpoints: of(this.#collections.checkpoints),
      runs: of(this.#collections.runs),
      crons: of(this.#collections.crons),
      storeItems: of(this.#collections.storeItems),
    };
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all([
      this.#collections.assistants.close(),
      this.#collections.threads.close(),
      this.#collections.checkpoints.close(),
      this.#collections.runs.close(),
      this.#collections.crons.close(),
      this.#collections.storeItems.close(),
    ]).then(() => undefined);
    return this.#closing;
  }
}
