/**
 * `workers`: the server processes sharing the database, by worker id. A row says a process
 * started; its worker lock (worker-locks.ts) says whether it is still alive, so the row of a
 * process that died without removing it is ignored, and removed by the next process to start.
 */
export const name = "workers";

export const sql = /* sql */ `
CREATE TABLE workers (worker_id text PRIMARY KEY, started_at timestamptz NOT NULL DEFAULT now());
`;
