/** ThreadsRepository over a lowdb `Collection<Thread>`. */
import { v4 as uuidv4 } from "uuid";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Thread } from "../records.js";
import type {
  Metadata,
  Page,
  Scope,
  ThreadCreate,
  ThreadCreateOptions,
  ThreadExpiry,
  ThreadFilter,
  ThreadHooks,
  ThreadPatch,
  ThreadSearch,
  ThreadsRepository,
  ThreadUpdate,
} from "../types.js";
import { newThread } from "../new-records.js";
import { Collection, type CollectionOptions } from "./collection.js";
import { copy, now } from "./json.js";
import { freezeDeep } from "../frozen.js";
import { containsPredicate } from "./match.js";
import { byField, countWhere, paginate } from "./page.js";
import { inScope, scopePredicate } from "../scope.js";

const WHAT = "Thread";
const UPDATABLE = ["status", "values", "interrupts", "error", "config", "metadata"] as const;

export function threadCollectionOptions(dir: string, shards: number): CollectionOptions<Thread> {
  return {
    dir,
    shards,
    idOf: (t) => t.thread_id,
    indexes: { status: (t) => t.status, ttl: (t) => (t.ttl ? "set" : null) },
  };
}

/** Temporary threads (ThreadCreateOptions.temporary), as the storage keeps their records' lines. */
export interface TemporaryThreads {
  /** From now on, the lines of the thread's records may be taken back at its deletion. */
  begin(threadId: string): void;
  /**
   * Runs `deletes`, which start the thread's deletion, as one commit-log record; for a temporary
   * thread none of whose lines has left for the disk, those lines are withdrawn and the deletion
   * writes nothing.
   */
  deleting<T>(threadId: string, deletes: () => T): T;
}

/**
 * create, get and search, the API's most frequent calls, hand out the stored records themselves,
 * frozen (../frozen.ts): a JSON copy per record cost more than the rest of the read.
 */
export class LowdbThreads implements ThreadsRepository {
  constructor(
    private readonly col: Collection<Thread>,
    private readonly hooks: () => Iterable<ThreadHooks>,
    private readonly temporaries: TemporaryThreads,
    /** Deletes what a thread owns in this storage (checkpoints, runs, crons), its writes started at once... */
    private readonly deleteOwned: (threadId: string) => Promise<unknown>,
    /** ...which holds inside `holdOwned` (it brings what the thread owns into memory first). */
    private readonly holdOwned: <R>(threadId: string, work: () => Promise<R>) => Promise<R>,
  ) {}

  /**
   * `deferred`: resolves once the thread is applied. Its commit-log line is flushed in order with
   * the lines after it, so the durable write that follows (a stateless run's creation) carries it.
   * `temporary`: see TemporaryThreads.
   */
  async create(input: ThreadCreate = {}, scope?: Scope, options: ThreadCreateOptions = {}): Promise<Thread> {
    const id = input.thread_id ?? uuidv4();
    const existing = this.col.get(id);
    if (existing) {
      if (input.if_exists !== "do_nothing" || !inScope(existing.metadata, scope)) {
        throw new ConflictError(WHAT, id);
      }
      await this.col.settled(id);
      return freezeDeep(existing);
    }
    const thread = newThread(input, id, now());
    if (options.temporary) this.temporaries.begin(id);
    const written = this.col.put(thread);
    // a failed flush keeps the line for the next one, whose own waiters (the run's creation) see the failure
    if (options.deferred) written.catch(() => undefined);
    else await written;
    return freezeDeep(thread);
  }

  async get(threadId: string, scope?: Scope): Promise<Thread> {
    const thread = this.#require(threadId, scope);
    await this.col.settled(threadId);
    return freezeDeep(thread);
  }

  async patch(threadId: string, patch: ThreadPatch, scope?: Scope): Promise<Thread> {
    const current = this.#require(threadId, scope);
    const next: Thread = { ...current, updated_at: now() };
    if (patch.metadata) next.metadata = { ...current.metadata, ...copy(patch.metadata) };
    if (patch.ttl) next.ttl = copy(patch.ttl);
    await this.col.put(next);
    return copy(next);
  }

  async update(threadId: string, update: ThreadUpdate, scope?: Scope): Promise<Thread> {
    const current = this.#require(threadId, scope);
    const at = now();
    const next: Thread = { ...current, updated_at: at };
    for (const field of UPDATABLE) {
      if (update[field] !== undefined) Object.assign(next, { [field]: copy(update[field]) });
    }
    if (update.values !== undefined || update.interrupts !== undefined) next.state_updated_at = at;
    await this.col.put(next);
    return copy(next);
  }

  async delete(threadId: string, scope?: Scope): Promise<void> {
    this.#require(threadId, scope);
    // the thread and what it owns here (its checkpoints, runs and crons) are one commit-log
    // record: one flush, and a crash keeps the thread whole or deletes it whole
    await this.holdOwned(threadId, () =>
      Promise.all(this.temporaries.deleting(threadId, () => [this.col.delete(threadId), this.deleteOwned(threadId)])),
    );
    for (const hooks of this.hooks()) await hooks.delete?.(threadId);
  }

  async search(query: ThreadSearch = {}, scope?: Scope): Promise<Page<Thread>> {
    const compare = byField<Thread>(query.sortBy ?? "created_at", query.sortOrder ?? "desc", (t) => t.thread_id);
    const page = paginate(this.#candidates(query.filter), matcher(query.filter, scope), compare, query);
    return { items: page.items.map(freezeDeep), total: page.total };
  }

  async count(filter?: ThreadFilter, scope?: Scope): Promise<number> {
    return countWhere(this.#candidates(filter), matcher(filter, scope));
  }

  async expiring(): Promise<ThreadExpiry[]> {
    const result: ThreadExpiry[] = [];
    for (const thread of this.col.candidates([["ttl", "set"]])) {
      if (!thread.ttl) continue;
      result.push({
        thread_id: thread.thread_id,
        expires_at: Date.parse(thread.updated_at) + thread.ttl.ttl * 60_000,
        strategy: thread.ttl.strategy ?? "delete",
      });
    }
    return result;
  }

  async copy(threadId: string, scope?: Scope, metadata?: Metadata): Promise<Thread> {
    const source = this.#require(threadId, scope);
    const at = now();
    const id = uuidv4();
    const thread: Thread = {
      ...source,
      ...(metadata ? { metadata } : {}),
      thread_id: id,
      created_at: at,
      updated_at: at,
      state_updated_at: at,
      status: source.status === "busy" ? "idle" : source.status,
    };
    await this.col.put(thread);
    try {
      for (const hooks of this.hooks()) await hooks.copy?.(threadId, id);
    } catch (err) {
      await this.col.delete(id);
      throw err;
    }
    return copy(thread);
  }

  #require(threadId: string, scope: Scope | undefined): Thread {
    const thread = this.col.get(threadId);
    if (!thread || !inScope(thread.metadata, scope)) throw new NotFoundError(WHAT, threadId);
    return thread;
  }

  #candidates(filter: ThreadFilter | undefined): Iterable<Thread> {
    const eq: Array<readonly [string, string]> = [];
    if (filter?.status) eq.push(["status", filter.status]);
    // Like the Platform, an empty id list means "no id filter".
    return this.col.candidates(eq, filter?.ids?.length ? filter.ids : undefined);
  }
}

/** The full predicate of a search, built once per query (not per record). */
function matcher(filter: ThreadFilter | undefined, scope: Scope | undefined): (t: Thread) => boolean {
  const visible = scopePredicate(scope);
  const status = filter?.status;
  const metadata = filter?.metadata && containsPredicate(filter.metadata);
  const values = filter?.values && containsPredicate(filter.values);
  return (t) =>
    (visible === undefined || visible(t.metadata)) &&
    (status === undefined || t.status === status) &&
    (metadata === undefined || metadata(t.metadata)) &&
    (values === undefined || values(t.values));
}
