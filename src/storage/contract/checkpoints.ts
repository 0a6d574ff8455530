/** Storage contract: the checkpoints repository: LangGraph checkpoints and pending writes, per thread and namespace. */
import type { Metadata } from "../records.js";
import type { SaveOptions } from "./common.js";

/**
 * A value as the checkpointer's serde wrote it (`dumpsTyped`): `type` is the serde's type tag;
 * `data` is the JSON text itself when `type` is "json", else the bytes in base64.
 */
export interface SerializedValue {
  type: string;
  data: string;
}

/** One checkpoint: `checkpoint_ns` is "" for the root graph, `node:task_id` (joined by `|`) for subgraphs. */
export interface CheckpointKey {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
}

export interface CheckpointPut extends CheckpointKey {
  /** The checkpoint this one follows (same thread and namespace); null for the first one. */
  parent_checkpoint_id: string | null;
  /** The serialized LangGraph checkpoint (channel values and versions). */
  checkpoint: SerializedValue;
  /** Checkpoint metadata as plain JSON (source, step, parents, run_id, ...). */
  metadata: Metadata;
  /** The checkpoint's timestamp (ISO-8601). */
  created_at: string;
}

/** A pending write: one output of a task, recorded against the checkpoint the task started from. */
export interface CheckpointWrite {
  task_id: string;
  /** Position among the task's writes; special channels (error, interrupt, resume...) use fixed negative slots. */
  idx: number;
  channel: string;
  value: SerializedValue;
  /** Path of the task ("" when unknown): LangGraph applies a superstep's writes in (task_path, task_id, idx) order. */
  task_path: string;
  /** The run that made the write, when known: rolling the run back removes it. */
  run_id: string | null;
}

export interface StoredCheckpoint extends CheckpointPut {
  /** The pending writes recorded against this checkpoint, in the order they were first recorded. */
  writes: CheckpointWrite[];
}

/** Selects checkpoints of one thread; the answer is newest first (created_at, then checkpoint_id). */
export interface CheckpointListQuery {
  thread_id: string;
  /** Only this namespace (default: every namespace of the thread). */
  checkpoint_ns?: string;
  /** Only the checkpoint with this id. */
  checkpoint_id?: string;
  /** Only checkpoints older than the one with this id. */
  before?: string;
  /** JSON containment (`metadata @> filter`) */
  metadata?: Metadata;
  /** default: all */
  limit?: number;
}

/**
 * Checkpoints and pending writes of threads (what LangGraph's checkpointer saves). Like a
 * `checkpoints` + `checkpoint_writes` table pair keyed by (thread_id, checkpoint_ns, checkpoint_id).
 * Not owner-scoped: callers reach it through a thread they were allowed to see.
 */
export interface CheckpointsRepository {
  /** Inserts a checkpoint; one with the same key is replaced (its writes are kept). */
  put(checkpoint: CheckpointPut, options?: SaveOptions): Promise<void>;
  /**
   * Records writes against a checkpoint, which need not be stored yet (LangGraph may save a task's
   * writes while the put of their checkpoint is still on its way). A write whose (task_id, idx) is
   * already recorded is kept when idx >= 0 (a retried task writes the same) and replaced when
   * idx < 0 (special channels hold their latest value).
   */
  putWrites(key: CheckpointKey, writes: CheckpointWrite[], options?: SaveOptions): Promise<void>;
  /**
   * The checkpoint with its writes; without `checkpoint_id`, the latest of the namespace. It is
   * returned once durable, unless `ownWrites`: a run reading back what it saved itself, whose
   * result it only reveals once its end is durable, need not wait for that.
   */
  get(
    key: Omit<CheckpointKey, "checkpoint_id"> & { checkpoint_id?: string },
    options?: { ownWrites?: boolean },
  ): Promise<StoredCheckpoint | undefined>;
  list(query: CheckpointListQuery): Promise<StoredCheckpoint[]>;
  /** Merges `metadata` into a stored checkpoint's metadata. @throws NotFoundError */
  patchMetadata(key: CheckpointKey, metadata: Metadata): Promise<void>;
  /** Deletes every checkpoint and write of the thread. */
  deleteThread(threadId: string): Promise<void>;
  /** Copies every checkpoint and write of one thread to another (same ids and order). */
  copyThread(sourceThreadId: string, targetThreadId: string): Promise<void>;
  /**
   * Rollback of a run: deletes the thread's checkpoints whose `metadata.run_id` is `runId` (with
   * their writes) and every write the run recorded. Returns how many checkpoints were deleted.
   */
  deleteRun(threadId: string, runId: string): Promise<number>;
  /** Keeps only the latest checkpoint (and its writes) of each namespace of the thread. */
  pruneKeepLatest(threadId: string): Promise<void>;
}
