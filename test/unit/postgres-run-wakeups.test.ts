/**
 * Claim passes and `lgts_runs` wake-ups on PostgreSQL: a run's end claims and wakes only when
 * something may be pending (the last claim left a due pending run, or a notice came since), and
 * a pending run is still claimed promptly when its thread or a slot frees. The heartbeat (the
 * safety net) ticks every 20 s here, so "promptly" cannot be its doing.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAssistantId, loadGraphRegistry, type GraphRegistry } from "../../src/runtime/graphs/index.js";
import { RUNS_CHANNEL } from "../../src/runtime/postgres/run-dispatcher.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { ComposedRunEngine } from "../../src/runtime/runs/run-engine.js";
import { ensureSystemAssistants } from "../../src/runtime/system-assistants.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import type { Run } from "../../src/storage/records.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { startPostgresEngine } from "../support/postgres-engine.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";

const LEASE_MS = 60_000;
const PROMPTLY_MS = 5_000;
let database: TestDatabase;
let storage: PostgresStorage;
let graphs: GraphRegistry;
let listener: pg.Client;
const notices: string[] = [];
const claims: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: 4 });
  graphs = await loadGraphRegistry(RUNS_CONFIG);
  await ensureSystemAssistants(storage, graphs);
  listener = new pg.Client({ connectionString: database.uri });
  await listener.connect();
  listener.on("notification", (notice) => notices.push(notice.payload ?? ""));
  await listener.query(`LISTEN ${RUNS_CHANNEL}`);
  storage.db.onQuery = (text) => {
    if (text.includes("WITH claimed AS")) claims.push(text);
  };
});
afterAll(async () => {
  if (storage) storage.db.onQuery = undefined;
  await listener?.end();
  await storage?.close();
  await database?.drop();
});

/** One server process's engine on the shared database. */
async function startProcess(concurrency: number) {
  const { engine, coordination } = await startPostgresEngine({ uri: database.uri, storage, graphs, concurrency, leaseMs: LEASE_MS });
  const dispatcher = coordination.parts.dispatcher;
  await dispatcher.drained(); // its first claim pass is done
  return {
    engine,
    dispatcher,
    async stop() {
      await engine.shutdown(0);
      await coordination.close();
    },
  };
}

const kwargs = (graph: string, input: Record<string, unknown>) =>
  parseRunRequest({ assistant_id: defaultAssistantId(graph), input }, { stateless: false }).kwargs;

/** A run created as the API creates it: leased at creation when the engine has a slot, else pending. */
async function createRun(engine: ComposedRunEngine, threadId: string, graph: string, input: Record<string, unknown>): Promise<Run> {
  const granted = engine.leaseAtCreation();
  const { run } = await storage.runs.create({
    thread_id: threadId,
    assistant_id: defaultAssistantId(graph),
    kwargs: kwargs(graph, input),
    multitask_strategy: "enqueue",
    ...(granted ? { lease: { owner: granted.owner, leaseMs: granted.leaseMs } } : {}),
  });
  if (granted && run.status !== "running") granted.release();
  engine.submit(run);
  return run;
}

const ended = (runId: string) =>
  eventually(
    async () => {
      const run = await storage.runs.get(runId);
      return run.status === "success" ? run : undefined;
    },
    PROMPTLY_MS,
    `run ${runId} to end`,
  );

describe("PostgreSQL run wake-ups", () => {
  it("a run's end with nothing pending runs no claim and sends no lgts_runs notice", async () => {
    const one = await startProcess(2);
    try {
      const thread = (await storage.threads.create()).thread_id;
      claims.length = 0;
      notices.length = 0;
      const run = await createRun(one.engine, thread, "trivial", { value: 1 });
      expect(run.status).toBe("running");
      await ended(run.run_id);
      await eventually(async () => (one.engine.load.running === 0 ? true : undefined), PROMPTLY_MS, "the execution to end");
      await one.dispatcher.drained();
      // a notice sent at the end would be here by now: a round trip through the server
      await listener.query("SELECT 1");
      expect(claims).toEqual([]);
      expect(notices).toEqual([]);
    } finally {
      await one.stop();
    }
  });

  it("a run's end on a thread with a queued run has the queued run claimed promptly, by another process too", async () => {
    const first = await startProcess(1);
    const second = await startProcess(1);
    try {
      const thread = (await storage.threads.create()).thread_id;
      const running = await createRun(first.engine, thread, "slow", { steps: 1, delay_ms: 300 });
      expect(running.status).toBe("running");
      // queued behind it, created in the other process: every claim leaves it (its thread is busy)
      const queued = await createRun(second.engine, thread, "trivial", { value: 1 });
      expect(queued.status).toBe("pending");
      await ended(running.run_id);
      await ended(queued.run_id);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  it("a process with a backlog claims it when one of its slots frees", async () => {
    const one = await startProcess(1);
    try {
      const busy = await createRun(one.engine, (await storage.threads.create()).thread_id, "slow", { steps: 1, delay_ms: 300 });
      expect(busy.status).toBe("running");
      // no free slot anywhere: it waits in the table
      const waiting = await createRun(one.engine, (await storage.threads.create()).thread_id, "trivial", { value: 1 });
      expect(waiting.status).toBe("pending");
      await ended(busy.run_id);
      await ended(waiting.run_id);
    } finally {
      await one.stop();
    }
  });
});
