/**
 * RunsRepository on the `runs` table.
 *
 * Multitask atomicity: `create` is one transaction that locks the thread row (`FOR UPDATE`),
 * reads the thread's active runs, inserts the run and marks the thread busy. Creates on one
 * thread therefore serialize on its row, in any process: of two racing `reject` creates at
 * most one passes.
 */
import { v7 as uuidv7 } from "uuid";
import { ConflictError, NotFoundError, ThreadBusyError } from "../errors.js";
import type { Run, RunStatus } from "../records.js";
import type { Page, RunCreate, RunEnd, RunInsert, RunListQuery, RunsRepository, RunUpdate, Scope } from "../types.js";
import { newRun } from "../new-records.js";
import type { Database, Queryable } from "./database.js";
import { runScopeConditions, scopeConditions } from "./scope.js";
import { iso, isoNow, isUniqueViolation, page, Params, where } from "./sql.js";
import { insertDelivery } from "./webhooks.js";
import { insertRunEvents } from "./run-events.js";

const WHAT = "Run";
export const RUN_COLUMNS = `run_id, thread_id, assistant_id, created_at, updated_at, status, metadata, kwargs, multitask_strategy,
  cancel_reason, attempt, not_before, error`;
const ACTIVE = "status IN ('pending', 'running')";

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
  };
}

export class PostgresRuns implements RunsRepository {
  constructor(private readonly db: Database) {}

  async create(input: RunCreate, scope?: Scope): Promise<RunInsert> {
    const id = input.run_id ?? uuidv7();
    try {
      return await this.db.transaction(async (tx) => {
        const params = new Params();
        const visible = [`thread_id = ${params.add(input.thread_id)}`, ...scopeConditions(params, scope)];
        const { rowCount } = await tx.query(`SELECT 1 FROM threads WHERE ${where(visible)} FOR UPDATE`, params.values);
        if (rowCount === 0) throw new NotFoundError("Thread", input.thread_id);
        const inflight = await active(tx, input.thread_id);
        if (input.multitask_strategy === "reject" && inflight.length > 0) {
          throw new ThreadBusyError(input.thread_id, inflight.map((r) => `${r.run_id} (${r.status})`));
        }
        const at = isoNow();
        const run = newRun(input, id, at);
        await tx.query(
          `INSERT INTO runs (${RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $4, 'pending', $5, $6, $7, NULL, 0, $8, NULL)`,
          [id, run.thread_id, run.assistant_id, at, JSON.stringify(run.metadata), JSON.stringify(run.kwargs), run.multitask_strategy, run.not_before],
        );
        await tx.query(`UPDATE threads SET status = 'busy', metadata = metadata || $2::jsonb, updated_at = $3 WHERE thread_id = $1`, [
          input.thread_id,
          JSON.stringify(input.thread_metadata ?? {}),
          at,
        ]);
        return { run, inflight };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(WHAT, id);
      throw error;
    }
  }

  async get(runId: string, scope?: Scope): Promise<Run> {
    const params = new Params();
    const conditions = [`run_id = ${params.add(runId)}`, ...runScopeConditions(params, scope, "runs.thread_id")];
    return this.#one(conditions, params, runId);
  }

  async getInThread(threadId: string, runId: string, scope?: Scope): Promise<Run> {
    const params = new Params();
    const conditions = [`run_id = ${params.add(runId)}`, `thread_id = ${params.add(threadId)}`, ...runScopeConditions(params, scope, "runs.thread_id")];
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
    return { items: rows.map(toRun), total: Number(counted[0]!.n) };
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

  async update(runId: string, update: RunUpdate): Promise<Run> {
    const updated = await this.#update(this.db, runId, update);
    if (!updated) throw new NotFoundError(WHAT, runId);
    return updated;
  }

  /** One transaction: the run's end (or its deletion), its end event and the webhook delivery it owes. */
  end(runId: string, end: RunEnd): Promise<Run> {
    return this.db.transaction(async (tx) => {
      let stored: Run | null;
      if (end.update === null) {
        const { rows } = await tx.query<RunRow>(`DELETE FROM runs WHERE run_id = $1 RETURNING ${RUN_COLUMNS}`, [runId]);
        stored = rows[0] ? toRun(rows[0]) : null;
      } else {
        stored = await this.#update(tx, runId, end.update);
      }
      if (!stored) throw new NotFoundError(WHAT, runId);
      if (end.webhook) await insertDelivery(tx, stored, end.webhook.url, end.webhook.payload(stored));
      if (end.events) await insertRunEvents(tx, runId, end.events);
      return stored;
    });
  }

  async updateIf(runId: string, status: RunStatus, update: RunUpdate): Promise<Run | null> {
    const updated = await this.#update(this.db, runId, update, status);
    if (updated) return updated;
    const { rowCount } = await this.db.query("SELECT 1 FROM runs WHERE run_id = $1", [runId]);
    if (rowCount === 0) throw new NotFoundError(WHAT, runId);
    return null;
  }

  /** One UPDATE, only while the run is in `status` when given; null when no row matched. */
  async #update(db: Queryable, runId: string, update: RunUpdate, status?: RunStatus): Promise<Run | null> {
    const params = new Params();
    const sets = [`updated_at = ${params.add(isoNow())}`];
    if (update.status !== undefined) sets.push(`status = ${params.add(update.status)}`);
    if (update.attempt !== undefined) sets.push(`attempt = ${params.add(update.attempt)}`);
    if (update.cancel_reason !== undefined) sets.push(`cancel_reason = ${params.add(update.cancel_reason)}`);
    if (update.error !== undefined) sets.push(`error = ${update.error === null ? "NULL" : params.json(update.error)}`);
    const conditions = [`run_id = ${params.add(runId)}`];
    if (status !== undefined) conditions.push(`status = ${params.add(status)}`);
    const { rows } = await db.query<RunRow>(
      `UPDATE runs SET ${sets.join(", ")} WHERE ${where(conditions)} RETURNING ${RUN_COLUMNS}`,
      params.values,
    );
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

/** A thread's pending/running runs, oldest first. */
async function active(db: Queryable, threadId: string): Promise<Run[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM runs WHERE thread_id = $1 AND ${ACTIVE} ORDER BY created_at, run_id`,
    [threadId],
  );
  return rows.map(toRun);
}
