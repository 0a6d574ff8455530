/**
 * Claims and leases of runs, for several server processes sharing the database
 * (src/runtime/postgres/run-dispatcher.ts decides when to call them).
 *
 * - `claim`: one statement moves due pending runs to `running` (attempt counted, leased to the
 *   caller) with `FOR UPDATE SKIP LOCKED`, so each run is claimed by exactly one process. It
 *   takes only a thread's first due pending run, and none of a thread that has a running run:
 *   one active run per thread, in order (`enqueue`), `after_seconds` as `not_before`.
 * - `renew`: extends the caller's leases; the runs it no longer holds are missing from the answer.
 * - `reapExpired`: runs whose process died go back to `pending`, or to `error` once they had
 *   `maxAttempts` cut executions (handoffs at shutdown are not cuts; with their end event and their thread's status), in one statement:
 *   one process takes each. A process is dead when its lease expired AND its session no longer
 *   holds its worker lock (`WORKER_LOCK`, a session-level advisory lock each process holds on its
 *   LISTEN connection, keyed by its `lease_owner`): PostgreSQL drops it as soon as the process's
 *   connection closes (a crash, a SIGKILL), while a live process whose event loop or pool is too
 *   slow to renew in time keeps its runs. The caller's own runs it no longer executes (their
 *   execution ended without storing an end: the database was away) are reaped once their lease
 *   expired.
 */
import type { Run, RunError } from "../types.js";
import type { Queryable } from "./database.js";
import { RUN_COLUMNS, toRun, type Nullable, type RunRow } from "./runs.js";
import { END_GRACE_SECONDS, END_MODE, RUN_EVENTS_CHANNEL } from "./run-events.js";
import { ALIVE_WORKERS } from "./worker-locks.js";

export { WORKER_LOCK } from "./worker-locks.js";

/** Claims, renewals and reaps run every few hundred ms in every process: planned once per connection. */
const PREPARED = { prepare: true } as const;

/**
 * A run taken over from the caller while it still executes it (pending again, the caller's
 * renewal has not noticed yet) is not claimed by the caller ($4): its old execution would go on
 * beside the new one, both publishing under the new attempt. It claims it once that execution
 * ended (its renewal stops it); another process may claim it at once.
 *
 * Also answers when the earliest delayed pending run becomes due (none claimed then: not due
 * yet), so a claim pass needs no second round trip: one row per claimed run, or one row of
 * NULLs when none was claimed, each with `next_delayed`; and whether a due pending run is left
 * unclaimed (`pending_left`: its thread busy, its row locked by another claim, or past the limit),
 * so that a process knows when no backlog waits and a run's end need wake nobody.
 */
const CLAIM_SQL = /* sql */ `
WITH claimed AS (
UPDATE runs SET status = 'running', attempt = attempt + 1, lease_owner = $1,
       lease_expires_at = now() + make_interval(secs => $2), updated_at = now()
 WHERE run_id IN (
   SELECT r.run_id FROM runs r
    WHERE r.status = 'pending' AND (r.not_before IS NULL OR r.not_before <= now())
      AND NOT (r.run_id = ANY($4::text[]))
      AND NOT EXISTS (SELECT 1 FROM runs a WHERE a.thread_id = r.thread_id AND a.status = 'running')
      AND NOT EXISTS (SELECT 1 FROM runs e
                       WHERE e.thread_id = r.thread_id AND e.status = 'pending'
                         AND (e.not_before IS NULL OR e.not_before <= now())
                         AND (e.created_at, e.run_id) < (r.created_at, r.run_id))
    ORDER BY r.created_at, r.run_id
    LIMIT $3
    FOR UPDATE OF r SKIP LOCKED)
RETURNING ${RUN_COLUMNS})
SELECT claimed.*, d.next_delayed, d.pending_left
  FROM (SELECT (SELECT min(not_before) FROM runs WHERE status = 'pending' AND not_before > now()) AS next_delayed,
               EXISTS (SELECT 1 FROM runs p
                        WHERE p.status = 'pending' AND (p.not_before IS NULL OR p.not_before <= now())
                          AND p.run_id NOT IN (SELECT run_id FROM claimed)) AS pending_left) AS d
  LEFT JOIN claimed ON true`;

const RENEW_SQL = /* sql */ `
UPDATE runs SET lease_expires_at = now() + make_interval(secs => $2)
 WHERE run_id = ANY($3::text[]) AND lease_owner = $1 AND status = 'running'
RETURNING run_id`;

/**
 * Runs of dead processes (see above) go back to `pending`, or end as `error` once they had
 * `maxAttempts` cut executions (`attempt - handoffs`): those get their end row (numbered after their events, NOTIFYed) and
 * their thread its `error` status (`busy` while another of its runs is active) in the same
 * statement, so a crash leaves all or none of it. `alive`: the worker locks held (pg_locks shows
 * the second key of a two-key advisory lock as `objid`), read only once an expired lease of
 * another process is found.
 */
const REAP_SQL = /* sql */ `
WITH alive AS MATERIALIZED (${ALIVE_WORKERS}),
reaped AS (
UPDATE runs SET status = CASE WHEN attempt - handoffs >= $1 THEN 'error' ELSE 'pending' END,
       error = CASE WHEN attempt - handoffs >= $1 THEN $2::jsonb ELSE error END,
       lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
 WHERE run_id IN (SELECT r.run_id FROM runs r
                   WHERE r.status = 'running' AND (r.lease_expires_at IS NULL OR r.lease_expires_at < now())
                     AND CASE WHEN r.lease_owner IS NULL THEN true
                              WHEN r.lease_owner = $4 THEN $5::text[] IS NOT NULL AND NOT (r.run_id = ANY($5::text[]))
                              ELSE NOT EXISTS (SELECT 1 FROM alive WHERE alive.objid = hashtext(r.lease_owner)::oid) END
                   FOR UPDATE OF r SKIP LOCKED)
RETURNING run_id, thread_id, status, attempt),
ended AS (
  INSERT INTO run_events (run_id, seq, thread_id, mode, ns, data, resumable, expires_at)
  SELECT r.run_id, coalesce((SELECT max(e.seq) FROM run_events e WHERE e.run_id = r.run_id), 0) + 1, r.thread_id,
         '${END_MODE}', '[]', $3, false, now() + make_interval(secs => ${END_GRACE_SECONDS})
    FROM reaped r WHERE r.status = 'error'
  ON CONFLICT DO NOTHING
  RETURNING run_id),
failed AS (
  UPDATE threads t SET error = $2::jsonb, updated_at = now(),
         status = CASE WHEN EXISTS (SELECT 1 FROM runs a
                                     WHERE a.thread_id = t.thread_id AND a.status IN ('pending', 'running')
                                       AND a.run_id NOT IN (SELECT run_id FROM reaped WHERE status = 'error'))
                       THEN 'busy' ELSE 'error' END
   WHERE t.thread_id IN (SELECT thread_id FROM reaped WHERE status = 'error'))
SELECT r.run_id, r.thread_id, r.status, r.attempt, (SELECT count(*) FROM (SELECT pg_notify('${RUN_EVENTS_CHANNEL}', run_id) FROM ended) AS n) AS notified
  FROM reaped r`;

export interface ReapedRun {
  run_id: string;
  thread_id: string;
  /** `pending` (it will be claimed again) or `error` (attempts exhausted). */
  status: "pending" | "error";
  attempt: number;
}

export class PostgresRunLeases {
  constructor(private readonly db: Queryable) {}

  /**
   * Claims up to `limit` due runs; `nextDelayed`: when the earliest delayed one is due (epoch ms),
   * or null; `pendingLeft`: whether a due pending run was left unclaimed. `executing`: runs the
   * caller still executes, not claimed (see CLAIM_SQL's note).
   */
  async claim(
    owner: string,
    leaseMs: number,
    limit: number,
    executing: string[] = [],
  ): Promise<{ runs: Run[]; nextDelayed: number | null; pendingLeft: boolean }> {
    type Row = Nullable<RunRow> & { next_delayed: Date | null; pending_left: boolean };
    const { rows } = await this.db.query<Row>(CLAIM_SQL, [owner, leaseMs / 1000, limit, executing], PREPARED);
    const next = rows[0]?.next_delayed;
    return {
      runs: rows.filter((row): row is RunRow & Row => row.run_id !== null).map(toRun),
      nextDelayed: next ? new Date(next).getTime() : null,
      pendingLeft: rows[0]?.pending_left ?? true,
    };
  }

  async renew(owner: string, leaseMs: number, runIds: string[]): Promise<Set<string>> {
    const { rows } = await this.db.query<{ run_id: string }>(RENEW_SQL, [owner, leaseMs / 1000, runIds], PREPARED);
    return new Set(rows.map((r) => r.run_id));
  }

  /**
   * `owner`: the caller, executing the runs `executing`: its other expired runs are orphans it
   * reaps too (null: it cannot tell, a claim of its own is on its way). `outcome`: the end event
   * of a run whose attempts are exhausted.
   */
  async reapExpired(owner: string, executing: string[] | null, maxAttempts: number, exhausted: RunError, outcome: string): Promise<ReapedRun[]> {
    const { rows } = await this.db.query<ReapedRun & { notified: string }>(
      REAP_SQL,
      [maxAttempts, JSON.stringify(exhausted), outcome, owner, executing],
      PREPARED,
    );
    return rows.map(({ notified: _notified, ...row }) => row);
  }
}
