/**
 * The `run_events` table: each run's stream events, in one numbering, for subscribers in any
 * process (src/runtime/postgres/run-broker.ts publishes and reads them). A run's end is its last
 * row (`mode = '__end__'`, the outcome as data), written in the transaction that stores the
 * run's end (`runs.end`) or deletes it with its thread, so no run ends without one. Every insert
 * NOTIFYs `RUN_EVENTS_CHANNEL` (payload: the run id) when it commits.
 */
import type { RunEventRows } from "../types.js";
import type { Queryable } from "./database.js";
import { Params } from "./sql.js";

export const RUN_EVENTS_CHANNEL = "lgts_run_events";
export const END_MODE = "__end__";
/** How long an ordinary run's rows stay after its end (for subscribers still reading), s. */
export const END_GRACE_SECONDS = 30;

/**
 * The INSERT of a batch of a run's rows (its end included, if it is among them), its values
 * added to `params`; `condition` (a WHERE clause) may make it depend on another part of a statement.
 */
export function runEventsInsert(params: Params, runId: string, batch: RunEventRows, condition = ""): string {
  const { rows } = batch;
  const seq = batch.afterStored ? `coalesce((SELECT max(e.seq) FROM run_events e WHERE e.run_id = ${runId}), 0) + t.seq` : "t.seq";
  return /* sql */ `
  INSERT INTO run_events (run_id, seq, thread_id, mode, ns, data, checkpoint_id, resumable, expires_at)
  SELECT ${runId}, ${seq}, ${params.add(batch.threadId)}, t.mode, t.ns, t.data, t.checkpoint_id, ${params.add(batch.resumable)},
         CASE WHEN t.mode = '${END_MODE}' THEN now() + make_interval(secs => ${params.add(batch.expiresSeconds)}) END
    FROM unnest(${params.add(rows.map((r) => r.seq))}::int[], ${params.add(rows.map((r) => r.mode))}::text[],
                ${params.add(rows.map((r) => r.ns))}::text[], ${params.add(rows.map((r) => r.data))}::text[],
                ${params.add(rows.map((r) => r.checkpoint_id))}::text[]) AS t(seq, mode, ns, data, checkpoint_id)
    ${condition}
  ON CONFLICT DO NOTHING
  RETURNING 1`;
}

/**
 * The condition on a run's row under which its executor of `attempt` may write: the run is still
 * running under that attempt (not taken over by another process, not ended, not deleted).
 */
export function heldBy(params: Params, runId: string, attempt: number): string {
  return `run_id = ${runId} AND status = 'running' AND attempt = ${params.add(attempt)}`;
}

/**
 * Writes a batch of a run's events (its end included, if it is among them), with its NOTIFY.
 * With `batch.attempt`, only while the run is running under that attempt: false (nothing
 * written) when it is not. The run's row is share-locked meanwhile, so a takeover (which locks it
 * `FOR UPDATE SKIP LOCKED`) happens before or after this write, never during it: the next
 * executor numbers its events after every row this one wrote.
 */
export async function insertRunEvents(db: Queryable, runId: string, batch: RunEventRows): Promise<boolean> {
  const params = new Params();
  const id = params.add(runId);
  if (batch.attempt === undefined) {
    const insert = runEventsInsert(params, id, batch);
    const text = `WITH written AS (${insert}) SELECT pg_notify('${RUN_EVENTS_CHANNEL}', ${id}) FROM (SELECT count(*) FROM written) AS c`;
    await db.query(text, params.values, { prepare: true });
    return true;
  }
  const held = `held AS (SELECT 1 FROM runs WHERE ${heldBy(params, id, batch.attempt)} FOR KEY SHARE)`;
  const insert = runEventsInsert(params, id, batch, "WHERE EXISTS (SELECT 1 FROM held)");
  const { rows } = await db.query<{ held: boolean }>(
    `WITH ${held}, written AS (${insert})
     SELECT EXISTS (SELECT 1 FROM held) AS held, pg_notify('${RUN_EVENTS_CHANNEL}', ${id}) FROM (SELECT count(*) FROM written) AS c`,
    params.values,
    { prepare: true }, // one statement per run and event-loop turn: planned once per connection
  );
  return rows[0]?.held === true;
}

/** What a run that ends without its executor (a cancel before it started, its thread deleted) reports. */
export const STOPPED_OUTCOME = JSON.stringify({ status: "interrupted", values: null, error: null });

/**
 * Deletes a thread's runs; the active ones (whose executor may be dead) get their end row, so
 * every waiter, in any process, ends. An executor still alive finds its own end already there.
 */
export const DELETE_THREAD_RUNS_SQL = /* sql */ `
WITH gone AS (DELETE FROM runs WHERE thread_id = $1 RETURNING run_id, status),
ended AS (
  INSERT INTO run_events (run_id, seq, thread_id, mode, ns, data, resumable, expires_at)
  SELECT g.run_id, coalesce((SELECT max(e.seq) FROM run_events e WHERE e.run_id = g.run_id), 0) + 1, $1,
         '${END_MODE}', '[]', '${STOPPED_OUTCOME}', false, now() + make_interval(secs => ${END_GRACE_SECONDS})
    FROM gone g WHERE g.status IN ('pending', 'running')
  ON CONFLICT DO NOTHING
  RETURNING run_id)
SELECT pg_notify('${RUN_EVENTS_CHANNEL}', run_id) FROM ended`;
