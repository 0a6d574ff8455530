/**
 * The storage interface. Handlers and the runtime reach persistent state only
 * through `Storage`; implementations live in `./lowdb/` (embedded default) and,
 * later, `./postgres/`.
 *
 * Everything here is plain data so that a SQL backend can implement it directly:
 * filters are equality / JSON containment (`@>`) / ILIKE, sorting is one column,
 * pagination is LIMIT/OFFSET, and `total` is a COUNT(*) over the same filter.
 *
 * Contract shared by all implementations:
 * - Every method is async. A mutation's promise resolves only once the change is
 *   durable (on disk / committed), so a response can be sent right after it.
 * - Returned records never change stored state: they are copies, or (lowdb threads) the
 *   stored record itself, deeply frozen (./frozen.ts). Treat them as read-only.
 * - Errors: `NotFoundError` (not_found) and `ConflictError` (conflict) from `./errors.js`.
 * - A `Scope` hides every record it does not match: such records behave exactly as if they did
 *   not exist (NotFoundError on get/patch/delete, absent from searches, counts and totals),
 *   except that creating one with a taken id is still a ConflictError (never "do_nothing").
 *   Storage adds nothing to created records: callers put what a scope needs in the metadata.
 */
import type {
  Cron,
  Assistant,
  AssistantVersion,
  Config,
  Context,
  Metadata,
  MultitaskStrategy,
  OnConflict,
  Run,
  RunKwargs,
  RunStatus,
  StoredUser,
  Thread,
  ThreadStatus,
  ThreadTtl,
} from "./records.js";

export type * from "./records.js";

/** A JSON scalar an authorization condition compares with. */
export type ScopeScalar = string | number | boolean;

/**
 * One condition on the scoped record's metadata object `m` (what `m` is per repository: see
 * `Scope`). `key` names a top-level field of `m`, taken literally (no paths).
 * - `$eq`: `m[key]` exists and is JSON-equal to `value` (no type coercion: 1 is not "1").
 *   SQL: `m -> key = to_jsonb(value)`.
 * - `$contains`: `m[key]` is an array holding every element of `values` (JSON equality).
 *   SQL: `jsonb_typeof(m -> key) = 'array' AND m -> key @> to_jsonb(values)`.
 */
export type ScopeCondition =
  | { key: string; op: "$eq"; value: ScopeScalar }
  | { key: string; op: "$contains"; values: ScopeScalar[] };

/**
 * Visibility of a call: the records it may see and touch are those matching every condition
 * (none = every record; no scope at all = every record). Built from the filters LangGraph
 * `auth.on` handlers return (`{owner: "u1"}`, `{owner: {$eq: "u1"}}`, `{tags: {$contains: "a"}}`),
 * so the filters are part of the query itself: counts, totals, limit and offset see only the
 * matching records (SQL: the conditions are ANDed into the WHERE clause of the same statement).
 *
 * What `m` (the metadata the conditions apply to) is, per repository:
 * - assistants: the assistant's metadata (its current version); a hidden assistant's versions
 *   are hidden with it.
 * - threads: the thread's metadata.
 * - runs: the metadata of the run's thread (LangGraph scopes runs through their thread); `create`
 *   refuses a thread the scope hides with NotFoundError.
 * - crons: the cron's metadata.
 * - store items: `{...value, namespace, key}` (the item's value, with its namespace array and key
 *   overriding same-named fields; SQL: `namespace`/`key` columns, else `value -> key`);
 *   `listNamespaces` lists the namespaces holding at least one matching item.
 * - checkpoints: not scoped; callers reach them through a thread the scope lets them see.
 */
export interface Scope {
  readonly conditions: readonly ScopeCondition[];
}

export type SortOrder = "asc" | "desc";

/** Filter + sort + page, expressed as data. */
export interface SearchQuery<F, S extends string> {
  filter?: F;
  /** default: "created_at" */
  sortBy?: S;
  /** default: "desc" */
  sortOrder?: SortOrder;
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
}

/** One page of results, plus how many records matched the filter in total. */
export interface Page<T> {
  items: T[];
  total: number;
}

// ---------------------------------------------------------------- assistants

export interface AssistantCreate {
  /** default: a new uuid v4 */
  assistant_id?: string;
  graph_id: string;
  config?: Config;
  context?: Context;
  metadata?: Metadata;
  /** default: graph_id */
  name?: string;
  description?: string | null;
  /** default "raise" (ConflictError); "do_nothing" returns the existing assistant */
  if_exists?: OnConflict;
}

/** Fields not given are kept from the current version; metadata is merged. */
export interface AssistantPatch {
  graph_id?: string;
  config?: Config;
  context?: Context;
  metadata?: Metadata;
  name?: string;
  description?: string | null;
}

export interface AssistantFilter {
  /** JSON containment (`metadata @> filter`) */
  metadata?: Metadata;
  /** exact */
  graph_id?: string;
  /** case-insensitive substring */
  name?: string;
}

export type AssistantSortBy = "assistant_id" | "graph_id" | "name" | "created_at" | "updated_at";
export type AssistantSearch = SearchQuery<AssistantFilter, AssistantSortBy>;

export interface AssistantVersionQuery {
  filter?: { metadata?: Metadata };
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
}

export interface AssistantsRepository {
  /** Creates version 1 and makes it current. */
  create(input: AssistantCreate, scope?: Scope): Promise<Assistant>;
  get(assistantId: string, scope?: Scope): Promise<Assistant>;
  /** Creates version max(version)+1 from the current one plus `patch`, and makes it current. */
  patch(assistantId: string, patch: AssistantPatch, scope?: Scope): Promise<Assistant>;
  /** Deletes the assistant and all its versions. */
  delete(assistantId: string, scope?: Scope): Promise<void>;
  search(query?: AssistantSearch, scope?: Scope): Promise<Page<Assistant>>;
  count(filter?: AssistantFilter, scope?: Scope): Promise<number>;
  /** Versions, newest first. */
  listVersions(
    assistantId: string,
    query?: AssistantVersionQuery,
    scope?: Scope,
  ): Promise<Page<AssistantVersion>>;
  /** Makes an existing version current again (NotFoundError if there is no such version). */
  setLatest(assistantId: string, version: number, scope?: Scope): Promise<Assistant>;
}

// ------------------------------------------------------------------- threads

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
export type ThreadUpdate = Partial<
  Pick<Thread, "status" | "values" | "interrupts" | "error" | "config" | "metadata">
>;

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

export interface ThreadsRepository {
  create(input?: ThreadCreate, scope?: Scope): Promise<Thread>;
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

// ---------------------------------------------------------------------- runs

export interface RunCreate {
  /** default: a new uuid v7 (time ordered) */
  run_id?: string;
  thread_id: string;
  assistant_id: string;
  metadata?: Metadata;
  /** The run's parameters (input, command, config, stream modes...). */
  kwargs: RunKwargs;
  multitask_strategy: MultitaskStrategy;
  /** ISO time before which the run must not start (`after_seconds`). */
  not_before?: string | null;
  /** Merged into the thread's metadata when the run is accepted (e.g. graph_id, assistant_id). */
  thread_metadata?: Metadata;
  /**
   * The creating process executes the run at once if it can start now (no other active run of
   * its thread, no `not_before`): it is stored `running` under attempt 1, leased to `owner` for
   * `leaseMs`, in the creation's commit, so no claim has to follow (PostgreSQL; the embedded
   * backend refuses it). Otherwise it is stored `pending` as without it.
   */
  lease?: { owner: string; leaseMs: number };
}

export interface RunInsert {
  run: Run;
  /**
   * The thread's active (pending/running) runs at the moment of insertion, oldest
   * first: the `interrupt` and `rollback` strategies cancel these.
   */
  inflight: Run[];
}

/** What the run engine changes on a run; `updated_at` is bumped. */
export type RunUpdate = Partial<Pick<Run, "status" | "attempt" | "handoffs" | "cancel_reason" | "error">>;

export interface RunListQuery {
  status?: RunStatus;
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
}

export interface RunsRepository {
  /**
   * The multitask primitive: in ONE atomic step, reads the thread's active
   * (pending/running) runs, inserts the new `pending` run and marks the thread
   * `busy` (merging `thread_metadata` into its metadata). With strategy `reject`
   * and an active run present it throws ThreadBusyError (409) and changes nothing,
   * so of two racing creates at most one passes. (PostgreSQL: one transaction that
   * locks the thread row `FOR UPDATE`, selects the active runs, inserts the run and
   * updates the thread.) NotFoundError if the thread does not exist.
   *
   * Resolves once the run is durable. `applied`, when the backend calls it, comes as soon as
   * the run is stored and visible to reads, which on lowdb is before it is durable (the commit
   * log flushes shortly after); nothing started from there may be acknowledged to a client
   * before `create` resolves. A backend that does not call it: the caller goes on once
   * `create` resolves.
   */
  create(input: RunCreate, scope?: Scope, applied?: (insert: RunInsert) => void): Promise<RunInsert>;
  get(runId: string, scope?: Scope): Promise<Run>;
  /** Like `get`, and NotFoundError when the run belongs to another thread. */
  getInThread(threadId: string, runId: string, scope?: Scope): Promise<Run>;
  /** A thread's runs, newest first. */
  list(threadId: string, query?: RunListQuery, scope?: Scope): Promise<Page<Run>>;
  /** A thread's pending/running runs, oldest first. */
  active(threadId: string): Promise<Run[]>;
  /** Every run in `status`, oldest first (startup recovery, cancel by status). */
  withStatus(status: RunStatus, scope?: Scope): Promise<Run[]>;
  update(runId: string, update: RunUpdate): Promise<Run>;
  /**
   * Compare-and-set: applies `update` only while the run is in `status` (one atomic step; in SQL
   * `UPDATE ... WHERE status = $status`). Returns the updated run, or null when it is in another
   * status. A cancel and a claim racing for a pending run cannot both win. NotFoundError if missing.
   * `attempt`: also only while the run is under that attempt (a fencing token: an execution putting
   * its run back to pending at shutdown changes nothing once another process took the run over).
   *
   * Resolves once the update is durable. `applied`, when the backend calls it, comes with the
   * updated run as soon as the update is visible to reads, before it is durable (lowdb); with
   * writes durable in order (`Storage.durableInOrder`) a later durable write carries it.
   */
  updateIf(runId: string, status: RunStatus, update: RunUpdate, attempt?: number, applied?: (run: Run) => void): Promise<Run | null>;
  delete(runId: string, scope?: Scope): Promise<void>;
  /** Deletes every run of a thread (the thread was deleted); returns how many. */
  deleteThread(threadId: string): Promise<number>;
  /**
   * Stores a run's end in one commit together with what must exist exactly when it does: the
   * webhook delivery it owes (`WebhookOutbox`). A crash leaves both or neither. Returns the run as
   * stored (as it was before deletion, for a rollback). NotFoundError if the run is gone.
   */
  end(runId: string, end: RunEnd): Promise<Run>;
  /**
   * `end`, only while the run is in `status` (compare-and-set, like `updateIf`): a cancel of a
   * pending run and a claim cannot both win. Null when it is in another status; NotFoundError if missing.
   */
  endIf(runId: string, status: RunStatus, end: RunEnd): Promise<Run | null>;
}

/** A run's end (see `RunsRepository.end`). */
export interface RunEnd {
  /** The run's terminal fields; null deletes the run (a cancel with rollback). */
  update: RunUpdate | null;
  /** The webhook POST the end owes; `payload` gets the run as stored. */
  webhook?: { url: string; payload: (stored: Run) => Record<string, unknown> };
  /**
   * The run as the caller last read it (its executor holds it): a backend storing the end in one
   * statement builds the webhook payload from it and the update instead of reading the row first.
   */
  run?: Run;
  /**
   * The run's last events and its end event, for a backend whose run events live in the
   * database (PostgreSQL's `run_events`): stored in the same commit, so no process can see the
   * run ended without its end event or the other way round. Brokers that keep events in memory
   * never pass it; the embedded backend refuses it.
   */
  events?: RunEventRows;
  /**
   * The thread's state after the run, stored in the same commit by a backend that stores a run's
   * end in one statement (PostgreSQL, with `events`): its `status` is the thread's unless another
   * run of the thread is active then (the thread stays `busy`). Only while the end is stored (not
   * for a run taken over). The embedded backend refuses it (its executor updates the thread, in
   * the same flush).
   */
  thread?: ThreadUpdate & { status: ThreadStatus };
}

/** Rows of a run's event log (see `RunEnd.events`). */
export interface RunEventRows {
  threadId: string;
  resumable: boolean;
  /** How long the rows stay once the run ended, s. */
  expiresSeconds: number;
  /**
   * The rows' `seq` count on from the run's stored rows (1 = the next one): written by a process
   * that does not execute the run (the end of a pending run cancelled), which cannot know them.
   */
  afterStored?: boolean;
  rows: Array<{ seq: number; mode: string; ns: string; data: string; checkpoint_id: string | null }>;
  /**
   * The execution writing them (the run's `attempt` when it was claimed): they are stored only
   * while the run is still running under that attempt, so an execution whose run another process
   * took over writes nothing more (a fencing token). Absent: no such check.
   */
  attempt?: number;
}

// --------------------------------------------------------------- webhook outbox

/** A webhook POST owed for a run's end, stored with that end and removed once delivered. */
export interface WebhookDelivery {
  delivery_id: string;
  run_id: string;
  thread_id: string;
  url: string;
  /** The JSON body. */
  payload: Record<string, unknown>;
  /** Attempts started so far (a claim starts one). */
  attempts: number;
  /** When the next attempt may start (ISO). */
  due_at: string;
  /** Who is attempting it, and until when the claim holds (a process that died lets it lapse). */
  claimed_by: string | null;
  claimed_until: string | null;
  created_at: string;
}

/**
 * The stored outbox of webhook deliveries, shared by every process: a delivery is claimed by one
 * claimer at a time (PostgreSQL: `FOR UPDATE SKIP LOCKED`), attempted, then completed (removed) or
 * put back with a later due time. A claim that lapses (its process died) can be claimed again.
 */
export interface WebhookOutbox {
  /**
   * Up to `limit` due, unclaimed (or lapsed) deliveries, claimed by `owner` for `claimMs`, oldest
   * due first; attempts counted. A lapsed claim is taken only from a process that is gone (on
   * PostgreSQL: its worker lock is no longer held, as for run leases), or from `owner` itself
   * when the delivery is not among `attempting` (those it is still attempting): a slow but live
   * process's attempt is never repeated by another one.
   */
  claim(owner: string, limit: number, claimMs: number, attempting?: readonly string[]): Promise<WebhookDelivery[]>;
  /** Delivered, or given up: removed. False when `owner` no longer held the claim (nothing changed). */
  complete(deliveryId: string, owner: string): Promise<boolean>;
  /** The attempt failed: due again `delayMs` from now, claim released. False when `owner` no longer held it. */
  retryAfter(deliveryId: string, owner: string, delayMs: number): Promise<boolean>;
  /**
   * Milliseconds from now until a delivery may be claimed (its due time, or its claim's lapse;
   * a lapsed claim of a live process: when to look again whether it died), 0 when one may be
   * now; null when none is owed. `owner`'s claims on deliveries it is `attempting` are left out
   * (the attempt's end wakes it). (A duration, not a moment: the database's
   * clock and the process's may differ.)
   */
  nextDueInMs(owner?: string, attempting?: readonly string[]): Promise<number | null>;
}

// --------------------------------------------------------------- store items

/**
 * An item of the key/value store shared by graphs (`BaseStore`) and the Store API, identified by
 * (namespace, key). LangGraph auth handlers usually scope store access by rewriting namespaces;
 * a `Scope` given to the Store API's calls applies to `{...value, namespace, key}` (see `Scope`).
 */
export interface StoreItem {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** Lifetime in minutes, counted from the last write or refreshing read; null = never expires. */
  ttl_minutes: number | null;
  /** When the item stops existing (null = never). Expired items are never returned. */
  expires_at: string | null;
}

/** A search result; `score` is the cosine similarity to the query vector, null when not ranked. */
export interface StoreSearchHit extends StoreItem {
  score: number | null;
}

/** One embedding of an item; `field` names the indexed path its text came from. */
export interface StoreVector {
  field: string;
  vector: number[];
}

export interface StoreItemPut {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  /** Minutes; null = never expires. */
  ttl_minutes: number | null;
  /** Replaces the item's embeddings; [] = not indexed for semantic search. */
  vectors: StoreVector[];
}

export type StoreFilterOperator = "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" | "$in" | "$nin";

/**
 * `value[field] <op> operand` on a top-level field of the item's value (built by
 * `parseStoreFilter`). $eq/$ne: JSON equality (a missing field differs from everything);
 * $gt..$lte: numbers with numbers, strings with strings (code-unit order), else no match;
 * $in/$nin: JSON equality with any element of the operand array.
 */
export interface StoreFilterCondition {
  field: string;
  op: StoreFilterOperator;
  operand: unknown;
}

export interface StoreItemSearch {
  /** Only items whose namespace starts with these labels ([] = every item). */
  namespacePrefix: string[];
  /** Conditions that must all hold. */
  filter?: StoreFilterCondition[];
  /**
   * Ranks by cosine similarity to this vector (best over an item's vectors), best first; items
   * without a comparable vector follow with score null. Without it: most recently updated first.
   */
  queryVector?: number[];
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
  /** Restarts the TTL of the returned items. */
  refreshTtl?: boolean;
  /** Only the items the scope matches. */
  scope?: Scope;
}

export interface StoreNamespaceQuery {
  /** Namespaces starting with these labels; "*" matches any one label. */
  prefix?: string[];
  /** Namespaces ending with these labels; "*" matches any one label. */
  suffix?: string[];
  /** Truncates namespaces to this many labels, then removes duplicates. */
  maxDepth?: number;
  /** default 100 */
  limit?: number;
  /** default 0 */
  offset?: number;
  /** Only namespaces holding at least one item the scope matches. */
  scope?: Scope;
}

export interface StoreItemsRepository {
  /**
   * The live item, or null (also when the scope hides it). `refreshTtl` restarts its TTL (durably)
   * before returning it.
   */
  get(namespace: string[], key: string, options?: { refreshTtl?: boolean; scope?: Scope }): Promise<StoreItem | null>;
  /**
   * Creates or replaces the item; `created_at` survives a replacement of a live item. NotFoundError
   * when a live item with that key exists but the scope hides it (it is never replaced).
   */
  put(input: StoreItemPut, scope?: Scope): Promise<StoreItem>;
  /** Returns false when there was no live item the scope lets the caller see (nothing is deleted then). */
  delete(namespace: string[], key: string, scope?: Scope): Promise<boolean>;
  search(query: StoreItemSearch): Promise<StoreSearchHit[]>;
  /** Namespaces that hold live items, in label-by-label order. */
  listNamespaces(query?: StoreNamespaceQuery): Promise<string[][]>;
  /** Durably deletes every expired item; returns how many. */
  deleteExpired(): Promise<number>;
  /** The earliest `expires_at` of any stored item (possibly already passed), or null. */
  nextExpiry(): Promise<string | null>;
}

// --------------------------------------------------------------------- crons

export interface CronCreate {
  assistant_id: string;
  /** null: each firing runs on a new thread */
  thread_id: string | null;
  schedule: string;
  timezone: string | null;
  end_time: string | null;
  /** stateless crons only: what happens to each run's thread */
  on_run_completed?: Cron["on_run_completed"];
  /** run parameters of every firing */
  payload: Record<string, unknown>;
  metadata?: Metadata;
  /** default true */
  enabled?: boolean;
  next_run_date: string | null;
  /** The user the firings run as (null: no authentication); `user_id` becomes its identity. */
  auth_user?: StoredUser | null;
}

/** Each given field replaces the stored one. */
export type CronUpdate = Partial<
  Pick<Cron, "schedule" | "timezone" | "end_time" | "on_run_completed" | "payload" | "metadata" | "enabled" | "next_run_date">
>;

export interface CronFilter {
  assistant_id?: string;
  thread_id?: string;
  enabled?: boolean;
  /** JSON containment (`metadata @> filter`) */
  metadata?: Metadata;
}

export type CronSortBy = "cron_id" | "assistant_id" | "thread_id" | "next_run_date" | "end_time" | "created_at" | "updated_at";
export type CronSearch = SearchQuery<CronFilter, CronSortBy>;

export interface CronsRepository {
  create(input: CronCreate): Promise<Cron>;
  get(cronId: string, scope?: Scope): Promise<Cron>;
  update(cronId: string, update: CronUpdate, scope?: Scope): Promise<Cron>;
  delete(cronId: string, scope?: Scope): Promise<void>;
  search(query?: CronSearch, scope?: Scope): Promise<Page<Cron>>;
  count(filter?: CronFilter, scope?: Scope): Promise<number>;
  /** Every enabled cron, for the scheduler. */
  enabled(): Promise<Cron[]>;
  /** Deletes the crons of a thread (the thread was deleted); returns how many. */
  deleteThread(threadId: string): Promise<number>;
}

// --------------------------------------------------------------- checkpoints

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
  put(checkpoint: CheckpointPut): Promise<void>;
  /**
   * Records writes against a checkpoint, which need not be stored yet (LangGraph may save a task's
   * writes while the put of their checkpoint is still on its way). A write whose (task_id, idx) is
   * already recorded is kept when idx >= 0 (a retried task writes the same) and replaced when
   * idx < 0 (special channels hold their latest value).
   */
  putWrites(key: CheckpointKey, writes: CheckpointWrite[]): Promise<void>;
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

// ------------------------------------------------------------------- archive

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

// ------------------------------------------------------------------- storage

export interface Storage {
  /** Which implementation this is (`/info` and `/ok?check_db=1` report it). */
  readonly backend: "lowdb" | "postgres";
  /**
   * Whether writes become durable in the order they are made, across every repository (lowdb:
   * one commit log), so that a write known durable carries every earlier one with it. The run
   * engine then records a run's end without waiting for its checkpoints first. A write that
   * failed (StorageUnavailableError) is applied all the same and reaches the disk with the next
   * durable one: only reads wait for it (and fail while it cannot be made durable).
   */
  readonly durableInOrder: boolean;
  readonly assistants: AssistantsRepository;
  readonly threads: ThreadsRepository;
  readonly checkpoints: CheckpointsRepository;
  readonly storeItems: StoreItemsRepository;
  readonly runs: RunsRepository;
  readonly crons: CronsRepository;
  readonly webhooks: WebhookOutbox;
  readonly archive: StorageArchive;
  /** Registers hooks; returns a function that unregisters them. */
  addThreadHooks(hooks: ThreadHooks): () => void;
  /**
   * Proves the backend can still serve: reaches it and makes a durable write (lowdb) or a round
   * trip (PostgreSQL). StorageUnavailableError when it cannot. Used by `/ok?check_db=1`.
   */
  check(): Promise<void>;
  /** Waits for pending writes, then releases resources; later calls reject. */
  close(): Promise<void>;
}
