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
 * - Returned records are copies: mutating them never changes stored state.
 * - Errors: `NotFoundError` (404) and `ConflictError` (409) from `./errors.js`.
 * - `Scope.owner`, when set, hides every record whose `owner` differs: such
 *   records behave exactly as if they did not exist (404 on get/patch/delete),
 *   except that creating one with a taken id is still a conflict.
 *   Records created within a scope get `owner = scope.owner` (else `null`).
 */
import type {
  Assistant,
  AssistantVersion,
  Config,
  Context,
  Metadata,
  OnConflict,
  Thread,
  ThreadStatus,
  ThreadTtl,
} from "./records.js";

export type * from "./records.js";

/** Visibility of a call: which owner's records it may see and touch. */
export interface Scope {
  owner?: string;
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
   * A new thread (new id, same owner) with the source's metadata, values,
   * interrupts, error, config and ttl; status is kept, except that "busy" becomes
   * "idle" since no run is attached to the copy. Registered `ThreadHooks.copy`
   * (e.g. checkpoints) run before the copy is returned.
   */
  copy(threadId: string, scope?: Scope): Promise<Thread>;
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

// ------------------------------------------------------------------- storage

export interface Storage {
  readonly assistants: AssistantsRepository;
  readonly threads: ThreadsRepository;
  /** Registers hooks; returns a function that unregisters them. */
  addThreadHooks(hooks: ThreadHooks): () => void;
  /** Waits for pending writes, then releases resources; later calls reject. */
  close(): Promise<void>;
}
