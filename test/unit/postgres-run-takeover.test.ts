/**
 * A run taken over from a process that is still alive (its LISTEN connection was lost for a
 * while, say): the process's execution of the old attempt must write nothing more for it (not
 * its thread's state, not at shutdown either), and must free what it held for it, while the process's own clients of the
 * run follow the new owner's events to the end. Two engines with their own coordination (LISTEN
 * connection, worker lock, dispatcher, broker) on one database stand for two processes; the
 * takeover is what the reaper and a claim write for a run whose owner looked dead.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadGraphRegistry, defaultAssistantId, type GraphRegistry } from "../../src/runtime/graphs/index.js";
import type { PostgresRunEventBroker } from "../../src/runtime/postgres/run-broker.js";
import type { RunEvent } from "../../src/runtime/runs/broker.js";
import { RUNS_CHANNEL } from "../../src/runtime/postgres/run-dispatcher.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { ensureSystemAssistants } from "../../src/runtime/system-assistants.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import type { Run } from "../../src/storage/types.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { startPostgresEngine } from "../support/postgres-engine.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";

let database: TestDatabase;
let storage: PostgresStorage;
let graphs: GraphRegistry;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: 8 });
  graphs = await loadGraphRegistry(RUNS_CONFIG);
  await ensureSystemAssistants(storage, graphs);
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});
afterAll(async () => {
  await storage?.close();
  await database?.drop();
});

/** A server process's run engine on the shared database, executing `concurrency` runs at a time. */
async function process_(leaseMs: number, concurrency = 1) {
  const { engine, coordination } = await startPostgresEngine({ uri: database.uri, storage, graphs, concurrency, leaseMs, maxAttempts: 5 });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= engine.shutdown(0).then(() => coordination.close()));
  stops.push(stop);
  return { engine, workerId: coordination.workerId, broker: coordination.parts.broker as PostgresRunEventBroker, stop };
}

type Process = Awaited<ReturnType<typeof process_>>;

/** A slow run (about 3 s) submitted to `executing`, once it executes there and published its first event. */
async function slowRunExecutedBy(executing: Process): Promise<Run> {
  const thread = await storage.threads.create();
  const assistantId = defaultAssistantId("slow");
  const request = { assistant_id: assistantId, input: { steps: 20, delay_ms: 150 }, stream_mode: ["values" as const] };
  const { kwargs } = parseRunRequest(request, { stateless: false });
  const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: assistantId, kwargs, multitask_strategy: "reject" });
  executing.engine.submit(run);
  await eventually(
    async () => {
      const { rows } = await storage.db.query<{ lease_owner: string; events: string }>(
        "SELECT lease_owner, (SELECT count(*) FROM run_events e WHERE e.run_id = r.run_id) AS events FROM runs r WHERE run_id = $1",
        [run.run_id],
      );
      return rows[0]?.lease_owner === executing.workerId && Number(rows[0].events) > 0 ? true : undefined;
    },
    10_000,
    "the run to execute",
  );
  return run;
}

/**
 * What happens when the executing process looks dead to another one: the reaper and `taker`'s
 * claim leave the run leased to `taker` (attempt 2), which executes it. Written here in one
 * statement, as a claim at once after the reaper: with the run pending in between, the old
 * process could notice its loss on a renewal, end its execution and claim the run itself
 * (rightly so: nobody else held it then), and `taker` would never get it.
 */
async function takeOver(run: Run, taker: Process): Promise<void> {
  const { rows } = await storage.db.query<{ run_id: string }>(
    `UPDATE runs SET attempt = attempt + 1, lease_owner = $2, lease_expires_at = now() + interval '60 seconds', updated_at = now()
      WHERE run_id = $1 AND status = 'running' AND attempt = 1 RETURNING run_id`,
    [run.run_id, taker.workerId],
  );
  expect(rows).toHaveLength(1);
  // a run leased to a process is submitted to it running, as at its creation: it executes it
  taker.engine.submit(await storage.runs.get(run.run_id));
}

const stored = async (runId: string) => {
  const { rows } = await storage.db.query<{ status: string; attempt: number; lease_owner: string | null }>(
    "SELECT status, attempt, lease_owner FROM runs WHERE run_id = $1",
    [runId],
  );
  return rows[0];
};

describe("a run taken over from a live process", () => {
  it("stays with its new owner when the old one shuts down: the old execution does not put it back to pending", async () => {
    const old = await process_(60_000);
    const run = await slowRunExecutedBy(old);
    const taker = await process_(60_000);
    await takeOver(run, taker);

    await old.stop(); // its execution is suspended at once (no grace)
    expect(await stored(run.run_id)).toMatchObject({ status: "running", attempt: 2, lease_owner: taker.workerId });
    const ended = await eventually(
      async () => {
        const row = await stored(run.run_id);
        return row?.status === "running" || row?.status === "pending" ? undefined : row;
      },
      20_000,
      "the run's end",
    );
    // executed by the new owner to its end, not claimed a third time
    expect(ended).toMatchObject({ status: "success", attempt: 2 });
    const state = await storage.threads.get(run.thread_id);
    expect(state.values).toMatchObject({ completed: 20 });
  });

  it.each([
    ["its end is refused", (old: Process, run: Run) => old.engine.cancel(run, "interrupt", "stop the old attempt")],
    ["its lease renewal finds it gone", async () => {}],
  ])("frees what the old execution held, and its process's clients follow the new owner to the end (%s)", async (_how, stopOld) => {
    const old = await process_(1_500); // renews (and notices a lost run) every 500 ms
    const run = await slowRunExecutedBy(old);
    const client = await old.engine.events(run.run_id, { lastEventId: "-1" });
    expect(client).not.toBeNull();
    const events: RunEvent[] = [];
    const reading = (async () => {
      for await (const event of client!.events) events.push(event);
    })();
    const taker = await process_(60_000);
    await takeOver(run, taker);
    await stopOld(old, run);

    // the old execution ends and leaves nothing behind
    await eventually(async () => (old.engine.load.running === 0 ? true : undefined), 10_000, "the old execution to end");
    await eventually(async () => (old.broker.publishers === 0 ? true : undefined), 5_000, "the old execution's broker entry to go");
    // nor did it write the thread's state (its end's): the new owner still runs it
    expect((await storage.threads.get(run.thread_id)).status).toBe("busy");
    expect(await stored(run.run_id)).toMatchObject({ status: "running", attempt: 2 });
    // the client, served by the old process, gets the new owner's events and its end
    expect(await client!.outcome).toMatchObject({ status: "success", values: { completed: 20 } });
    await reading;
    const metadata = events.filter((e) => e.mode === "metadata").map((e) => (e.data as { attempt: number }).attempt);
    expect(metadata).toEqual([1, 2]);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(old.broker.size).toBe(0);
    expect(old.broker.publishers).toBe(0);
    expect(await stored(run.run_id)).toMatchObject({ status: "success", attempt: 2 });
  });

  it("is claimed back by a process with a free slot only once its old execution there ended: each state reaches the clients once", async () => {
    const old = await process_(1_500, 2); // a free slot beside the run; renews every 500 ms
    const run = await slowRunExecutedBy(old);
    const client = await old.engine.events(run.run_id, { lastEventId: "-1" });
    const events: RunEvent[] = [];
    const reading = (async () => {
      for await (const event of client!.events) events.push(event);
    })();
    // the reaper's write (the process looked dead), with no other process to claim the run
    await storage.db.query("UPDATE runs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL WHERE run_id = $1", [run.run_id]);
    await storage.db.query(`SELECT pg_notify('${RUNS_CHANNEL}', 'reaper')`);

    expect(await client!.outcome).toMatchObject({ status: "success", values: { completed: 20 } });
    await reading;
    const metadata = events.filter((e) => e.mode === "metadata").map((e) => (e.data as { attempt: number }).attempt);
    expect(metadata).toEqual([1, 2]);
    // the second attempt's states, from where it resumed to the end, each once: no old execution beside it
    const second = events.slice(events.findLastIndex((e) => e.mode === "metadata") + 1);
    const completed = second.filter((e) => e.mode === "values").map((e) => (e.data as { completed?: number }).completed ?? 0);
    expect(completed.at(-1)).toBe(20);
    expect(completed).toEqual([...new Set(completed)].sort((a, b) => a - b));
    expect(await stored(run.run_id)).toMatchObject({ status: "success", attempt: 2 });
  });
});
