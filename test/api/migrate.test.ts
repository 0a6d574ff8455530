/**
 * Growing from the embedded store to PostgreSQL, as a user would: an embedded server filled
 * through the SDK with every kind of resource (an interrupted thread, a thread with a TTL, runs in
 * every status a stopped server keeps, assistant versions, store items with an index, a cron) is
 * moved with `lgts migrate --to postgres://...`; a server on PostgreSQL then reads everything the
 * same through the SDK, resumes the interrupted thread, finishes the run a crash left running
 * and fires the cron. The reverse move
 * (PostgreSQL to a data directory) gives the same reads again.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@langchain/langgraph-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { runDataCommand } from "../../src/data-commands.js";
import type { RunEngineOptions } from "../../src/runtime/runs/engine.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/runs.js";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/migrate/langgraph.json");
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: { database?: TestDatabase; dataDir?: string; runs?: RunEngineOptions }): Promise<TestServer> {
  const t = await startTestServer({
    configPath: CONFIG,
    cronSeconds: true, // the cron below fires at a given second
    ...(options.database ? { database: options.database } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.runs ? { runs: options.runs } : {}),
  });
  cleanups.push(() => t.stop());
  return t;
}

async function lgts(command: string, ...args: string[]): Promise<string> {
  const lines: string[] = [];
  const code = await runDataCommand(command, args, {}, (line) => lines.push(line));
  expect(code, lines.join("\n")).toBe(0);
  return lines.join("\n");
}

const byId = <T>(items: T[], id: (item: T) => string) => [...items].sort((a, b) => (id(a) < id(b) ? -1 : 1));

/** Everything a client reads of the deployment (threads in `threadIds`, when given). */
async function readAll(client: Client, threadIds?: string[]) {
  const assistants = byId(await client.assistants.search({ limit: 100 }), (a) => a.assistant_id);
  const threads = byId(await client.threads.search({ limit: 100 }), (t) => t.thread_id).filter((t) => !threadIds || threadIds.includes(t.thread_id));
  return {
    assistants,
    versions: await Promise.all(assistants.map((a) => client.assistants.getVersions(a.assistant_id, { limit: 100 }))),
    threads,
    perThread: await Promise.all(
      threads.map(async (t) => ({
        state: await client.threads.getState(t.thread_id),
        history: await client.threads.getHistory(t.thread_id, { limit: 100 }),
        runs: await client.runs.list(t.thread_id, { limit: 100 }),
      })),
    ),
    store: await client.store.searchItems(["docs"], { query: "cats and dogs", limit: 10 }),
    namespaces: await client.store.listNamespaces(),
  };
}

describe("lgts migrate", () => {
  it("moves an embedded server's data into PostgreSQL, where it reads the same, resumes and fires", { timeout: 180_000 }, async () => {
    // runs time out after 2 s; a stop suspends the running ones at once
    const embedded = await server({ runs: { runTimeoutMs: 2000, shutdownGraceMs: 0 } });
    const c = embedded.client;
    // assistants with versions
    const assistant = await c.assistants.create({ graphId: "trivial", name: "v1", metadata: { team: "a" } });
    await c.assistants.update(assistant.assistant_id, { name: "v2", config: { configurable: { k: 1 } } });
    // an interrupted thread (interrupt() in the graph)
    const interrupted = await c.threads.create({ metadata: { kind: "interrupted" } });
    await c.runs.wait(interrupted.thread_id, "interrupt", { input: { topic: "cats" } });
    // a thread with a TTL
    const expiring = await c.threads.create({ metadata: { kind: "ttl" }, ttl: { ttl: 120, strategy: "delete" } });
    // runs: success (two on one thread), error, timeout, interrupted (cancelled), pending (delayed)
    const busy = await c.threads.create();
    await c.runs.wait(busy.thread_id, assistant.assistant_id, { input: { value: 1 } });
    await c.runs.wait(busy.thread_id, assistant.assistant_id, { input: { value: 10 } });
    const failing = await c.threads.create();
    const failed = await c.runs.create(failing.thread_id, "failing", { input: { message: "no" } });
    await c.runs.join(failing.thread_id, failed.run_id);
    const timing = await c.threads.create();
    const timedOut = await c.runs.create(timing.thread_id, "slow", { input: { steps: 5, delay_ms: 1000 } });
    await c.runs.join(timing.thread_id, timedOut.run_id);
    const cancelling = await c.threads.create();
    const cancelled = await c.runs.create(cancelling.thread_id, "slow", { input: { steps: 50, delay_ms: 1000 } });
    await eventually(async () => ((await c.runs.get(cancelling.thread_id, cancelled.run_id)).status === "running" ? true : undefined));
    await c.runs.cancel(cancelling.thread_id, cancelled.run_id, true, "interrupt");
    const delayed = await c.threads.create();
    await c.runs.create(delayed.thread_id, "trivial", { input: { value: 1 }, afterSeconds: 3600 });
    // store items with an index (embedded by the config's embed function), one with a TTL
    await c.store.putItem(["docs", "pets"], "a", { text: "cats and more cats" });
    await c.store.putItem(["docs", "pets"], "b", { text: "a dog" }, { ttl: 600 });
    await c.store.putItem(["docs", "food"], "c", { text: "pizza" }, { index: false });

    const statuses = [];
    for (const t of [busy, failing, timing, cancelling, delayed]) statuses.push(...(await c.runs.list(t.thread_id)).map((r) => r.status));
    expect(new Set(statuses)).toEqual(new Set(["success", "error", "timeout", "interrupted", "pending"]));
    const before = await readAll(c);
    expect(before.perThread.find((p) => p.state.values && (p.state.values as { topic?: string }).topic === "cats")?.state.next).toEqual([
      "ask_human",
    ]);

    // a cron due a few seconds from now, created last: it fires after the move
    const cronThread = await c.threads.create();
    const due = new Date(Date.now() + 10_000);
    const schedule = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
    const cron = await c.crons.createForThread(cronThread.thread_id, "trivial", { schedule, input: { value: 100 } });
    // a run running when the server dies: the stop suspends it, and it is put back to running
    // as a crash (kill -9) would have left it
    const crashed = await c.threads.create();
    const cut = await c.runs.create(crashed.thread_id, "slow", { input: { steps: 20, delay_ms: 50 } });
    await eventually(async () => ((await c.runs.get(crashed.thread_id, cut.run_id)).status === "running" ? true : undefined));
    await embedded.stop();
    const left = await LowdbStorage.open({ dataDir: embedded.dataDir });
    expect((await left.runs.get(cut.run_id)).status).toBe("pending");
    await left.runs.update(cut.run_id, { status: "running" });
    await left.close();

    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const report = await lgts("migrate", "--data-dir", embedded.dataDir, "--to", database.uri, "--config", CONFIG);
    expect(report).toMatch(/state and history as the API answers them/);
    expect(report).toMatch(/the move is verified/);
    await expect(runDataCommand("migrate", ["--data-dir", embedded.dataDir, "--to", database.uri], {}, () => undefined)).rejects.toThrow(
      /already holds data/,
    );

    const onPostgres = await server({ database });
    const p = onPostgres.client;
    expect(
      await readAll(
        p,
        before.threads.map((t) => t.thread_id),
      ),
    ).toEqual(before);
    expect((await onPostgres.server.services.storage.threads.expiring()).map((e) => e.thread_id)).toEqual([expiring.thread_id]);
    expect(await p.crons.search()).toMatchObject([{ cron_id: cron.cron_id, thread_id: cronThread.thread_id, schedule }]);

    // the run the crash cut is taken over there and finishes
    const finished = await eventually(
      async () => {
        const run = await p.runs.get(crashed.thread_id, cut.run_id);
        return run.status === "success" ? run : undefined;
      },
      60_000,
      "the cut run to finish on PostgreSQL",
    );
    expect(finished.status).toBe("success");
    expect((await p.threads.getState(crashed.thread_id)).values).toMatchObject({ completed: 20 });

    // the interrupted thread resumes on PostgreSQL
    const resumed = await p.runs.wait(interrupted.thread_id, "interrupt", { command: { resume: "approved" } });
    expect(resumed).toMatchObject({ result: "Draft about cats (approved)" });
    // the cron fires there
    const fired = await eventually(
      async () => {
        const runs = await p.runs.list(cronThread.thread_id);
        return runs.find((r) => r.status === "success");
      },
      60_000,
      "the cron's run on PostgreSQL",
    );
    expect(fired.metadata).toMatchObject({ cron_id: cron.cron_id });
    expect((await p.threads.getState(cronThread.thread_id)).values).toEqual({ value: 103 });

    // and back: PostgreSQL to a new data directory
    const onPostgresNow = await readAll(p);
    await onPostgres.stop();
    const backDir = await mkdtemp(path.join(tmpdir(), "lgts-back-"));
    cleanups.push(() => rm(backDir, { recursive: true, force: true }));
    await rm(backDir, { recursive: true });
    expect(await lgts("migrate", "--database-uri", database.uri, "--to", backDir, "--config", CONFIG)).toMatch(/the move is verified/);
    const back = await server({ dataDir: backDir });
    // the embedded server's startup recovery takes the delayed run up again, touching its thread
    const recovered = (all: typeof onPostgresNow) => ({
      ...all,
      threads: all.threads.map((t) => (t.thread_id === delayed.thread_id ? { ...t, updated_at: "(recovered)" } : t)),
    });
    expect(recovered(await readAll(back.client))).toEqual(recovered(onPostgresNow));
  });
});
