/**
 * The server on a PostgreSQL that goes away and comes back: requests answer 503 while it is
 * gone, the server reconnects by itself, and every acknowledged write is still there. A database
 * that cannot be reached at startup is a one-line error.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../../src/storage/errors.js";
import { startPostgres, type PostgresServer } from "../support/postgres-server.js";
import { databaseUri, testPool } from "../support/postgres.js";
import { eventually } from "../support/runs.js";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

let postgres: PostgresServer;
let t: TestServer;

beforeAll(async () => {
  postgres = await startPostgres({ crashSafe: true });
  const client = new pg.Client({ connectionString: postgres.uri });
  await client.connect();
  await client.query("CREATE DATABASE app");
  await client.end();
  const uri = databaseUri(postgres.uri, "app");
  t = await startTestServer({ database: { name: "app", uri, drop: async () => {} } });
}, 120_000);
afterAll(async () => {
  await t?.dispose();
  await postgres?.stop();
});

describe("a PostgreSQL that goes away", () => {
  it("answers 503 while the database is gone, reconnects, and loses nothing acknowledged", async () => {
    const info = await json(await fetch(`${t.url}/info`));
    expect(info.metadata.storage).toBe("postgres");
    expect(await json(await fetch(`${t.url}/ok?check_db=1`))).toEqual({ ok: true, storage: "postgres" });
    const thread = await t.client.threads.create({ metadata: { kept: true } });

    await postgres.kill();
    const lost = await fetch(`${t.url}/threads/${thread.thread_id}`);
    expect(lost.status).toBe(503);
    expect((await json(lost)).detail).toMatch(/database unavailable/);
    const create = await fetch(`${t.url}/threads`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(create.status).toBe(503);
    const health = await fetch(`${t.url}/ok?check_db=1`);
    expect(health.status).toBe(503);
    expect((await json(health)).detail).toMatch(/postgres/);
    expect((await fetch(`${t.url}/ok`)).status).toBe(200); // the process itself is up

    await postgres.start();
    const back = await eventually(
      async () => {
        const res = await fetch(`${t.url}/threads/${thread.thread_id}`);
        return res.status === 200 ? json(res) : undefined;
      },
      45_000,
      "the server to reconnect",
    ); // a restart on a loaded machine can take many seconds
    expect(back.metadata).toEqual({ kept: true });
    const after = await t.client.threads.create();
    expect((await t.client.threads.get(after.thread_id)).thread_id).toBe(after.thread_id);
  }, 90_000);

  it("under load: requests during the outage end in 200 or 503, runs and joins resume, the server serves within seconds", async () => {
    const threads = await Promise.all([0, 1, 2, 3].map(() => t.client.threads.create()));
    // runs in flight when the database goes (a checkpoint per step; under the recursion limit of 25 steps)
    const inFlight = await Promise.all(
      threads.map((thread) => t.client.runs.create(thread.thread_id, "slow", { input: { steps: 20, delay_ms: 400 } })),
    );
    const joins = inFlight.map((run) =>
      t.client.runs.join(run.thread_id, run.run_id).then(
        () => "ended",
        (e: Error) => e.message,
      ),
    );
    const statuses = new Map<number, number>();
    let trafficOn = true;
    const traffic = Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (i) => {
        while (trafficOn) {
          const res =
            i % 3 === 0
              ? await fetch(`${t.url}/threads`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
              : i % 3 === 1
                ? await fetch(`${t.url}/threads/${threads[i % 4].thread_id}`)
                : await fetch(`${t.url}/threads/search`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    await eventually(async () => ((statuses.get(200) ?? 0) > 10 ? true : undefined), 10_000, "traffic to flow");
    await postgres.kill();
    await eventually(async () => ((statuses.get(503) ?? 0) > 10 ? true : undefined), 10_000, "503s while the database is gone");
    // the outage outlasts a run's step (400 ms), so every run in flight meets it with a checkpoint
    // save; a shorter one could fall between the steps of all four (they run in step) on a fast machine
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await postgres.start();
    const back = Date.now();
    const served = statuses.get(200) ?? 0;
    await eventually(async () => ((statuses.get(200) ?? 0) > served + 20 ? true : undefined), 15_000, "the server to serve again");
    const recoveredMs = Date.now() - back;
    trafficOn = false;
    await traffic;
    expect([...statuses.keys()].sort()).toEqual([200, 503]);
    expect(recoveredMs).toBeLessThan(15_000);
    // every run cut by the outage ends (resumed from its checkpoint, or ended), and its join returns
    expect(await Promise.all(joins)).toEqual(["ended", "ended", "ended", "ended"]);
    // a run cut by the outage is retried like a crashed one (the attempt counted), not recorded as failed
    for (const run of inFlight) expect((await t.client.runs.get(run.thread_id, run.run_id)).status).toBe("success");
    const sql = new pg.Client({ connectionString: databaseUri(postgres.uri, "app") });
    await sql.connect();
    const { rows } = await sql.query<{ attempt: number }>("SELECT attempt FROM runs WHERE run_id = ANY($1)", [inFlight.map((r) => r.run_id)]);
    await sql.end();
    expect(Math.max(...rows.map((r) => r.attempt))).toBeGreaterThan(1);
    // new runs are claimed (LISTEN/NOTIFY back) and streamed to the end
    const thread = await t.client.threads.create();
    const chunks: string[] = [];
    for await (const chunk of t.client.runs.stream(thread.thread_id, "trivial", { input: { value: 1 }, streamMode: "values" })) {
      chunks.push(chunk.event);
    }
    expect(chunks.at(-1)).toBe("values");
    expect(await t.client.runs.wait(thread.thread_id, "trivial", { input: { value: 1 } })).toEqual({ value: 4 });
  }, 120_000);

  it("retries a run cut by an outage from its last checkpoint, the attempt counted; any other failure still ends it as error", async () => {
    const cut = await startTestServer({ runs: { leaseMs: 600 } });
    const sql = testPool(cut.database!.uri, 1);
    try {
      const thread = await cut.client.threads.create();
      // the run's third checkpoint write meets the database away; it is back right after
      const checkpoints = cut.server.services.storage.checkpoints;
      const put = checkpoints.put.bind(checkpoints);
      let failure: Error | null = new StorageUnavailableError("database unavailable: gone for a moment");
      let seen = 0;
      checkpoints.put = async (checkpoint) => {
        if (checkpoint.thread_id === thread.thread_id && ++seen === 3 && failure) throw failure;
        return put(checkpoint);
      };
      const attempt = async (runId: string) =>
        (await sql.query<{ attempt: number }>("SELECT attempt FROM runs WHERE run_id = $1", [runId])).rows[0].attempt;

      const result = await cut.client.runs.wait(thread.thread_id, "slow", { input: { steps: 4, delay_ms: 20 } });
      expect(result).toMatchObject({ completed: 4, log: ["step 1", "step 2", "step 3", "step 4"] });
      const [retried] = await cut.client.runs.list(thread.thread_id);
      expect(retried).toMatchObject({ status: "success" });
      expect(await attempt(retried.run_id)).toBe(2);

      // a failure that is not the database being away is the run's error, not retried
      seen = 0;
      failure = new Error("checkpoint refused");
      const failed = cut.client.runs.wait(thread.thread_id, "slow", { input: { steps: 4, delay_ms: 20 } });
      await expect(failed).rejects.toThrow(/checkpoint refused/);
      const [last] = await cut.client.runs.list(thread.thread_id);
      expect(last).toMatchObject({ status: "error" });
      expect(await attempt(last.run_id)).toBe(1);
    } finally {
      await sql.end();
      await cut.dispose();
    }
  }, 60_000);

  it("refuses to start with a one-line error when the database cannot be reached", async () => {
    await postgres.kill();
    try {
      const cli = path.join(REPO_ROOT, "bin/lgts.js");
      const uri = databaseUri(postgres.uri, "app").replace("postgres@", "postgres:secret@");
      const result = await promisify(execFile)(
        process.execPath,
        [cli, "serve", "--config", path.join(REPO_ROOT, "examples/langgraph.json"), "--port", "0", "--database-uri", uri],
        { timeout: 60_000 },
      ).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^Cannot use the database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/app: .*ECONNREFUSED/);
    } finally {
      await postgres.start();
    }
  });
});
