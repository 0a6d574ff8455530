/**
 * The `run_events` table: each run's stream events, in one numbering, for subscribers in any
 * process. `PostgresRunEventLog` is all the broker (src/runtime/postgres/run-broker.ts) does with
 * it; nothing else outside this folder knows the table. A run's end is its last
 * row (`mode = '__end__'`, the outcome as data), written in the transaction that stores the
 * run's end (`runs.end`) or deletes it with its thread, so no run ends without one. Every insert
 * NOTIFYs `RUN_EVENTS_CHANNEL` when it commits (see `eventsNotice`).
 */
import type { RunKwargs } from "../records.js";
import type { RunEventRows } from "../types.js";
import type { Queryable } from "./database.js";
import { Params } from "./sql.js";

export const RUN_EVENTS_CHANNEL = "lgts_run_events";
/** A run was created (payload `<thread_id> <run_id>`), for thread streams: sent by the creation's statement (storage/postgres/runs.ts). */
export const RUN_OPENED_CHANNEL = "lgts_run_opened";
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
 * The NOTIFY of a batch's commit. Its payload is the run id, then the number of the batch's last
 * row when the batch numbers its rows itself: a subscriber that already has that row (the
 * writing process hands its rows over without reading them back) need not read.
 */
export function eventsNotice(params: Params, runId: string, batch: RunEventRows): string {
  const last = batch.afterStored ? undefined : batch.rows.at(-1)?.seq;
  return `pg_notify('${RUN_EVENTS_CHANNEL}', ${last === undefined ? runId : `${runId}::text || ${params.add(` ${last}`)}::text`})`;
}

/** A notice's run id, and the number of the last row it announces (undefined: unknown). */
export function parseEventsNotice(payload: string): { runId: string; last: number | undefined } {
  const [runId, last] = payload.split(" ");
  return { runId, last: last === undefined ? undefined : Number(last) };
}

/**
 * The first event of a run leased at its creation (RunCreate.lease), stored by the creation's
 * statement: its `metadata` event of attempt 1, as its execution would publish it, so it is
 * durable once the run is accepted and its creator's clients get it at once (the event broker
 * opens such a run with it: runtime/postgres/run-broker.ts). A protocol run's metadata (its
 * `seq_base`, taken when it starts) comes from its execution instead.
 */
export function openingEvent(runId: string): StoredRunEvent {
  return { seq: 1, mode: "metadata", ns: "[]", data: JSON.stringify({ run_id: runId, attempt: 1 }), checkpoint_id: null };
}

/** Whether a run with these kwargs, leased at its creation, is opened by it (see openingEvent). */
export function openedByCreation(kwargs: Pick<RunKwargs, "protocol">): boolean {
  return !kwargs.protocol;
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
  // events before the end of a run that defers durability commit without waiting for the WAL
  // flush: the run's end, stored after them with a commit that waits, makes them durable
  const relaxed = batch.deferDurability && !batch.rows.some((r) => r.mode === END_MODE) ? ", set_config('synchronous_commit', 'off', true)" : "";
  if (batch.attempt === undefined) {
    const insert = runEventsInsert(params, id, batch);
    const text = `WITH written AS (${insert}) SELECT ${eventsNotice(params, id, batch)}${relaxed} FROM (SELECT count(*) FROM written) AS c`;
    await db.query(text, params.values, { prepare: true });
    return true;
  }
  const held = `held AS (SELECT 1 FROM runs WHERE ${heldBy(params, id, batch.attempt)} FOR KEY SHARE)`;
  const insert = runEventsInsert(params, id, batch, "WHERE EXISTS (SELECT 1 FROM held)");
  const { rows } = await db.query<{ held: boolean }>(
    `WITH ${held}, written AS (${insert})
     SELECT EXISTS (SELECT 1 FROM held) AS held, ${eventsNotice(params, id, batch)}${relaxed} FROM (SELECT count(*) FROM written) AS c`,
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

/** A stored event as the broker reads it (`ns` and `data` as JSON text). */
export interface StoredRunEvent {
  seq: number;
  mode: string;
  ns: string;
  data: string;
  checkpoint_id: string | null;
}

/** Where a run's stream stands, for a new subscriber. */
export interface RunStreamState {
  /** Number of its last event (its end excluded); null: none. */
  last: number | null;
  /** It ended and its events are held for a resumable run's retention (null: no end yet). */
  ended_held: boolean | null;
  /** It ended and its rows are still there (null: no end yet). */
  ended_readable: boolean | null;
  /** No end row, but the run is active, or ended (without one) a moment ago. */
  live: boolean;
}

/** The end of a run this process does not execute (a pending run cancelled): numbered after what is there. */
const FINISH_SQL = /* sql */ `
WITH written AS (
  INSERT INTO run_events (run_id, seq, thread_id, mode, ns, data, resumable, expires_at)
  SELECT $1, coalesce((SELECT max(seq) FROM run_events WHERE run_id = $1), 0) + 1,
         (SELECT thread_id FROM runs WHERE run_id = $1), '${END_MODE}', '[]', $2, false,
         now() + make_interval(secs => ${END_GRACE_SECONDS})
  ON CONFLICT DO NOTHING
  RETURNING 1)
SELECT pg_notify('${RUN_EVENTS_CHANNEL}', $1) FROM (SELECT count(*) FROM written) AS c`;

const STATE_SQL = /* sql */ `
SELECT (SELECT max(seq) FROM run_events WHERE run_id = $1 AND mode <> '${END_MODE}') AS last,
       (SELECT resumable AND expires_at > now() FROM run_events WHERE run_id = $1 AND mode = '${END_MODE}') AS ended_held,
       (SELECT expires_at > now() FROM run_events WHERE run_id = $1 AND mode = '${END_MODE}') AS ended_readable,
       coalesce((SELECT status IN ('pending', 'running') OR updated_at > now() - make_interval(secs => ${END_GRACE_SECONDS})
                   FROM runs WHERE run_id = $1), false) AS live`;

/** Runs' streams as the `run_events` table keeps them: what the PostgreSQL event broker reads and writes. */
export class PostgresRunEventLog {
  constructor(private readonly db: Queryable) {}

  /** Number of the run's last stored row (0: none). */
  async lastSeq(runId: string): Promise<number> {
    const { rows } = await this.db.query<{ last: number | null }>(`SELECT max(seq) AS last FROM run_events WHERE run_id = $1`, [runId]);
    return Number(rows[0]?.last ?? 0);
  }

  /** Whether the run's events may be read: it is active, or it is resumable and within its retention. */
  async isHeld(runId: string): Promise<boolean> {
    const { rows } = await this.db.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = $1 AND status IN ('pending', 'running'))
           OR EXISTS (SELECT 1 FROM run_events WHERE run_id = $1 AND mode = '${END_MODE}' AND resumable AND expires_at > now()) AS held`,
      [runId],
    );
    return rows[0]?.held ?? false;
  }

  /** See insertRunEvents. */
  insert(runId: string, batch: RunEventRows): Promise<boolean> {
    return insertRunEvents(this.db, runId, batch);
  }

  /** Stores the end of a run nobody executes here (`outcome` as JSON), after its events, with its NOTIFY. */
  async finish(runId: string, outcome: string): Promise<void> {
    await this.db.query(FINISH_SQL, [runId, outcome]);
  }

  async state(runId: string): Promise<RunStreamState> {
    const { rows } = await this.db.query<RunStreamState>(STATE_SQL, [runId]);
    return rows[0];
  }

  /** The run's events numbered up to `seq`, its end excluded, in order. */
  async upTo(runId: string, seq: number): Promise<StoredRunEvent[]> {
    const { rows } = await this.db.query<StoredRunEvent>(
      `SELECT seq, mode, ns, data, checkpoint_id FROM run_events WHERE run_id = $1 AND seq <= $2 AND mode <> '${END_MODE}' ORDER BY seq`,
      [runId, seq],
    );
    return rows;
  }

  /** Up to `limit` of the run's rows after `cursor`, its end included, in order. */
  async after(runId: string, cursor: number, limit: number): Promise<StoredRunEvent[]> {
    const { rows } = await this.db.query<StoredRunEvent>(
      `SELECT seq, mode, ns, data, checkpoint_id FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT ${limit}`,
      [runId, cursor],
    );
    return rows;
  }

  /** The thread's runs whose events may be read: the active ones, and resumable ones within their retention. */
  async threadRuns(threadId: string): Promise<Array<{ run_id: string; active: boolean }>> {
    const { rows } = await this.db.query<{ run_id: string; active: boolean }>(
      `SELECT run_id, true AS active FROM runs WHERE thread_id = $1 AND status IN ('pending', 'running')
       UNION ALL
       SELECT run_id, false FROM run_events
        WHERE thread_id = $1 AND mode = '${END_MODE}' AND resumable AND expires_at > now()
       ORDER BY run_id`,
      [threadId],
    );
    return rows;
  }

  /** Deletes the rows of (up to 1000) runs whose end expired. */
  async deleteExpired(): Promise<void> {
    await this.db.query(
      `DELETE FROM run_events WHERE run_id IN (
         SELECT run_id FROM run_events WHERE mode = '${END_MODE}' AND expires_at < now() LIMIT 1000)`,
    );
  }
}
