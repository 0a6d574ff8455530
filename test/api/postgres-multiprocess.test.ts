/**
 * Three server processes on one PostgreSQL database, behind a round-robin proxy: consecutive
 * requests reach different processes, as behind any load balancer. Runs, streams, cancels and
 * crons must behave as on one server; every run executes exactly once; a crash of two processes
 * loses no run.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@langchain/langgraph-sdk";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testPool, type TestDatabase } from "../support/postgres.js";
import { asyncListener } from "../support/async-listener.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";
import { startServerCluster, type ServerCluster } from "../support/server-cluster.js";

type SlowState = { completed: number; log: string[] };
const slow = (steps: number, delayMs: number) => ({ input: { steps, delay_ms: delayMs } });
const steps = (n: number) => Array.from({ length: n }, (_, i) => `step ${i + 1}`);

let database: TestDatabase;
let sql: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  sql = testPool(database.uri);
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

/** Executions of each run that started (each one publishes one `metadata` event first). */
async function executionsOf(runIds: string[]): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ run_id: string; n: string }>(
    "SELECT run_id, count(*) AS n FROM run_events WHERE mode = 'metadata' AND run_id = ANY($1) GROUP BY run_id",
    [runIds],
  );
  return new Map(rows.map((r) => [r.run_id, Number(r.n)]));
}

/** The process (by index in the cluster) holding a running run's lease. */
async function executingProcess(cluster: ServerCluster, runId: string): Promise<number | undefined> {
  const { rows } = await sql.query<{ lease_owner: string | null }>("SELECT lease_owner FROM runs WHERE run_id = $1 AND status = 'running'", [runId]);
  const pid = rows[0]?.lease_owner?.split(":")[1];
  if (pid === undefined) return undefined;
  const index = cluster.processes.findIndex((p) => String(p.child.pid) === pid);
  return index >= 0 ? index : undefined;
}

describe("three processes behind a round-robin proxy", () => {
  let cluster: ServerCluster;
  let client: Client;
  beforeAll(async () => {
    cluster = await startServerCluster({ databaseUri: database.uri, configPath: RUNS_CONFIG, env: { LGTS_RUN_LEASE: "2", LGTS_CRON_SECONDS: "1" } });
    client = cluster.client;
  }, 120_000);
  afterAll(() => cluster?.close());

  it("serves the SDK flows (threads, runs, streams, interrupts) across processes", async () => {
    const thread = await client.threads.create({ metadata: { flow: "sdk" } });
    expect(await client.threads.get(thread.thread_id)).toMatchObject({ metadata: { flow: "sdk" } });
    const result = (await client.runs.wait(thread.thread_id, "slow", slow(2, 10))) as SlowState;
    expect(result).toMatchObject({ completed: 2, log: steps(2) });

    const parts = [];
    for await (const part of client.runs.stream(thread.thread_id, "slow", { ...slow(2, 10), streamMode: ["values"] })) parts.push(part);
    expect(parts[0].event).toBe("metadata");
    // the thread continues from completed = 2: the node runs once more
    expect(parts.at(-1)).toMatchObject({ event: "values", data: { completed: 3 } });

    const asking = await client.threads.create();
    const paused = await client.runs.wait(asking.thread_id, "interrupt", { input: { topic: "cats" } });
    expect(paused).toHaveProperty("__interrupt__");
    expect((await client.threads.get(asking.thread_id)).status).toBe("interrupted");
    const resumed = await client.runs.wait(asking.thread_id, "interrupt", { command: { resume: "approved" } });
    expect(resumed).toMatchObject({ result: "Draft about cats (approved)" });
    expect((await client.threads.get(asking.thread_id)).status).toBe("idle");
    expect((await client.threads.search({ metadata: { flow: "sdk" } })).map((t) => t.thread_id)).toContain(thread.thread_id);
    // consecutive requests went to every process
    expect(new Set(cluster.proxy.served)).toEqual(new Set([0, 1, 2]));
  });

  it("executes each of 100 runs exactly once", async () => {
    const threads = await Promise.all(Array.from({ length: 100 }, () => client.threads.create()));
    const runs = await Promise.all(threads.map((t) => client.runs.create(t.thread_id, "slow", slow(1, 0))));
    const results = await Promise.all(runs.map((r) => client.runs.join(r.thread_id, r.run_id) as Promise<SlowState>));
    for (const result of results) expect(result).toMatchObject({ completed: 1, log: steps(1) });
    const executions = await executionsOf(runs.map((r) => r.run_id));
    const repeated = [...executions].filter(([, n]) => n !== 1).map(([runId]) => runId);
    const { rows: repeats } = await sql.query(
      "SELECT e.run_id, e.seq, e.data, r.attempt, r.status FROM run_events e JOIN runs r USING (run_id) WHERE e.mode = 'metadata' AND e.run_id = ANY($1) ORDER BY e.run_id, e.seq",
      [repeated],
    );
    expect(repeats, "runs executed more than once").toEqual([]);
    expect(executions.size).toBe(100);
    const { rows } = await sql.query<{ n: string }>("SELECT count(*) AS n FROM runs WHERE run_id = ANY($1) AND attempt = 1 AND status = 'success'", [
      runs.map((r) => r.run_id),
    ]);
    expect(Number(rows[0].n)).toBe(100);
  }, 120_000);

  it("stops a run executing on one process when another process gets the cancel", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "slow", slow(50, 100));
    const executor = await eventually(() => executingProcess(cluster, run.run_id), 20_000, "the run to be claimed");
    const other = cluster.processes[(executor + 1) % 3];
    await new Client({ apiUrl: other.url }).runs.cancel(thread.thread_id, run.run_id, true);
    const stopped = await client.runs.get(thread.thread_id, run.run_id);
    expect(stopped.status).toBe("interrupted");
    // A cancel can land before the run's first step: then the thread has no values at all.
    const state = (await client.threads.getState(thread.thread_id)).values as Partial<SlowState>;
    expect(state.completed ?? 0).toBeLessThan(50);
  });

  it("lists every process, and a run executing on another process under that process (GET /processes)", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "slow", slow(50, 100));
    const executor = await eventually(() => executingProcess(cluster, run.run_id), 20_000, "the run to be claimed");
    const asked = cluster.processes[(executor + 1) % 3];
    const res = await fetch(`${asked.url}/processes`);
    expect(res.status).toBe(200);
    const { processes } = (await res.json()) as { processes: Array<{ process_id: string; current: boolean; runs: unknown[] }> };
    const pidOf = (id: string) => id.split(":")[1];
    expect(pidOf(processes[0].process_id)).toBe(String(asked.child.pid));
    expect(processes[0]).toMatchObject({ current: true, runs: [] });
    const executing = processes.find((p) => pidOf(p.process_id) === String(cluster.processes[executor].child.pid));
    expect(executing).toMatchObject({
      current: false,
      runs: [{ run_id: run.run_id, thread_id: thread.thread_id, status: "running", attempt: 1, since: expect.any(String) }],
    });
    // the third process executes nothing and is listed all the same
    expect(processes.map((p) => pidOf(p.process_id)).sort()).toEqual(cluster.processes.map((p) => String(p.child.pid)).sort());
    await client.runs.cancel(thread.thread_id, run.run_id, true);
  });

  it("joins, through another process, a stream started through one, with the same event ids", async () => {
    const thread = await client.threads.create();
    const [a, b] = [new Client({ apiUrl: cluster.processes[0].url }), new Client({ apiUrl: cluster.processes[1].url })];
    let runId = "";
    const started = [];
    for await (const part of a.runs.stream(thread.thread_id, "slow", {
      ...slow(6, 150),
      streamMode: ["values"],
      streamResumable: true,
      onRunCreated: (meta) => (runId = meta.run_id),
    })) {
      started.push(part);
      if (started.length === 3) break;
    }
    const joined = [];
    for await (const part of b.runs.joinStream(thread.thread_id, runId, { lastEventId: "-1", streamMode: ["values"] })) joined.push(part);
    expect(joined.length).toBeGreaterThan(started.length);
    expect(joined.slice(0, started.length).map((p) => [p.id, p.event])).toEqual(started.map((p) => [p.id, p.event]));
    expect(joined.at(-1)).toMatchObject({ event: "values", data: { completed: 6 } });
    // a client that reconnects to a third process resumes after the id it last saw
    const c = new Client({ apiUrl: cluster.processes[2].url });
    const rest = [];
    for await (const part of c.runs.joinStream(thread.thread_id, runId, { lastEventId: joined[2].id! })) rest.push(part);
    expect(rest.map((p) => p.id)).toEqual(joined.slice(3).map((p) => p.id));
  });

  it("follows a thread's runs started through other processes, and ends when another deletes the thread", async () => {
    const [a, b, c] = cluster.processes.map((p) => new Client({ apiUrl: p.url }));
    const thread = await a.threads.create();
    const events: string[] = [];
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const following = (async () => {
      const stream = a.threads.joinStream(thread.thread_id, { streamMode: ["lifecycle"] } as never) as AsyncIterable<{ event: string }>;
      const iterator = stream[Symbol.asyncIterator]();
      const first = iterator.next();
      opened();
      for (let next = await first; !next.done; next = await iterator.next()) events.push(next.value.event);
    })();
    await open;
    // the stream is open once the server watches the thread: runs created from now on are seen
    await eventually(
      async () => {
        await b.runs.wait(thread.thread_id, "slow", slow(1, 0));
        return events.includes("run_done") ? true : undefined;
      },
      20_000,
      "a run seen by the thread stream",
    );
    await c.threads.delete(thread.thread_id);
    await following;
    expect(events).toContain("run_start");
  });

  it("fires a seconds cron once per tick, whichever processes' alarms ring", async () => {
    const thread = await client.threads.create();
    const cron = await client.crons.createForThread(thread.thread_id, "slow", {
      schedule: "*/2 * * * * *",
      ...slow(1, 0),
      multitaskStrategy: "enqueue",
    } as never);
    await eventually(async () => ((await client.runs.list(thread.thread_id, { limit: 50 })).length >= 3 ? true : undefined), 20_000, "three firings");
    await client.crons.delete(cron.cron_id);
    const runs = await client.runs.list(thread.thread_id, { limit: 50 });
    const ticks = runs.map((r) => Math.floor(Date.parse(r.created_at) / 2000));
    expect(new Set(ticks).size).toBe(ticks.length);
  });
});

describe("a crash of two of three processes", () => {
  let cluster: ServerCluster;
  beforeAll(async () => {
    cluster = await startServerCluster({
      databaseUri: database.uri,
      configPath: RUNS_CONFIG,
      env: { LGTS_RUN_LEASE: "1.5", LGTS_RUN_CONCURRENCY: "4" },
    });
  }, 120_000);
  afterAll(() => cluster?.close());

  it("completes every run in flight on the survivor, resuming from checkpoints, attempts counted", async () => {
    const client = cluster.client;
    const threads = await Promise.all(Array.from({ length: 9 }, () => client.threads.create()));
    const runs = await Promise.all(threads.map((t) => client.runs.create(t.thread_id, "slow", slow(12, 150))));
    // every process is executing some of them
    await eventually(
      async () => {
        const owners = await Promise.all(runs.map((r) => executingProcess(cluster, r.run_id)));
        return new Set(owners.filter((o) => o !== undefined)).size === 3 ? true : undefined;
      },
      30_000,
      "runs executing on all three processes",
    );
    const killed = await Promise.all(runs.map((r) => executingProcess(cluster, r.run_id)));
    await Promise.all([cluster.kill(0, "SIGKILL"), cluster.kill(1, "SIGKILL")]);

    const results = await Promise.all(runs.map((r) => client.runs.join(r.thread_id, r.run_id) as Promise<SlowState>));
    for (const result of results) expect(result).toMatchObject({ completed: 12, log: steps(12) });
    const { rows } = await sql.query<{ run_id: string; attempt: number; status: string }>(
      "SELECT run_id, attempt, status FROM runs WHERE run_id = ANY($1)",
      [runs.map((r) => r.run_id)],
    );
    for (const row of rows) {
      expect(row.status).toBe("success");
      const index = runs.findIndex((r) => r.run_id === row.run_id);
      if (killed[index] === 0 || killed[index] === 1) expect(row.attempt).toBeGreaterThanOrEqual(2);
    }
  }, 120_000);
});

describe("a crash of the process delivering a run's webhook", () => {
  let cluster: ServerCluster;
  beforeAll(async () => {
    cluster = await startServerCluster({ databaseUri: database.uri, configPath: RUNS_CONFIG, env: { LGTS_RUN_LEASE: "2", LGTS_CRON_SECONDS: "1" } });
  }, 120_000);
  afterAll(() => cluster?.close());

  it("is delivered by a survivor, once: the delivery was stored with the run's end", async () => {
    // the first POST is held unanswered: the process making it is killed meanwhile
    const posts: Array<{ body: { run_id: string; status: string }; answered: boolean; key: unknown }> = [];
    let firstArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    const receiver = createServer(
      asyncListener(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const post = { body: JSON.parse(Buffer.concat(chunks).toString("utf8")), answered: posts.length > 0, key: req.headers["idempotency-key"] };
        posts.push(post);
        if (!post.answered) return firstArrived();
        res.statusCode = 204;
        res.end();
      }),
    );
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const thread = await cluster.client.threads.create();
      const run = await cluster.client.runs.create(thread.thread_id, "slow", { ...slow(1, 10), webhook });
      await arrived;
      const { rows } = await sql.query<{ claimed_by: string }>("SELECT claimed_by FROM webhook_deliveries WHERE run_id = $1", [run.run_id]);
      const pid = rows[0].claimed_by.split(":")[1];
      const index = cluster.processes.findIndex((p) => String(p.child.pid) === pid);
      expect(index).toBeGreaterThanOrEqual(0);
      // the claimer is named by its worker id, whose lock tells it is alive: its claim is not taken meanwhile
      const { rowCount: locks } = await sql.query(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
            AND classid = hashtext('lgts:worker')::oid AND objid = hashtext($1)::oid`,
        [rows[0].claimed_by],
      );
      expect(locks).toBe(1);
      await cluster.kill(index, "SIGKILL");
      // its claim lapses (attempt timeout + margin), then a survivor delivers it
      await eventually(
        async () => {
          const { rowCount } = await sql.query("SELECT 1 FROM webhook_deliveries WHERE run_id = $1", [run.run_id]);
          return rowCount === 0 ? true : undefined;
        },
        40_000,
        "the delivery to be completed by a survivor",
      );
      expect(posts.map((p) => [p.body.run_id, p.body.status, p.answered])).toEqual([
        [run.run_id, "success", false],
        [run.run_id, "success", true],
      ]);
      // the repeat carries the key of the first POST: the receiver can tell it is the same delivery
      expect(posts[1].key).toBe(posts[0].key);
      expect(posts[0].key).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  }, 90_000);
});
