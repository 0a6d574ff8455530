/**
 * A rolling deploy: SIGTERM to one of two processes on PostgreSQL while it executes a run that a
 * client streams through it. Readiness fails at once while the process still serves; the run gets
 * the grace period, is handed back and completes on the other process; the client's stream
 * reconnects there and sees every event once; the process exits with 0; the handoff does not
 * count against the run's attempts.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testPool, type TestDatabase } from "../support/postgres.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";
import { startServerCluster, type ServerCluster } from "../support/server-cluster.js";

type SlowState = { completed: number; log: string[] };
const STEPS = 8;

let database: TestDatabase;
let sql: pg.Pool;
let cluster: ServerCluster;
beforeAll(async () => {
  database = await createTestDatabase();
  sql = testPool(database.uri);
  // a grace shorter than the run: the run must be handed back, not finished in place
  cluster = await startServerCluster({
    databaseUri: database.uri,
    configPath: RUNS_CONFIG,
    size: 2,
    env: { LGTS_SHUTDOWN_GRACE: "1.5", LGTS_RUN_LEASE: "2" },
  });
}, 120_000);
afterAll(async () => {
  await cluster?.close();
  await sql?.end();
  await database?.drop();
});

async function leaseOwnerPid(runId: string): Promise<string | undefined> {
  const { rows } = await sql.query<{ lease_owner: string | null }>("SELECT lease_owner FROM runs WHERE run_id = $1 AND status = 'running'", [runId]);
  return rows[0]?.lease_owner?.split(":")[1];
}

describe("SIGTERM to a process executing a streamed run", () => {
  it("hands the run to the other process; the client sees the whole stream once; exit code 0", async () => {
    const thread = await cluster.client.threads.create();
    const stream = cluster.client.runs.stream(thread.thread_id, "slow", {
      input: { steps: STEPS, delay_ms: 600 },
      streamMode: ["values"],
    });
    const ids: string[] = [];
    const states: SlowState[] = [];
    let runId: string | undefined;
    let stopped: Promise<number | null> | undefined;
    for await (const chunk of stream) {
      if (chunk.id) ids.push(chunk.id);
      if (chunk.event === "metadata") runId = (chunk.data as { run_id: string }).run_id;
      if (chunk.event !== "values") continue;
      states.push(chunk.data as SlowState);
      if (stopped || (chunk.data as SlowState).completed < 1) continue;
      // the run is under way, leased to the process that took the stream's request: stop that one
      const pid = await eventually(() => leaseOwnerPid(runId!), 10_000, "the run's lease");
      const index = cluster.processes.findIndex((p) => String(p.child.pid) === pid);
      expect(index).toBeGreaterThanOrEqual(0);
      const stopping = cluster.processes[index];
      stopping.child.kill("SIGTERM");
      stopped = stopping.exited;
      // readiness fails at once; liveness stays up while it still serves
      await eventually(async () => ((await fetch(`${stopping.url}/ok?check_db=1`)).status === 503 ? true : undefined), 5_000, "readiness failing");
      expect((await fetch(`${stopping.url}/ok`)).status).toBe(200);
    }
    expect(await stopped).toBe(0);
    // every state once, in order, to the end: no gap, no repeat across the reconnect
    expect(states.map((s) => s.completed ?? 0)).toEqual(Array.from({ length: STEPS + 1 }, (_, i) => i));
    expect(new Set(ids).size).toBe(ids.length);
    const run = await cluster.client.runs.get(thread.thread_id, runId!);
    expect(run.status).toBe("success");
    // it executed twice (attempt 2), once handed back: no failed attempt is counted
    const { rows } = await sql.query<{ attempt: number; handoffs: number }>("SELECT attempt, handoffs FROM runs WHERE run_id = $1", [runId]);
    expect(rows[0]).toEqual({ attempt: 2, handoffs: 1 });
  });
});
