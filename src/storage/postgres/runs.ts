/**
 * RunsRepository on the `runs` table.
 *
 * Multitask atomicity: `create` locks the thread row (`FOR UPDATE`), reads the thread's active
 * runs, inserts the run and marks the thread busy, in one statement whose snapshot is used only
 * if no run was created on the thread meanwhile (else again in a transaction that takes the lock
 * first). Creates on one thread therefore serialize on its row, in any process: of two racing
 * `reject` creates at most one passes.
 */
import { v7 as uuidv7 } from "uuid";
import { ConflictError, NotFoundError, RunTakenOverError, ThreadBusyError } from "../errors.js";
import type { Run, RunStatus } from "../records.js";
import type { ExecutingRun, Page, RunCreate, RunEnd, RunInsert, RunListQuery, RunsRepository, RunUpdate, Scope } from "../types.js";
import { newRun } from "../new-records.js";
import type { Database, Queryable } from "./database.js";
import { runScopeConditions, scopeConditions } from "./scope.js";
import { iso, isoNow, isUniqueViolation, page, Params, where } from "./sql.js";
import { deliveryInsert, WEBHOOKS_CHANNEL } from "./webhooks.js";
import { eventsNotice, heldBy, openedByCreation, openingEvent, RUN_OPENED_CHANNEL, runEventsInsert } from "./run-events.js";
import { threadUpdateSets } from "./threads.js";
import { ALIVE_WORKERS, LIVE_WORKERS_SQL } from "./worker-locks.js";

const WHAT = "Run";
export const RUN_COLUMNS = `run_id, thread_id, assistant_id, created_at, updated_at, status, metadata, kwargs, multitask_strategy,
  cancel_reason, attempt, not_before, error, handoffs`;
const ACTIVE = "status IN ('pending', 'running')";

/**
 * A run's creation: one row per active run of the thread (or one of NULLs), each with `inserted`
 * (0: `reject` met an active run, nothing was written) and `leased` (stored running, leased to
 * `$11` for `$12` s: RunCreate.lease, when it can start now).
 *
 * `visible` null: the statement runs in a transaction that locked the thread's row first, so its
 * snapshot holds every run created before. Otherwise it takes the lock itself (the thread's row
 * where `visible`), in one round trip and one commit: its snapshot, taken before the lock, is
 * used only if the row it locked is the version that snapshot saw (same `xmin`). A run created
 * meanwhile changed the row (`busy`): then nothing is written (`current` false) and the caller
 * goes the locking way. `found`: the thread is there (and visible). A run written is announced
 * on RUN_OPENED_CHANNEL when the statement commits (thread streams of every process follow it).
 * A run leased here gets its first event (`$13`, the data of run-events.ts `openingEvent`, when
 * not null) in `run_events`, `resumable` `$14`.
 */
function createSql(visible: string | null): string {
  const guard =
    visible === null
      ? ""
      : `snap AS MATERIALIZED (SELECT xmin AS version FROM threads WHERE thread_id = $1),
locked AS MATERIALIZED (SELECT xmin AS version FROM threads WHERE ${visible} FOR UPDATE),
current AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM locked JOIN snap ON locked.version = snap.version) AS ok),
`;
  return /* sql */ `
WITH ${guard}inflight AS (SELECT ${RUN_COLUMNS} FROM runs WHERE thread_id = $1 AND ${ACTIVE}),
lease AS (SELECT $11::text IS NOT NULL AND $8::timestamptz IS NULL AND NOT EXISTS (SELECT 1 FROM inflight) AS now),
inserted AS (
  INSERT INTO runs (${RUN_COLUMNS}, lease_owner, lease_expires_at)
  SELECT $2, $1, $3::text, $4::timestamptz, $4::timestamptz, CASE WHEN lease.now THEN 'running' ELSE 'pending' END,
         $5::jsonb, $6::jsonb, $7::text, NULL, CASE WHEN lease.now THEN 1 ELSE 0 END, $8::timestamptz, NULL, 0,
         CASE WHEN lease.now THEN $11::text END, CASE WHEN lease.now THEN now() + make_interval(secs => $12) END
    FROM lease${visible === null ? "" : ", current"}
   WHERE ${visible === null ? "" : "current.ok AND "}NOT ($9::boolean AND EXISTS (SELECT 1 FROM inflight))
  RETURNING run_id, status),
opened AS (SELECT pg_notify('${RUN_OPENED_CHANNEL}', $1 || ' ' || run_id) FROM inserted),
opening AS (
  INSERT INTO run_events (run_id, seq, thread_id, mode, ns, data, checkpoint_id, resumable, expires_at)
  SELECT run_id, 1, $1, 'metadata', '[]', $13::text, NULL, $14::boolean, NULL FROM inserted
   WHERE status = 'running' AND $13::text IS NOT NULL
  RETURNING 1),
busy AS (
  UPDATE threads SET status = 'busy', metadata = metadata || $10::jsonb, updated_at = $4
   WHERE thread_id = $1 AND EXISTS (SELECT 1 FROM inserted))
SELECT ${visible === null ? "1 AS found, true AS current" : "(SELECT count(*) FROM locked)::int AS found, (SELECT ok FROM current) AS current"},
       i.inserted, i.leased, f.*
  FROM (SELECT count(*)::int AS inserted, coalesce(bool_or(status = 'running'), false) AS leased FROM inserted) AS i
  CROSS JOIN (SELECT count(*) FROM opened) AS announced
  CROSS JOIN (SELECT count(*) FROM opening) AS first_event
  LEFT JOIN inflight AS f ON true
 ORDER BY f.created_at, f.run_id`;
}

const CREATE_LOCKED_SQL = createSql(null);

type CreateRow = Nullable<RunRow> & { found: number; current: boolean; inserted: number; leased: boolean };

/** A row of a LEFT JOIN's optional side. */
export type Nullable<T> = { [K in keyof T]: T[K] | null };

export interface RunRow {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  created_at: Date;
  updated_at: Date;
  status: RunStatus;
  metadata: Run["metadata"];
  kwargs: Run["kwargs"];
  multitask_strategy: Run["multitask_strategy"];
  cancel_reason: string | null;
  attempt: number;
  not_before: Date | null;
  error: Run["error"];
  handoffs: number;
}

export function toRun(row: RunRow): Run {
  return {
    run_id: row.run_id,
    thread_id: row.thread_id,
    assistant_id: row.assistant_id,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    status: row.status,
    metadata: row.metadata,
    kwargs: row.kwargs,
    multitask_strategy: row.multitask_strategy,
    cancel_reason: row.cancel_reason,
    attempt: row.attempt,
    not_before: iso(row.not_before),
    error: row.error,
    handoffs: row.handoffs,
  };
}

export class PostgresRuns implements RunsRepository {
  constructor(private readonly db: Database) {}

  async create(input: RunCreate, scope?: Scope): Promise<RunInsert> {
    const id = input.run_id ?? uuidv7();
    try {
      // one statement taking the thread's lock itself; the transaction below when a run was created meanwhile
      const first = await this.#insert(input, id, (values) => {
        const params = new Params();
        for (const value of values) params.add(value);
        const visible = where([`thread_id = $1`, ...scopeConditions(params, scope)]);
        return this.db.query<CreateRow>(createSql(visible), params.values, { prepare: true });
      });
      if (first) return first;
      return await this.db.transaction(async (tx) => {
        const params = new Params();
        const visible = [`thread_id = ${params.add(input.thread_id)}`, ...scopeConditions(params, scope)];
        const { rowCount } = await tx.query(`SELECT 1 FROM threads WHERE ${where(visible)} FOR UPDATE`, params.values);
        if (rowCount === 0) throw new NotFoundError("Thread", input.thread_id);
        // after the lock: its snapshot holds the thread's active runs
        return (await this.#insert(input, id, (values) => tx.query<CreateRow>(CREATE_LOCKED_SQL, values, { prepare: true })))!;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(WHAT, id);
      throw error;
    }
  }

  /** Sends a creation statement (see createSql) with its values; null when it wrote nothing because the thread's row changed. */
  async #insert(input: RunCreate, id: string, send: (values: unknown[]) => Promise<{ rows: CreateRow[] }>): Promise<RunInsert | null> {
    const at = isoNow();
    const run = newRun(input, id, at);
    const { rows } = await send([
      input.thread_id,
      id,
      run.assistant_id,
      at,
      JSON.stringify(run.metadata),
      JSON.stringify(run.kwargs),
      run.multitask_strategy,
      run.not_before,
      input.multitask_strategy === "reject",
      JSON.stringify(input.thread_metadata ?? {}),
      input.lease?.owner ?? null,
      (input.lease?.leaseMs ?? 0) / 1000,
      input.lease && openedByCreation(run.kwargs) ? openingEvent(id).data : null,
      run.kwargs.resumable,
    ]);
    const result = rows[0];
    if (result.found === 0) throw new NotFoundError("Thread", input.thread_id);
    if (!result.current) return null;
    const inflight = rows.filter((row): row is CreateRow & RunRow => row.run_id !== null).map(toRun);
    if (result.inserted === 0)
      throw new ThreadBusyError(
        input.thread_id,
        inflight.map((r) => `${r.run_id} (${r.status})`),
      );
    return { run: result.leased ? { ...run, status: "running", attempt: 1 } : run, inflight };
  }

  async get(runId: string, scope?: Scope): Promise<Run> {
    const params = new Params();
    const conditions = [`run_id = ${params.add(runId)}`, ...runScopeConditions(params, scope, "runs.thread_id")];
    return this.#one(conditions, params, runId);
  }

  async getInThread(threadId: string, runId: string, scope?: Scope): Promise<Run> {
    const params = new Params();
    const conditions = [
      `run_id = ${params.add(runId)}`,
      `thread_id = ${params.add(threadId)}`,
      ...runScopeConditions(params, scope, "runs.thread_id"),
    ];
    return this.#one(conditions, params, runId);
  }

  async list(threadId: string, query: RunListQuery = {}, scope?: Scope): Promise<Page<Run>> {
    const params = new Params();
    const conditions = [`thread_id = ${params.add(threadId)}`, ...runScopeConditions(params, scope, "runs.thread_id")];
    if (query.status) conditions.push(`status = ${params.add(query.status)}`);
    const countParams = params.values.slice();
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE ${where(conditions)} ORDER BY created_at DESC, run_id DESC ${page(params, query)}`,
      params.values,
    );
    const { rows: counted } = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM runs WHERE ${where(conditions)}`, countParams);
    return { items: rows.map(toRun), total: Number(counted[0].n) };
  }

  active(threadId: string): Promise<Run[]> {
    return active(this.db, threadId);
  }

  async withStatus(status: RunStatus, scope?: Scope): Promise<Run[]> {
    const params = new Params();
    const conditions = [`status = ${params.add(status)}`, ...runScopeConditions(params, scope, "runs.thread_id")];
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE ${where(conditions)} ORDER BY created_at, run_id`,
      params.values,
    );
    return rows.map(toRun);
  }

  async processes(): Promise<string[]> {
    const { rows } = await this.db.query<{ worker_id: string }>(LIVE_WORKERS_SQL);
    return rows.map((r) => r.worker_id);
  }

  async executing(scope?: Scope): Promise<ExecutingRun[]> {
    const params = new Params();
    const conditions = [
      "status = 'running'",
      "hashtext(lease_owner)::oid IN (SELECT objid FROM alive)",
      ...runScopeConditions(params, scope, "runs.thread_id"),
    ];
    const { rows } = await this.db.query<RunRow & { lease_owner: string }>(
      `WITH alive AS (${ALIVE_WORKERS}) SELECT ${RUN_COLUMNS}, lease_owner FROM runs WHERE ${where(conditions)} ORDER BY created_at, run_id`,
      params.values,
    );
    return rows.map((row) => ({ run: toRun(row), owner: row.lease_owner }));
  }

  async update(runId: string, update: RunUpdate): Promise<Run> {
    const updated = await this.#update(this.db, runId, update);
    if (!updated) throw new NotFoundError(WHAT, runId);
    return updated;
  }

  /**
   * One statement: the run's end (or its deletion), its last events with its end event, the
   * webhook delivery it owes and their NOTIFYs (sent only if it commits). A data-modifying CTE
   * is atomic like a transaction, in one round trip instead of four.
   */
  async end(runId: string, end: RunEnd): Promise<Run> {
    const stored = await this.#end(runId, end);
    if (stored) return stored;
    const attempt = end.events?.attempt;
    if (attempt !== undefined && (await this.db.query("SELECT 1 FROM runs WHERE run_id = $1", [runId])).rowCount > 0) {
      throw new RunTakenOverError(runId, attempt);
    }
    throw new NotFoundError(WHAT, runId);
  }

  async endIf(runId: string, status: RunStatus, end: RunEnd): Promise<Run | null> {
    const stored = await this.#end(runId, end, status);
    if (stored) return stored;
    const { rowCount } = await this.db.query("SELECT 1 FROM runs WHERE run_id = $1", [runId]);
    if (rowCount === 0) throw new NotFoundError(WHAT, runId);
    return null;
  }

  /** The statement of `end`, only while the run is in `status` when given; null when no row matched. */
  async #end(runId: string, end: RunEnd, status?: RunStatus): Promise<Run | null> {
    const params = new Params();
    const id = params.add(runId);
    const at = isoNow();
    // its executor's end: only while the run is still its own (see RunEventRows.attempt)
    const attempt = end.events?.attempt;
    const conditions = [attempt === undefined ? `run_id = ${id}` : heldBy(params, id, attempt)];
    if (status !== undefined) conditions.push(`status = ${params.add(status)}`);
    const matches = conditions.join(" AND ");
    const stored =
      end.update === null
        ? `DELETE FROM runs WHERE ${matches} RETURNING ${RUN_COLUMNS}`
        : `UPDATE runs SET ${updateSets(params, end.update, at)} WHERE ${matches} RETURNING ${RUN_COLUMNS}`;
    const parts = [`stored AS (${stored})`];
    const notices = [];
    if (end.events) {
      parts.push(`events AS (${runEventsInsert(params, id, end.events, "WHERE EXISTS (SELECT 1 FROM stored)")})`);
      notices.push(eventsNotice(params, id, end.events));
    }
    if (end.webhook) {
      // the payload is built from the run as it is stored by this statement, without reading it back
      const current = end.run?.run_id === runId ? end.run : await this.get(runId);
      const row = end.update === null ? current : { ...current, ...copyUpdate(end.update), updated_at: at };
      parts.push(`delivery AS (${deliveryInsert(params, end.webhook.url, end.webhook.payload(row))})`);
      notices.push(`pg_notify('${WEBHOOKS_CHANNEL}', '')`);
    }
    if (end.thread) parts.push(...threadAfterRun(params, "(SELECT thread_id FROM stored)", id, end.thread, at));
    // one per run, its text one of a few shapes (every value a parameter): planned once per connection
    const { rows } = await this.db.query<RunRow & { thread_written?: number }>(
      `WITH ${parts.join(",\n")}
       SELECT ${RUN_COLUMNS}${end.thread ? ", (SELECT count(*) FROM thread)::int AS thread_written" : ""}
         FROM stored${notices.length ? `, LATERAL (SELECT ${notices.join(", ")}) AS notices` : ""}`,
      params.values,
      { prepare: true },
    );
    if (!rows[0]) return null;
    const run = toRun(rows[0]);
    if (end.thread && rows[0].thread_written === 0) await this.#threadAfterRun(run.thread_id, runId, end.thread, at);
    return run;
  }

  /**
   * The thread's state after a run whose end is stored already, when the end's statement left it
   * (another run of the thread was created meanwhile): again, with a fresh look at its active runs.
   */
  async #threadAfterRun(threadId: string, runId: string, update: NonNullable<RunEnd["thread"]>, at: string): Promise<void> {
    for (;;) {
      const params = new Params();
      const parts = threadAfterRun(params, params.add(threadId), params.add(runId), update, at);
      const { rows } = await this.db.query<{ present: number; written: number }>(
        `WITH ${parts.join(",\n")}
         SELECT (SELECT count(*) FROM seen)::int AS present, (SELECT count(*) FROM thread)::int AS written`,
        params.values,
      );
      if (rows[0].present === 0 || rows[0].written > 0) return;
    }
  }

  async updateIf(runId: string, status: RunStatus, update: RunUpdate, attempt?: number): Promise<Run | null> {
    const updated = await this.#update(this.db, runId, update, status, attempt);
    if (updated) return updated;
    const { rowCount } = await this.db.query("SELECT 1 FROM runs WHERE run_id = $1", [runId]);
    if (rowCount === 0) throw new NotFoundError(WHAT, runId);
    return null;
  }

  /** One UPDATE, only while the run is in `status` (under `attempt`) when given; null when no row matched. */
  async #update(db: Queryable, runId: string, update: RunUpdate, status?: RunStatus, attempt?: number): Promise<Run | null> {
    const params = new Params();
    const sets = updateSets(params, update, isoNow());
    const conditions = [`run_id = ${params.add(runId)}`];
    if (status !== undefined) conditions.push(`status = ${params.add(status)}`);
    if (attempt !== undefined) conditions.push(`attempt = ${params.add(attempt)}`);
    const { rows } = await db.query<RunRow>(`UPDATE runs SET ${sets} WHERE ${where(conditions)} RETURNING ${RUN_COLUMNS}`, params.values);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async delete(runId: string, scope?: Scope): Promise<void> {
    const params = new Params();
    const conditions = [`run_id = ${params.add(runId)}`, ...runScopeConditions(params, scope, "runs.thread_id")];
    const { rowCount } = await this.db.query(`DELETE FROM runs WHERE ${where(conditions)}`, params.values);
    if (rowCount === 0) throw new NotFoundError(WHAT, runId);
  }

  async deleteThread(threadId: string): Promise<number> {
    const { rowCount } = await this.db.query("DELETE FROM runs WHERE thread_id = $1", [threadId]);
    return rowCount;
  }

  async #one(conditions: string[], params: Params, runId: string): Promise<Run> {
    const { rows } = await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE ${where(conditions)}`, params.values);
    if (!rows[0]) throw new NotFoundError(WHAT, runId);
    return toRun(rows[0]);
  }
}

/** The SET list of a run update, `updated_at` = `at`. */
function updateSets(params: Params, update: RunUpdate, at: string): string {
  const sets = [`updated_at = ${params.add(at)}`];
  if (update.status !== undefined) sets.push(`status = ${params.add(update.status)}`);
  if (update.attempt !== undefined) sets.push(`attempt = ${params.add(update.attempt)}`);
  if (update.handoffs !== undefined) sets.push(`handoffs = ${params.add(update.handoffs)}`);
  if (update.cancel_reason !== undefined) sets.push(`cancel_reason = ${params.add(update.cancel_reason)}`);
  if (update.error !== undefined) sets.push(`error = ${update.error === null ? "NULL" : params.json(update.error)}`);
  return sets.join(", ");
}

/**
 * CTEs `seen` and `thread`: the thread's state after the run `runId` ended, `busy` while another
 * of its runs is active. The active runs are read in the statement's snapshot, so the update
 * applies only to the thread's row as that snapshot saw it (same `xmin`): a run created
 * meanwhile (its creation locks and updates the thread's row) leaves `thread` empty, and the
 * caller writes the thread again with a fresh snapshot.
 */
function threadAfterRun(params: Params, threadId: string, runId: string, update: NonNullable<RunEnd["thread"]>, at: string): string[] {
  const sets = threadUpdateSets(params, update, at);
  const others = `EXISTS (SELECT 1 FROM runs a WHERE a.thread_id = t.thread_id AND a.${ACTIVE} AND a.run_id <> ${runId})`;
  sets.push(`status = CASE WHEN ${others} THEN 'busy' ELSE ${params.add(update.status)} END`);
  return [
    `seen AS (SELECT thread_id, xmin AS version FROM threads WHERE thread_id = ${threadId})`,
    `thread AS (UPDATE threads t SET ${sets.join(", ")} FROM seen
                 WHERE t.thread_id = seen.thread_id AND t.xmin = seen.version RETURNING 1)`,
  ];
}

/** The fields a run update sets (those given), as they are stored. */
function copyUpdate(update: RunUpdate): Partial<Run> {
  return Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined));
}

/** A thread's pending/running runs, oldest first. */
async function active(db: Queryable, threadId: string): Promise<Run[]> {
  const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE thread_id = $1 AND ${ACTIVE} ORDER BY created_at, run_id`, [
    threadId,
  ]);
  return rows.map(toRun);
}
