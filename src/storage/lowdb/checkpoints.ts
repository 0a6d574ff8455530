/**
 * CheckpointsRepository over a lowdb `Collection<CheckpointEntity>`.
 *
 * Two kinds of records share one collection, sharded by thread id so that all of a thread's
 * checkpoints and writes live in one shard file (every change to a thread is one atomic write):
 * - a checkpoint record per (thread_id, checkpoint_ns, checkpoint_id);
 * - a writes record per checkpoint, holding that checkpoint's pending writes. It is separate
 *   because LangGraph may record writes before the put of their checkpoint has been made.
 *
 * Indexes: `thread` (every record of a thread) and `namespace` (a thread's checkpoints of one
 * namespace), so "latest checkpoint" and history scans touch one thread's records only.
 *
 * The collection is lazy (collection.ts): a shard whose threads are not in use leaves memory, so
 * every operation runs inside `withShard(thread id)`, which reads it back first when needed.
 */
import { NotFoundError } from "../errors.js";
import type {
  CheckpointKey,
  CheckpointListQuery,
  CheckpointPut,
  CheckpointsRepository,
  CheckpointWrite,
  Metadata,
  StoredCheckpoint,
} from "../types.js";
import { Collection, type CollectionOptions, type HeldRecords } from "./collection.js";
import { copy } from "./json.js";
import { containsPredicate } from "./match.js";

interface CheckpointRecord extends CheckpointPut {
  kind: "checkpoint";
}

interface WritesRecord extends CheckpointKey {
  kind: "writes";
  writes: CheckpointWrite[];
}

export type CheckpointEntity = CheckpointRecord | WritesRecord;

const recordId = (kind: CheckpointEntity["kind"], key: CheckpointKey) => JSON.stringify([kind, key.thread_id, key.checkpoint_ns, key.checkpoint_id]);

const namespaceKey = (threadId: string, checkpointNs: string) => JSON.stringify([threadId, checkpointNs]);

export function checkpointCollectionOptions(dir: string, shards: number): CollectionOptions<CheckpointEntity> {
  return {
    dir,
    shards,
    lazy: true,
    idOf: (r) => recordId(r.kind, r),
    shardKeyOf: (r) => r.thread_id,
    indexes: {
      thread: (r) => r.thread_id,
      namespace: (r) => (r.kind === "checkpoint" ? namespaceKey(r.thread_id, r.checkpoint_ns) : null),
    },
    // a run starts from its thread's latest checkpoint: found without walking the thread's history,
    // and without reading it back from its file (the heads: each namespace's latest and its writes)
    newest: { index: "namespace", newer: (a, b) => newestFirst(a as CheckpointRecord, b as CheckpointRecord) < 0, head: isHead },
  };
}

/**
 * A thread's heads (see Collection.withHeads): its latest checkpoint in each namespace, and the
 * writes of every checkpoint memory keeps (the latest, one its file lacks yet) or lacks (writes
 * whose checkpoint is not saved: LangGraph may record writes before the put of their checkpoint).
 * What a run reads and adds to when it starts from the latest; `putWrites` relies on it: memory
 * holding a checkpoint holds its writes.
 */
function isHead(record: CheckpointEntity, held: HeldRecords<CheckpointEntity>): boolean {
  const latest = held.newest(namespaceKey(record.thread_id, record.checkpoint_ns));
  if (latest?.checkpoint_id === record.checkpoint_id) return true;
  if (record.kind === "checkpoint") return false;
  const checkpoint = recordId("checkpoint", record);
  return held.get(checkpoint) === undefined || held.unwritten(checkpoint);
}

/** Newest first: by timestamp, then by id (uuid6 ids are time ordered within a millisecond too). */
function newestFirst(a: CheckpointKey & { created_at: string }, b: CheckpointKey & { created_at: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.checkpoint_id < b.checkpoint_id ? 1 : a.checkpoint_id > b.checkpoint_id ? -1 : 0;
}

const copyValue = (w: CheckpointWrite): CheckpointWrite => ({ ...w, value: { ...w.value } });

export class LowdbCheckpoints implements CheckpointsRepository {
  constructor(private readonly col: Collection<CheckpointEntity>) {}

  /**
   * A checkpoint newer than its namespace's latest (a run's next step) needs only the thread's
   * heads in memory; any other reads the thread back first.
   */
  put(checkpoint: CheckpointPut): Promise<void> {
    return this.col.withHeads(checkpoint.thread_id, () =>
      this.#isNext(checkpoint) ? this.#put(checkpoint, true) : this.col.withShard(checkpoint.thread_id, () => this.#put(checkpoint)),
    );
  }

  /** Whether `checkpoint` is newer than its namespace's latest: no file holds it yet. */
  #isNext(checkpoint: CheckpointPut): boolean {
    if (this.col.get(recordId("checkpoint", checkpoint)) !== undefined) return false;
    const latest = this.#latest(checkpoint.thread_id, checkpoint.checkpoint_ns);
    return latest === undefined || newestFirst(checkpoint, latest) < 0;
  }

  async #put(checkpoint: CheckpointPut, next = false): Promise<void> {
    const record: CheckpointRecord = {
      kind: "checkpoint",
      thread_id: checkpoint.thread_id,
      checkpoint_ns: checkpoint.checkpoint_ns,
      checkpoint_id: checkpoint.checkpoint_id,
      parent_checkpoint_id: checkpoint.parent_checkpoint_id,
      checkpoint: { type: checkpoint.checkpoint.type, data: checkpoint.checkpoint.data },
      metadata: copy(checkpoint.metadata),
      created_at: checkpoint.created_at,
    };
    await this.col.put(record, next ? { appendable: "new" } : {});
  }

  /**
   * Writes of a checkpoint memory holds (a head, or one saved since) need only the thread's heads
   * in memory (its writes are one of them, or saved since too); any other reads the thread back.
   */
  putWrites(key: CheckpointKey, writes: CheckpointWrite[]): Promise<void> {
    return this.col.withHeads(key.thread_id, () =>
      this.col.get(recordId("checkpoint", key)) !== undefined
        ? this.#putWrites(key, writes)
        : this.col.withShard(key.thread_id, () => this.#putWrites(key, writes)),
    );
  }

  async #putWrites(key: CheckpointKey, writes: CheckpointWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const id = recordId("writes", key);
    const existing = this.col.get(id) as WritesRecord | undefined;
    const merged = new Map<string, CheckpointWrite>();
    for (const w of existing?.writes ?? []) merged.set(`${w.task_id}\u0000${w.idx}`, w);
    for (const w of writes) {
      const slot = `${w.task_id}\u0000${w.idx}`;
      if (w.idx >= 0 && merged.has(slot)) continue;
      merged.set(slot, copyValue(w));
    }
    // memory holds the record when the file does (see putWrites): this one replaces it
    await this.col.put(
      {
        kind: "writes",
        thread_id: key.thread_id,
        checkpoint_ns: key.checkpoint_ns,
        checkpoint_id: key.checkpoint_id,
        writes: [...merged.values()],
      },
      { appendable: "replaces" },
    );
  }

  /** The latest (no `checkpoint_id`) needs only the thread's heads in memory. */
  get(
    key: Omit<CheckpointKey, "checkpoint_id"> & { checkpoint_id?: string },
    options: { ownWrites?: boolean } = {},
  ): Promise<StoredCheckpoint | undefined> {
    const work = () => this.#get(key, options);
    return key.checkpoint_id === undefined ? this.col.withHeads(key.thread_id, work) : this.col.withShard(key.thread_id, work);
  }

  async #get(
    key: Omit<CheckpointKey, "checkpoint_id"> & { checkpoint_id?: string },
    options: { ownWrites?: boolean },
  ): Promise<StoredCheckpoint | undefined> {
    const record =
      key.checkpoint_id !== undefined
        ? (this.col.get(recordId("checkpoint", { ...key, checkpoint_id: key.checkpoint_id })) as CheckpointRecord | undefined)
        : this.#latest(key.thread_id, key.checkpoint_ns);
    if (!record) return undefined;
    // what it holds now, reported once that is durable (a deletion meanwhile tears nothing)
    const found = this.#withWrites(record);
    if (!options.ownWrites) await this.col.settled(recordId("checkpoint", record));
    return found;
  }

  list(query: CheckpointListQuery): Promise<StoredCheckpoint[]> {
    return this.col.withShard(query.thread_id, () => this.#list(query));
  }

  async #list(query: CheckpointListQuery): Promise<StoredCheckpoint[]> {
    const matches = containsPredicate(query.metadata ?? {});
    const before = query.before === undefined ? undefined : this.#beforeBound(query);
    const selected = this.#checkpoints(query.thread_id, query.checkpoint_ns).filter(
      (r) =>
        (query.checkpoint_id === undefined || r.checkpoint_id === query.checkpoint_id) && (before === undefined || before(r)) && matches(r.metadata),
    );
    selected.sort(newestFirst);
    const limit = query.limit === undefined ? selected.length : Math.max(0, Math.floor(query.limit));
    const page = selected.slice(0, limit);
    const found = page.map((r) => this.#withWrites(r));
    if (page[0]) await this.col.settled(recordId("checkpoint", page[0]));
    return found;
  }

  patchMetadata(key: CheckpointKey, metadata: Metadata): Promise<void> {
    return this.col.withShard(key.thread_id, async () => {
      const record = this.col.get(recordId("checkpoint", key)) as CheckpointRecord | undefined;
      if (!record) throw new NotFoundError("Checkpoint", key.checkpoint_id);
      await this.col.put({ ...record, metadata: { ...record.metadata, ...copy(metadata) } });
    });
  }

  /** Starts the deletions at once when the thread's records are in memory (see `hold`). */
  deleteThread(threadId: string): Promise<void> {
    return this.col.withShard(threadId, async () => {
      await Promise.all([...this.#ids(threadId)].map((id) => this.col.delete(id)));
    });
  }

  /** Runs `work` with the thread's records in memory (a thread's deletion: see LowdbThreads). */
  hold<R>(threadId: string, work: () => Promise<R>): Promise<R> {
    return this.col.withShard(threadId, work);
  }

  /** The source's history as it is when its turn comes (in order with its other operations). */
  copyThread(sourceThreadId: string, targetThreadId: string): Promise<void> {
    return this.col.withShard(sourceThreadId, () => {
      const records = [...this.#ids(sourceThreadId)].map((id) => this.col.get(id)!);
      return this.col.withShard(targetThreadId, async () => {
        await Promise.all(
          records.map((r) =>
            this.col.put(
              r.kind === "checkpoint"
                ? { ...r, thread_id: targetThreadId, metadata: copy(r.metadata) }
                : { ...r, thread_id: targetThreadId, writes: r.writes.map(copyValue) },
            ),
          ),
        );
      });
    });
  }

  deleteRun(threadId: string, runId: string): Promise<number> {
    return this.col.withShard(threadId, () => this.#deleteRun(threadId, runId));
  }

  async #deleteRun(threadId: string, runId: string): Promise<number> {
    const doomed = this.#checkpoints(threadId).filter((r) => r.metadata.run_id === runId);
    const changes: Promise<unknown>[] = [];
    for (const r of doomed) {
      changes.push(this.col.delete(recordId("checkpoint", r)), this.col.delete(recordId("writes", r)));
    }
    for (const r of this.#writeRecords(threadId)) {
      const kept = r.writes.filter((w) => w.run_id !== runId);
      if (kept.length === r.writes.length) continue;
      const id = recordId("writes", r);
      changes.push(kept.length ? this.col.put({ ...r, writes: kept }) : this.col.delete(id));
    }
    await Promise.all(changes);
    return doomed.length;
  }

  pruneKeepLatest(threadId: string): Promise<void> {
    return this.col.withShard(threadId, () => this.#pruneKeepLatest(threadId));
  }

  async #pruneKeepLatest(threadId: string): Promise<void> {
    const latest = new Map<string, CheckpointRecord>();
    for (const r of this.#checkpoints(threadId)) {
      const best = latest.get(r.checkpoint_ns);
      if (!best || newestFirst(r, best) < 0) latest.set(r.checkpoint_ns, r);
    }
    const keep = new Set<string>();
    for (const r of latest.values()) keep.add(recordId("checkpoint", r)).add(recordId("writes", r));
    await Promise.all([...this.#ids(threadId)].filter((id) => !keep.has(id)).map((id) => this.col.delete(id)));
  }

  /** A copy of the checkpoint record with its writes, as the interface returns it. */
  #withWrites(record: CheckpointRecord): StoredCheckpoint {
    const { kind: _kind, ...checkpoint } = record;
    const writes = (this.col.get(recordId("writes", record)) as WritesRecord | undefined)?.writes ?? [];
    return {
      ...checkpoint,
      checkpoint: { ...checkpoint.checkpoint },
      metadata: copy(checkpoint.metadata),
      writes: writes.map(copyValue),
    };
  }

  #latest(threadId: string, checkpointNs: string): CheckpointRecord | undefined {
    return this.col.newest(namespaceKey(threadId, checkpointNs)) as CheckpointRecord | undefined;
  }

  /**
   * "Older than `query.before`": compared by (created_at, id) when that checkpoint is stored,
   * else by id alone (ids are time ordered).
   */
  #beforeBound(query: CheckpointListQuery): (r: CheckpointRecord) => boolean {
    const id = query.before!;
    const anchor = this.#checkpoints(query.thread_id, query.checkpoint_ns).find((r) => r.checkpoint_id === id);
    return anchor ? (r) => newestFirst(r, anchor) > 0 : (r) => r.checkpoint_id < id;
  }

  #ids(threadId: string): Iterable<string> {
    return this.col.lookup("thread", threadId)!;
  }

  #checkpoints(threadId: string, checkpointNs?: string): CheckpointRecord[] {
    const ids = checkpointNs === undefined ? this.#ids(threadId) : this.col.lookup("namespace", namespaceKey(threadId, checkpointNs))!;
    const out: CheckpointRecord[] = [];
    for (const id of ids) {
      const r = this.col.get(id);
      if (r?.kind === "checkpoint") out.push(r);
    }
    return out;
  }

  #writeRecords(threadId: string): WritesRecord[] {
    const out: WritesRecord[] = [];
    for (const id of this.#ids(threadId)) {
      const r = this.col.get(id);
      if (r?.kind === "writes") out.push(r);
    }
    return out;
  }
}
