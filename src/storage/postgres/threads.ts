/**
 * ThreadsRepository on the `threads` table. Deleting a thread removes its checkpoints, runs and
 * crons in the same transaction; copying one copies its checkpoints in the same transaction.
 * Hooks registered by other components run after that commit (see `ThreadHooks`).
 */
import { v4 as uuidv4 } from "uuid";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Thread } from "../records.js";
import type {
  Metadata,
  Page,
  SaveOptions,
  Scope,
  ThreadCreate,
  ThreadExpiry,
  ThreadFilter,
  ThreadHooks,
  ThreadPatch,
  ThreadSearch,
  ThreadsRepository,
  ThreadUpdate,
} from "../types.js";
import { copyThreadCheckpoints, deleteThreadCheckpoints } from "./checkpoints.js";
import { newThread } from "../new-records.js";
import type { Database, Queryable } from "./database.js";
import { scopeConditions } from "./scope.js";
import { iso, isoNow, isUniqueViolation, orderBy, Params, searchPage, where } from "./sql.js";
import { DELETE_THREAD_RUNS_SQL } from "./run-events.js";

const WHAT = "Thread";
const SORTABLE = new Set(["thread_id", "status", "created_at", "updated_at", "state_updated_at"]);
const JSON_FIELDS = ["values", "interrupts", "error", "config", "metadata"] as const;
export const THREAD_COLUMNS = `thread_id, created_at, updated_at, state_updated_at, metadata, status, "values", interrupts, error, config, ttl`;

export interface ThreadRow {
  thread_id: string;
  created_at: Date;
  updated_at: Date;
  state_updated_at: Date;
  metadata: Thread["metadata"];
  status: Thread["status"];
  values: Thread["values"];
  interrupts: Thread["interrupts"];
  error: Thread["error"];
  config: NonNullable<Thread["config"]>;
  ttl: Thread["ttl"] | null;
}

export function toThread(row: ThreadRow): Thread {
  return {
    thread_id: row.thread_id,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    state_updated_at: iso(row.state_updated_at)!,
    metadata: row.metadata,
    status: row.status,
    values: row.values,
    interrupts: row.interrupts,
    error: row.error,
    config: row.config,
    ...(row.ttl ? { ttl: row.ttl } : {}),
  };
}

const rowValues = (t: Thread) => [
  t.thread_id,
  t.created_at,
  t.updated_at,
  t.state_updated_at,
  JSON.stringify(t.metadata),
  t.status,
  t.values === undefined ? null : JSON.stringify(t.values),
  JSON.stringify(t.interrupts),
  t.error == null ? null : JSON.stringify(t.error),
  JSON.stringify(t.config ?? {}),
  t.ttl ? JSON.stringify(t.ttl) : null,
];

export class PostgresThreads implements ThreadsRepository {
  constructor(
    private readonly db: Database,
    private readonly hooks: () => Iterable<ThreadHooks>,
  ) {}

  async create(input: ThreadCreate = {}, scope?: Scope, options: SaveOptions = {}): Promise<Thread> {
    const id = input.thread_id ?? uuidv4();
    const thread = newThread(input, id, isoNow());
    const insert = (db: Queryable) =>
      db.query(
        `INSERT INTO threads (${THREAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (thread_id) DO NOTHING`,
        rowValues(thread),
      );
    try {
      // deferred: its commit need not wait for the WAL flush, the durable write carrying it does
      const { rowCount } = options.deferred ? await this.db.transaction(insert, { deferDurability: true }) : await insert(this.db);
      if (rowCount === 1) return thread;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    // a hidden thread's id is still taken, but never handed out by "do_nothing"
    const existing = input.if_exists === "do_nothing" ? await this.#find(this.db, id, scope) : undefined;
    if (!existing) throw new ConflictError(WHAT, id);
    return existing;
  }

  async get(threadId: string, scope?: Scope): Promise<Thread> {
    const thread = await this.#find(this.db, threadId, scope);
    if (!thread) throw new NotFoundError(WHAT, threadId);
    return thread;
  }

  async patch(threadId: string, patch: ThreadPatch, scope?: Scope): Promise<Thread> {
    const params = new Params();
    const sets = [`updated_at = ${params.add(isoNow())}`];
    if (patch.metadata) sets.push(`metadata = metadata || ${params.json(patch.metadata)}`);
    if (patch.ttl) sets.push(`ttl = ${params.json(patch.ttl)}`);
    return this.#update(params, sets, threadId, scope);
  }

  async update(threadId: string, update: ThreadUpdate, scope?: Scope): Promise<Thread> {
    const params = new Params();
    const sets = threadUpdateSets(params, update, isoNow());
    if (update.status !== undefined) sets.push(`status = ${params.add(update.status)}`);
    return this.#update(params, sets, threadId, scope);
  }

  async delete(threadId: string, scope?: Scope): Promise<void> {
    await this.db.transaction(async (tx) => {
      const params = new Params();
      const conditions = [`thread_id = ${params.add(threadId)}`, ...scopeConditions(params, scope)];
      const { rowCount } = await tx.query(`DELETE FROM threads WHERE ${where(conditions)}`, params.values);
      if (rowCount === 0) throw new NotFoundError(WHAT, threadId);
      await deleteThreadCheckpoints(tx, threadId);
      // its active runs end here (their executor may be dead): waiters in every process end
      await tx.query(DELETE_THREAD_RUNS_SQL, [threadId]);
      await tx.query("DELETE FROM crons WHERE thread_id = $1", [threadId]);
    });
    for (const hooks of this.hooks()) await hooks.delete?.(threadId);
  }

  async search(query: ThreadSearch = {}, scope?: Scope): Promise<Page<Thread>> {
    const params = new Params();
    const filter = conditions(params, query.filter, scope);
    const sortBy = SORTABLE.has(query.sortBy ?? "") ? query.sortBy! : "created_at";
    return searchPage(this.db, {
      columns: THREAD_COLUMNS,
      table: "threads",
      filter,
      params,
      order: orderBy(sortBy, query.sortOrder, "thread_id"),
      window: query,
      toItem: toThread,
      countAll: () => this.count(query.filter, scope),
    });
  }

  async count(filter?: ThreadFilter, scope?: Scope): Promise<number> {
    const params = new Params();
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM threads WHERE ${conditions(params, filter, scope)}`,
      params.values,
    );
    return Number(rows[0].n);
  }

  async expiring(): Promise<ThreadExpiry[]> {
    const { rows } = await this.db.query<{ thread_id: string; updated_at: Date; ttl: NonNullable<Thread["ttl"]> }>(
      "SELECT thread_id, updated_at, ttl FROM threads WHERE ttl IS NOT NULL",
    );
    return rows.map((r) => ({
      thread_id: r.thread_id,
      expires_at: r.updated_at.getTime() + r.ttl.ttl * 60_000,
      strategy: r.ttl.strategy ?? "delete",
    }));
  }

  async copy(threadId: string, scope?: Scope, metadata?: Metadata): Promise<Thread> {
    const copied = await this.db.transaction(async (tx) => {
      const source = await this.#find(tx, threadId, scope);
      if (!source) throw new NotFoundError(WHAT, threadId);
      const at = isoNow();
      const thread: Thread = {
        ...source,
        ...(metadata ? { metadata } : {}),
        thread_id: uuidv4(),
        created_at: at,
        updated_at: at,
        state_updated_at: at,
        status: source.status === "busy" ? "idle" : source.status,
      };
      await tx.query(`INSERT INTO threads (${THREAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, rowValues(thread));
      await copyThreadCheckpoints(tx, threadId, thread.thread_id);
      return thread;
    });
    try {
      for (const hooks of this.hooks()) await hooks.copy?.(threadId, copied.thread_id);
    } catch (err) {
      await this.delete(copied.thread_id);
      throw err;
    }
    return copied;
  }

  async #find(db: Queryable, threadId: string, scope?: Scope): Promise<Thread | undefined> {
    const params = new Params();
    const conditions = [`thread_id = ${params.add(threadId)}`, ...scopeConditions(params, scope)];
    const { rows } = await db.query<ThreadRow>(`SELECT ${THREAD_COLUMNS} FROM threads WHERE ${where(conditions)}`, params.values);
    return rows[0] && toThread(rows[0]);
  }

  async #update(params: Params, sets: string[], threadId: string, scope: Scope | undefined): Promise<Thread> {
    const conditions = [`thread_id = ${params.add(threadId)}`, ...scopeConditions(params, scope)];
    const { rows } = await this.db.query<ThreadRow>(
      `UPDATE threads SET ${sets.join(", ")} WHERE ${where(conditions)} RETURNING ${THREAD_COLUMNS}`,
      params.values,
    );
    if (!rows[0]) throw new NotFoundError(WHAT, threadId);
    return toThread(rows[0]);
  }
}

/** The SET list of a thread update, its status aside: `updated_at` (and `state_updated_at` with new state) = `at`. */
export function threadUpdateSets(params: Params, update: ThreadUpdate, at: string): string[] {
  const stamp = params.add(at);
  const sets = [`updated_at = ${stamp}`];
  for (const field of JSON_FIELDS) {
    if (update[field] !== undefined) sets.push(`"${field}" = ${params.json(update[field])}`);
  }
  if (update.values !== undefined || update.interrupts !== undefined) sets.push(`state_updated_at = ${stamp}`);
  return sets;
}

function conditions(params: Params, filter: ThreadFilter | undefined, scope: Scope | undefined): string {
  const c = scopeConditions(params, scope);
  // Like the Platform, an empty id list means "no id filter".
  if (filter?.ids?.length) c.push(`thread_id = ANY(${params.add(filter.ids)}::text[])`);
  if (filter?.status) c.push(`status = ${params.add(filter.status)}`);
  if (filter?.metadata) c.push(`metadata @> ${params.json(filter.metadata)}`);
  if (filter?.values) c.push(`"values" @> ${params.json(filter.values)}`);
  return where(c);
}
