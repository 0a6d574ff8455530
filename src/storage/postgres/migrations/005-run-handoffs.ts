/**
 * `runs.handoffs`: executions a stopping server handed back unfinished (graceful shutdown). They
 * are not failures: a run may be handed back at every rolling deploy and still have all of its
 * attempts (`attempt - handoffs` is what the reaper compares with the limit).
 */
export const name = "run-handoffs";

export const sql = /* sql */ `
ALTER TABLE runs ADD COLUMN handoffs integer NOT NULL DEFAULT 0;
`;
