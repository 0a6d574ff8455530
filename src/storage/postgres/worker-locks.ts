/**
 * Worker locks: each server process holds a session-level advisory lock keyed by its worker id
 * on its LISTEN connection (src/runtime/postgres/coordination.ts), which PostgreSQL drops as
 * soon as the process's session ends (a crash, a SIGKILL). Another process tells from it that
 * the process is alive: its expired run leases and lapsed webhook claims are taken over only
 * once it is gone.
 */

import type { Queryable } from "./database.js";

/** The namespace of the worker locks: `pg_advisory_lock(hashtext(WORKER_LOCK), hashtext(lease_owner))`. */
export const WORKER_LOCK = "lgts:worker";

/**
 * The worker locks held now, as a CTE body (`objid` = hashtext of the worker id; pg_locks shows
 * the second key of a two-key advisory lock as `objid`). MATERIALIZED, it is read only once a
 * statement needs it: when it meets an expired claim of another process. Run leases
 * (run-leases.ts) and webhook claims (webhooks.ts) use it.
 */
export const ALIVE_WORKERS = /* sql */ `
  SELECT objid FROM pg_locks
   WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = hashtext('${WORKER_LOCK}')::oid
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/**
 * Records this process (whose worker lock `workerId` names, already held) among the processes
 * sharing the database, and forgets those whose lock is gone (they died without leaving).
 */
export async function registerWorker(db: Queryable, workerId: string): Promise<void> {
  await db.query("INSERT INTO workers (worker_id) VALUES ($1) ON CONFLICT DO NOTHING", [workerId]);
  await db.query(`DELETE FROM workers WHERE hashtext(worker_id)::oid NOT IN (${ALIVE_WORKERS})`);
}

/** A process leaving on purpose removes its row. */
export async function unregisterWorker(db: Queryable, workerId: string): Promise<void> {
  await db.query("DELETE FROM workers WHERE worker_id = $1", [workerId]);
}

/** The ids of the processes alive now (recorded, with their worker lock held), sorted. */
export const LIVE_WORKERS_SQL = /* sql */ `
SELECT worker_id FROM workers WHERE hashtext(worker_id)::oid IN (${ALIVE_WORKERS}) ORDER BY worker_id`;
