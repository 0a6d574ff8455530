/**
 * The LangGraph checkpointer of the server: a `BaseCheckpointSaver` over `storage.checkpoints`.
 *
 * Values go through the saver's serde (`dumpsTyped`/`loadsTyped`), so LangChain messages,
 * `Send`s, interrupts and errors come back as the objects they were. Metadata is kept as plain
 * JSON so that history can be filtered by it in storage.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  compareWritesSortKeys,
  EXCLUDED_METADATA_KEYS,
  getCheckpointId,
  WRITES_IDX_MAP,
  writesSortKey,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from "@langchain/langgraph-checkpoint";
import type { CheckpointsRepository, CheckpointWrite, Metadata, SaveOptions, SerializedValue, StoredCheckpoint } from "../storage/types.js";

const utf8 = new TextDecoder();

export class StorageCheckpointSaver extends BaseCheckpointSaver {
  constructor(
    private readonly checkpoints: CheckpointsRepository,
    serde?: SerializerProtocol,
  ) {
    super(serde);
  }

  /**
   * A saver for one run whose saves return once applied (readable at once, on disk shortly after)
   * instead of once durable, so consecutive steps share disk writes. The run's saves must be
   * durable before its end is: it calls `settle()` first, or, on a storage that makes writes
   * durable in order (`Storage.durableInOrder`), lets its end's durability carry them. A crash
   * before that loses only checkpoints of a run that is not finished yet, which recovery retries
   * from its last durable checkpoint. This is LangGraph's `durability: "async"` (and `"exit"`);
   * `"sync"` runs use the durable saver itself.
   */
  deferringDurability(): DeferredDurabilitySaver {
    return new DeferredDurabilitySaver(this.checkpoints, this.serde);
  }

  /** Waits until a storage write is durable. */
  protected async persist(write: Promise<void>): Promise<void> {
    await write;
  }

  /** Resolves once every save made so far is durable (each save of this saver already is). */
  async settle(): Promise<void> {}

  /** Whether reads may return saves not durable yet (a run reading what it saved itself). */
  protected readonly readsOwnWrites: boolean = false;

  /** How durable a save must be once stored (see SaveOptions). */
  protected readonly saveOptions: SaveOptions = {};

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id as string | undefined;
    if (threadId === undefined) return undefined;
    const stored = await this.checkpoints.get(
      {
        thread_id: threadId,
        checkpoint_ns: (config.configurable?.checkpoint_ns as string | undefined) ?? "",
        checkpoint_id: getCheckpointId(config) || undefined,
      },
      { ownWrites: this.readsOwnWrites },
    );
    return stored && this.#tuple(stored);
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const threadId = config.configurable?.thread_id as string | undefined;
    // Listing across threads would scan every thread's history; nothing in the server needs it.
    if (threadId === undefined) throw new Error("StorageCheckpointSaver.list needs configurable.thread_id");
    const rows = await this.checkpoints.list({
      thread_id: threadId,
      checkpoint_ns: config.configurable?.checkpoint_ns as string | undefined,
      checkpoint_id: (config.configurable?.checkpoint_id as string | undefined) || undefined,
      before: (options.before?.configurable?.checkpoint_id as string | undefined) || undefined,
      metadata: options.filter,
      limit: options.limit,
    });
    for (const row of rows) yield await this.#tuple(row);
  }

  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, _newVersions: ChannelVersions): Promise<RunnableConfig> {
    const threadId = config.configurable?.thread_id as string | undefined;
    if (threadId === undefined) throw new Error('Cannot save a checkpoint: the config has no "configurable.thread_id"');
    // Both serialize synchronously, before any await: the caller may go on mutating the checkpoint.
    const [serialized, json] = await Promise.all([this.#dump(checkpoint), this.#dumpJson(checkpointMetadata(config, metadata))]);
    const checkpointNs = (config.configurable?.checkpoint_ns as string | undefined) ?? "";
    await this.persist(
      this.checkpoints.put(
        {
          thread_id: threadId,
          checkpoint_ns: checkpointNs,
          checkpoint_id: checkpoint.id,
          parent_checkpoint_id: (config.configurable?.checkpoint_id as string | undefined) || null,
          checkpoint: serialized,
          metadata: json,
          created_at: isoTimestamp(checkpoint.ts),
        },
        this.saveOptions,
      ),
    );
    return { configurable: { thread_id: threadId, checkpoint_ns: checkpointNs, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ""): Promise<void> {
    const threadId = config.configurable?.thread_id as string | undefined;
    const checkpointId = config.configurable?.checkpoint_id as string | undefined;
    if (threadId === undefined || !checkpointId) {
      throw new Error('Cannot save writes: the config needs "configurable.thread_id" and "configurable.checkpoint_id"');
    }
    const runId = runIdOf(config);
    const stored: CheckpointWrite[] = await Promise.all(
      writes.map(async ([channel, value], i) => ({
        task_id: taskId,
        idx: WRITES_IDX_MAP[channel] ?? i,
        channel,
        value: await this.#dump(value),
        task_path: taskPath,
        run_id: runId,
      })),
    );
    await this.persist(
      this.checkpoints.putWrites(
        {
          thread_id: threadId,
          checkpoint_ns: (config.configurable?.checkpoint_ns as string | undefined) ?? "",
          checkpoint_id: checkpointId,
        },
        stored,
        this.saveOptions,
      ),
    );
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.checkpoints.deleteThread(threadId);
  }

  /** Gives `targetThreadId` a copy of the source thread's whole history. */
  async copyThread(sourceThreadId: string, targetThreadId: string): Promise<void> {
    await this.checkpoints.copyThread(sourceThreadId, targetThreadId);
  }

  /**
   * Rollback: removes what a run saved on a thread (its checkpoints, found by `metadata.run_id`,
   * and its writes). Runs must pass `run_id` in `config.metadata` (or `configurable`) for this.
   */
  async deleteRun(threadId: string, runId: string): Promise<number> {
    return this.checkpoints.deleteRun(threadId, runId);
  }

  async #tuple(stored: StoredCheckpoint): Promise<CheckpointTuple> {
    const key = { thread_id: stored.thread_id, checkpoint_ns: stored.checkpoint_ns };
    const [checkpoint, metadata, pendingWrites] = await Promise.all([
      this.#load(stored.checkpoint) as Promise<Checkpoint>,
      this.serde.loadsTyped("json", JSON.stringify(stored.metadata)) as Promise<CheckpointMetadata>,
      this.#pendingWrites(stored.writes),
    ]);
    return {
      config: { configurable: { ...key, checkpoint_id: stored.checkpoint_id } },
      checkpoint,
      metadata,
      pendingWrites,
      ...(stored.parent_checkpoint_id ? { parentConfig: { configurable: { ...key, checkpoint_id: stored.parent_checkpoint_id } } } : {}),
    };
  }

  /** In the order live execution applies a superstep's writes (the saver contract). */
  async #pendingWrites(writes: CheckpointWrite[]): Promise<CheckpointPendingWrite[]> {
    const ordered = writes.map((w) => ({ w, key: writesSortKey(w.task_path, w.task_id, w.idx) })).sort((a, b) => compareWritesSortKeys(a.key, b.key));
    return Promise.all(ordered.map(async ({ w }): Promise<CheckpointPendingWrite> => [w.task_id, w.channel, await this.#load(w.value)]));
  }

  async #dump(value: unknown): Promise<SerializedValue> {
    const [type, bytes] = await this.serde.dumpsTyped(value);
    return { type, data: type === "json" ? utf8.decode(bytes) : Buffer.from(bytes).toString("base64") };
  }

  /** Metadata must stay JSON (storage filters it): anything the serde would store as bytes is refused. */
  async #dumpJson(value: Metadata): Promise<Metadata> {
    const { type, data } = await this.#dump(value);
    if (type !== "json") throw new Error(`checkpoint metadata must serialize to JSON (the serde produced '${type}')`);
    return JSON.parse(data) as Metadata;
  }

  #load(value: SerializedValue): Promise<unknown> {
    return this.serde.loadsTyped(value.type, value.type === "json" ? value.data : new Uint8Array(Buffer.from(value.data, "base64")));
  }
}

/**
 * The metadata stored with a checkpoint: LangGraph's own (source, step, parents...), plus the
 * run's scalar `config.metadata` and `configurable` entries (run_id, graph_id, user settings) so
 * history can be filtered by them. LangGraph's own keys win; internal keys are left out.
 */
export function checkpointMetadata(config: RunnableConfig, metadata: CheckpointMetadata): Metadata {
  const merged: Metadata = { ...metadata };
  addScalars(merged, config.metadata);
  addScalars(merged, config.configurable);
  return merged;
}

/** Called for every checkpoint: plain loops (a run's configurable holds many internal entries). */
function addScalars(merged: Metadata, source: Record<string, unknown> | undefined): void {
  if (!source) return;
  for (const key of Object.keys(source)) {
    if (key in merged || key.startsWith("__") || EXCLUDED_METADATA_KEYS.has(key)) continue;
    const value = source[key];
    const type = typeof value;
    if (type === "string" || type === "number" || type === "boolean") merged[key] = value;
  }
}

function runIdOf(config: RunnableConfig): string | null {
  const runId = config.configurable?.run_id ?? config.metadata?.run_id;
  return typeof runId === "string" ? runId : null;
}

/**
 * `Date.prototype.toISOString`'s form, which LangGraph's timestamps already have, with fields
 * no date normalizes (days past the 28th are left to Date: February 30th is March 2nd).
 */
const CANONICAL_ISO = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Canonical ISO form, so that stored timestamps compare as strings. */
function isoTimestamp(ts: string): string {
  if (CANONICAL_ISO.test(ts)) return ts;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? ts : new Date(ms).toISOString();
}

export class DeferredDurabilitySaver extends StorageCheckpointSaver {
  /** The run reads back its own saves (its state at the end) without waiting for them to be durable. */
  protected override readonly readsOwnWrites = true;
  /** Storage need not make each save durable on its own: the run's end, stored after them, does. */
  protected override readonly saveOptions: SaveOptions = { deferred: true };
  readonly #pending = new Set<Promise<void>>();
  #failure: { error: unknown } | null = null;
  /** Saves called and not yet applied (still serializing). */
  #saving = 0;
  /** Checkpoints whose save is applied. */
  readonly #applied = new Set<string>();
  #waiters: Array<{ checkpointId: string; resolve: () => void }> = [];

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    this.#saving++;
    try {
      const saved = await super.put(config, checkpoint, metadata, newVersions);
      this.#applied.add(checkpoint.id);
      return saved;
    } finally {
      this.#saving--;
      this.#wake();
    }
  }

  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    this.#saving++;
    try {
      await super.putWrites(config, writes, taskId, taskPath);
    } finally {
      this.#saving--;
      this.#wake();
    }
  }

  /**
   * Resolves once the save of checkpoint `checkpointId` is applied (readable; durable later) and
   * no other save of this saver is still on its way to storage: whatever is stored next comes
   * after all of them. Never settles if that checkpoint is not saved.
   */
  applied(checkpointId: string): Promise<void> {
    if (this.#isApplied(checkpointId)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ checkpointId, resolve }));
  }

  #isApplied(checkpointId: string): boolean {
    return this.#saving === 0 && this.#applied.has(checkpointId);
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!this.#isApplied(waiter.checkpointId)) return true;
      waiter.resolve();
      return false;
    });
  }

  protected override async persist(write: Promise<void>): Promise<void> {
    this.#pending.add(write);
    write.then(
      () => this.#pending.delete(write),
      (error: unknown) => {
        this.#pending.delete(write);
        this.#failure ??= { error };
      },
    );
  }

  /** Resolves once every save made so far is durable; rejects if one of them failed. */
  override async settle(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    if (this.#failure) throw this.#failure.error;
  }
}
