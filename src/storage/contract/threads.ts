/** Storage contract: the threads repository: threads, their state and expiry, and the hooks on their deletion. */
import type { Metadata, OnConflict, Thread, ThreadStatus, ThreadTtl } from "../records.js";
import type { Page, SaveOptions, Scope, SearchQuery } from "./common.js";

export interface ThreadCreate {
  /** default: a new uuid v4 */
  thread_id?: string;
  metadata?: Metadata;
  /** default "raise" (ConflictError); "do_nothing" returns the existing thread */
  if_exists?: OnConflict;
  ttl?: ThreadTtl;
}

export interface ThreadPatch {
  /** merged into the current metadata */
  metadata?: Metadata;
  ttl?: ThreadTtl;
}

/**
 * What the run engine writes into a thread. Each given field replaces the stored
 * one (no merging). Giving `values` or `interrupts` also bumps `state_updated_at`.
 */
export type ThreadUpdate = Partial<Pick<Thread, "status" | "values" | "interrupts" | "error" | "config" | "metadata">>;

export interface ThreadFilter {
  ids?: string[];
  /** JSON containment (`metadata @> filter`) */
  metadata?: Metadata;
  /** JSON containment (`values @> filter`); threads without values never match */
  values?: Record<string, unknown>;
  status?: ThreadStatus;
}

export type ThreadSortBy = "thread_id" | "status" | "created_at" | "updated_at" | "state_updated_at";
export type ThreadSearch = SearchQuery<ThreadFilter, ThreadSortBy>;

/**
 * `deferred`: a thread whose creation a later durable write carries (a stateless run's, with the
 * run). `temporary`: a thread deleted at its run's end (a stateless run's): a storage may leave
 * unwritten what it records of it while none of it is durable, since its deletion will undo it
 * (the embedded store does; on PostgreSQL it changes nothing).
 */
export interface ThreadCreateOptions extends SaveOptions {
  temporary?: boolean;
}

export interface ThreadsRepository {
  create(input?: ThreadCreate, scope?: Scope, options?: ThreadCreateOptions): Promise<Thread>;
  get(threadId: string, scope?: Scope): Promise<Thread>;
  patch(threadId: string, patch: ThreadPatch, scope?: Scope): Promise<Thread>;
  /** Generic field update used by the run engine (status, values, interrupts, error...). */
  update(threadId: string, update: ThreadUpdate, scope?: Scope): Promise<Thread>;
  delete(threadId: string, scope?: Scope): Promise<void>;
  search(query?: ThreadSearch, scope?: Scope): Promise<Page<Thread>>;
  count(filter?: ThreadFilter, scope?: Scope): Promise<number>;
  /** Every thread that has a TTL, with the moment it expires (last update + ttl minutes). */
  expiring(): Promise<ThreadExpiry[]>;
  /**
   * A new thread (new id) with the source's metadata (or `metadata` when given: what the
   * authorization of the copy left), values, interrupts, error, config and ttl; status is kept,
   * except that "busy" becomes "idle" since no run is attached to the copy. Registered
   * `ThreadHooks.copy` (e.g. checkpoints) run before the copy is returned.
   */
  copy(threadId: string, scope?: Scope, metadata?: Metadata): Promise<Thread>;
}

export interface ThreadExpiry {
  thread_id: string;
  /** Epoch milliseconds. */
  expires_at: number;
  strategy: NonNullable<ThreadTtl["strategy"]>;
}

/**
 * Extension point for data that lives beside a thread but is owned by another
 * component (checkpoints, later runs): implementations call these so that
 * copying/deleting a thread carries that data along.
 */
export interface ThreadHooks {
  /** After the copy record is durable; a failure deletes the copy and rethrows. */
  copy?(sourceThreadId: string, targetThreadId: string): Promise<void>;
  /** After the thread record is deleted durably. */
  delete?(threadId: string): Promise<void>;
}
