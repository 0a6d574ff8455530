/**
 * Commits per run on PostgreSQL: with synchronous_commit each commit waits for a WAL flush (a
 * disk sync), so what a run writes shares commits where durability allows. Rows written by one
 * transaction share their `xmin`, which is how these tests count commits.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultAssistantId, loadGraphRegistry } from "../../src/runtime/graphs/index.js";
import type { RunEvent, RunEventStream } from "../../src/runtime/runs/broker.js";
import { createRun } from "../../src/runtime/runs/create.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { ensureSystemAssistants } from "../../src/runtime/system-assistants.js";
import { WebhookPolicy } from "../../src/runtime/webhooks/policy.js";
import { NotFoundError, RunTakenOverError, ThreadBusyError } from "../../src/storage/errors.js";
import { Database, type Queryable } from "../../src/storage/postgres/database.js";
import { PostgresRunEventLog } from "../../src/storage/postgres/run-events.js";
import { PostgresRunLeases } from "../../src/storage/postgres/run-leases.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import type { Run } from "../../src/storage/records.js";
import type { CheckpointPut, RunEventRows } from "../../src/storage/types.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { startPostgresEngine } from "../support/postgres-engine.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";
import { pendingWrite } from "./storage-helpers.js";

let database: TestDatabase;
let storage: PostgresStorage;

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: 4 });
});
afterAll(async () => {
  await storage?.close();
  await database?.drop();
});

const checkpoint = (threadId: string, n: number, metadata: Record<string, unknown> = {}): CheckpointPut => ({
  thread_id: threadId,
  checkpoint_ns: "",
  checkpoint_id: `c${n}`,
  parent_checkpoint_id: n > 0 ? `c${n - 1}` : null,
  checkpoint: { type: "json", data: JSON.stringify({ n }) },
  metadata: { step: n, ...metadata },
  created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
});

const write = (n: number) => [{ task_id: `t${n}`, idx: 0, channel: "value", value: { type: "json", data: String(n) }, task_path: "", run_id: "r" }];

async function transactionsOf(table: "checkpoints" | "checkpoint_writes", threadId: string): Promise<number> {
  const { rows } = await storage.db.query<{ n: number }>(`SELECT count(DISTINCT xmin::text)::int AS n FROM ${table} WHERE thread_id = $1`, [
    threadId,
  ]);
  return rows[0].n;
}

describe("a thread's checkpoint saves", () => {
  it("that queue up behind one on its way are committed together, each settling once committed", async () => {
    const thread = (await storage.threads.create()).thread_id;
    // a run saving 8 steps without waiting for each (durability "async")
    const saves: Array<Promise<void>> = [];
    for (let n = 0; n < 8; n++) {
      saves.push(storage.checkpoints.put(checkpoint(thread, n)));
      saves.push(storage.checkpoints.putWrites({ thread_id: thread, checkpoint_ns: "", checkpoint_id: `c${n}` }, write(n)));
    }
    await Promise.all(saves);
    // the first went alone, the 15 queued behind it in one transaction (one WAL flush instead of 15)
    const { rows } = await storage.db.query<{ n: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM (SELECT xmin FROM checkpoints WHERE thread_id = $1
        UNION ALL SELECT xmin FROM checkpoint_writes WHERE thread_id = $1) AS w`,
      [thread],
    );
    expect(rows[0].n).toBe(2);
    const stored = await storage.checkpoints.list({ thread_id: thread });
    expect(stored.map((c) => c.checkpoint_id)).toEqual(["c7", "c6", "c5", "c4", "c3", "c2", "c1", "c0"]);
    expect(stored[0].writes.map((w) => w.value.data)).toEqual(["7"]);
  });

  it("leave what successive saves would when one statement carries several saves of one checkpoint", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const key = { thread_id: thread, checkpoint_ns: "", checkpoint_id: "c1" };
    const slot = pendingWrite;
    const statements: string[] = [];
    storage.db.onQuery = (text) => statements.push(text);
    try {
      await Promise.all([
        storage.checkpoints.put(checkpoint(thread, 0)),
        // queued behind the first: one statement
        storage.checkpoints.put(checkpoint(thread, 1, { version: "first" })),
        storage.checkpoints.putWrites(key, [slot("a", 0, "1"), slot("b", -1, "1")]),
        storage.checkpoints.putWrites(key, [slot("c", 0, "1"), slot("a", 0, "2"), slot("b", -1, "2")]),
        storage.checkpoints.put(checkpoint(thread, 1, { version: "second" })),
      ]);
    } finally {
      storage.db.onQuery = undefined;
    }
    expect(statements).toHaveLength(2);
    const saved = await storage.checkpoints.get(key);
    expect(saved?.metadata).toMatchObject({ version: "second" });
    // a regular slot keeps its first value, a special (negative) one its latest; each keeps its first place
    expect(saved?.writes.map((w) => [w.task_id, w.value.data])).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "1"],
    ]);
  });

  it("fail alone when the database refuses one of them", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const saves = [0, 1, 2, 3].map((n) =>
      // jsonb cannot hold \u0000: the database refuses that checkpoint
      storage.checkpoints.put(checkpoint(thread, n, n === 2 ? { bad: "a\u0000b" } : {})),
    );
    const settled = await Promise.allSettled(saves);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const stored = await storage.checkpoints.list({ thread_id: thread });
    expect(stored.map((c) => c.checkpoint_id)).toEqual(["c3", "c1", "c0"]);
    expect(await transactionsOf("checkpoints", thread)).toBe(3);
  });
});

describe("durability deferred to the run's end (SaveOptions.deferred, RunEventRows.deferDurability)", () => {
  /** The statements sent while `work` runs. */
  async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
    const statements: string[] = [];
    storage.db.onQuery = (text) => statements.push(text);
    try {
      await work();
    } finally {
      storage.db.onQuery = undefined;
    }
    return statements;
  }

  it("commits deferred saves (and a temporary thread) without waiting for the WAL flush, and a group holding a save that must be durable with it", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const deferred = { deferred: true };
    const key = (n: number) => ({ thread_id: thread, checkpoint_ns: "", checkpoint_id: `c${n}` });
    /** For each statement `work` sent: whether its commit waited for the WAL flush. */
    const commitsOf = async (work: () => Promise<unknown>) =>
      (await statementsOf(work)).map((text) => (text.includes("set_config('synchronous_commit', 'off', true)") ? "deferred" : "durable"));
    const transactions = vi.spyOn(storage.db, "transaction");
    try {
      expect(await commitsOf(() => storage.checkpoints.put(checkpoint(thread, 0), deferred))).toEqual(["deferred"]);
      // the saves of one turn (a step's checkpoint and its writes) go together, in one statement
      const group = () =>
        Promise.all([
          storage.checkpoints.put(checkpoint(thread, 1), deferred),
          storage.checkpoints.putWrites(key(1), write(1), deferred),
          storage.checkpoints.put(checkpoint(thread, 2), deferred),
        ]);
      expect(await commitsOf(group)).toEqual(["deferred"]);
      const mixed = () =>
        Promise.all([
          storage.checkpoints.put(checkpoint(thread, 3), deferred),
          storage.checkpoints.putWrites(key(3), write(3)),
          storage.checkpoints.put(checkpoint(thread, 4), deferred),
        ]);
      expect(await commitsOf(mixed)).toEqual(["durable"]);
      expect(transactions).not.toHaveBeenCalled();
      // a stateless run's temporary thread: its run's creation, durable, carries it
      transactions.mockClear();
      await storage.threads.create({}, undefined, deferred);
      expect(transactions.mock.calls.map(([, options]) => options?.deferDurability)).toEqual([true]);
      transactions.mockClear();
      await storage.threads.create(); // one statement, its commit waits
      expect(transactions).not.toHaveBeenCalled();
    } finally {
      transactions.mockRestore();
    }
    expect((await storage.checkpoints.list({ thread_id: thread })).map((c) => c.checkpoint_id)).toEqual(["c4", "c3", "c2", "c1", "c0"]);
    // what a deferred transaction is, on a database whose commits wait for the flush (the test
    // server's do not): its commit does not wait; the next one's on that connection does again
    const waiting = new Database(`${database.uri}?options=${encodeURIComponent("-c synchronous_commit=on")}`, { poolMax: 1 });
    try {
      const setting = (tx: Queryable) =>
        tx.query<{ synchronous_commit: string }>("SHOW synchronous_commit").then(({ rows }) => rows[0].synchronous_commit);
      expect(await waiting.transaction(setting, { deferDurability: true })).toBe("off");
      expect(await waiting.transaction(setting)).toBe("on");
    } finally {
      await waiting.close();
    }
  });

  it("commits a deferring run's events without waiting, and never a batch holding its end", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const row = (seq: number, mode = "values") => ({ seq, mode, ns: "[]", data: "{}", checkpoint_id: null });
    const batch = (rows: RunEventRows["rows"], deferDurability: boolean): RunEventRows => ({
      threadId: thread,
      resumable: false,
      expiresSeconds: 30,
      rows,
      deferDurability,
    });
    const relaxed = (statements: string[]) => statements.some((t) => t.includes("set_config('synchronous_commit', 'off', true)"));
    const runId = crypto.randomUUID();
    expect(relaxed(await statementsOf(() => new PostgresRunEventLog(storage.db).insert(runId, batch([row(1)], true))))).toBe(true);
    expect(relaxed(await statementsOf(() => new PostgresRunEventLog(storage.db).insert(runId, batch([row(2)], false))))).toBe(false);
    expect(relaxed(await statementsOf(() => new PostgresRunEventLog(storage.db).insert(runId, batch([row(3), row(4, "__end__")], true))))).toBe(
      false,
    );
    const { rows } = await storage.db.query<{ seq: number }>("SELECT seq FROM run_events WHERE run_id = $1 ORDER BY seq", [runId]);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe("a run's end with the thread's state (RunEnd.thread)", () => {
  const leases = () => new PostgresRunLeases(storage.db);
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;

  async function claimedRun() {
    const thread = (await storage.threads.create()).thread_id;
    const { run } = await storage.runs.create({ thread_id: thread, assistant_id: "a", kwargs, multitask_strategy: "enqueue" });
    // (another test leaves a pending run claimable)
    const claimed = (await leases().claim("worker-1", 60_000, 10)).runs.find((r) => r.run_id === run.run_id);
    expect(claimed).toBeDefined();
    return claimed!;
  }

  const endEvents = (threadId: string, attempt: number): RunEventRows => ({
    threadId,
    resumable: false,
    expiresSeconds: 30,
    attempt,
    rows: [{ seq: 1, mode: "__end__", ns: "[]", data: JSON.stringify({ status: "success" }), checkpoint_id: null }],
  });

  const xminOf = async (sql: string, id: string) => (await storage.db.query<{ x: string }>(`SELECT xmin::text AS x FROM ${sql}`, [id])).rows[0]?.x;

  /** The run's end as a succeeded run stores it, with its end event and the thread's state after it (value 4). */
  const endSucceeded = (run: Run) =>
    storage.runs.end(run.run_id, {
      update: { status: "success" },
      run,
      events: endEvents(run.thread_id, run.attempt),
      thread: { status: "idle", values: { value: 4 }, interrupts: {}, error: null },
    });

  it("stores the thread's state in the commit of the run's end and its end event", async () => {
    const run = await claimedRun();
    await endSucceeded(run);
    const thread = await storage.threads.get(run.thread_id);
    expect(thread.status).toBe("idle");
    expect(thread.values).toEqual({ value: 4 });
    const runXmin = await xminOf("runs WHERE run_id = $1", run.run_id);
    expect(await xminOf("threads WHERE thread_id = $1", run.thread_id)).toBe(runXmin);
    expect(await xminOf("run_events WHERE run_id = $1", run.run_id)).toBe(runXmin);
  });

  it("keeps the thread busy while another of its runs is active", async () => {
    const run = await claimedRun();
    await storage.runs.create({ thread_id: run.thread_id, assistant_id: "a", kwargs, multitask_strategy: "enqueue" });
    await endSucceeded(run);
    const thread = await storage.threads.get(run.thread_id);
    expect(thread.status).toBe("busy");
    expect(thread.values).toEqual({ value: 4 });
  });

  it("leaves the thread alone for a run taken over", async () => {
    const run = await claimedRun();
    const before = await storage.threads.get(run.thread_id);
    await expect(
      storage.runs.end(run.run_id, {
        update: { status: "success" },
        run,
        events: endEvents(run.thread_id, run.attempt + 1),
        thread: { status: "idle", values: { value: 4 }, interrupts: {}, error: null },
      }),
    ).rejects.toBeInstanceOf(RunTakenOverError);
    expect(await storage.threads.get(run.thread_id)).toEqual(before);
  });
});

describe("a run's creation", () => {
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;

  it("is one commit: the run, leased, and its thread busy", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const statements: string[] = [];
    storage.db.onQuery = (text) => statements.push(text);
    try {
      await storage.runs.create({ thread_id: thread, assistant_id: "a", kwargs, multitask_strategy: "reject" });
    } finally {
      storage.db.onQuery = undefined;
    }
    expect(statements).toHaveLength(1);
  });

  it("sees a run created on its thread while it waited for the thread's lock", async () => {
    const thread = (await storage.threads.create()).thread_id;
    // another process's creation, holding the thread's row locked until it commits
    const other = new pg.Client({ connectionString: database.uri });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT 1 FROM threads WHERE thread_id = $1 FOR UPDATE", [thread]);
      await other.query(
        `INSERT INTO runs (run_id, thread_id, assistant_id, created_at, updated_at, status, metadata, kwargs, multitask_strategy, attempt)
         VALUES ('other-run', $1, 'a', now(), now(), 'pending', '{}', '{}', 'reject', 0)`,
        [thread],
      );
      await other.query("UPDATE threads SET status = 'busy' WHERE thread_id = $1", [thread]);
      const creating = storage.runs.create({ thread_id: thread, assistant_id: "a", kwargs, multitask_strategy: "reject" });
      const settled = creating.then(
        () => "created",
        (error: unknown) => error,
      );
      await new Promise((resolve) => setTimeout(resolve, 200)); // it waits for the lock
      await other.query("COMMIT");
      expect(await settled).toBeInstanceOf(ThreadBusyError);
    } finally {
      await other.end();
    }
    const { items } = await storage.runs.list(thread);
    expect(items.map((r) => r.run_id)).toEqual(["other-run"]);
  });
});

/** An engine of its own on the test database (one process), with `concurrency` slots. */
async function startEngine(concurrency: number) {
  // runs the other tests left active: this process would claim them
  await storage.db.query("UPDATE runs SET status = 'interrupted' WHERE status IN ('pending', 'running')");
  const graphs = await loadGraphRegistry(RUNS_CONFIG);
  await ensureSystemAssistants(storage, graphs);
  return { graphs, ...(await startPostgresEngine({ uri: database.uri, storage, graphs, concurrency, leaseMs: 60_000 })) };
}

describe("a run created in a process with a free slot (RunCreate.lease)", () => {
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;
  const lease = { owner: "worker-1", leaseMs: 60_000 };
  const row = async (runId: string) =>
    (
      await storage.db.query<{ status: string; attempt: number; lease_owner: string | null; leased: boolean; x: string }>(
        "SELECT status, attempt, lease_owner, lease_expires_at > now() AS leased, xmin::text AS x FROM runs WHERE run_id = $1",
        [runId],
      )
    ).rows[0];

  it("is stored running under attempt 1, leased to it, in its creation's commit", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const { run } = await storage.runs.create({ thread_id: thread, assistant_id: "a", kwargs, multitask_strategy: "reject", lease });
    expect(run).toMatchObject({ status: "running", attempt: 1 });
    const stored = await row(run.run_id);
    expect(stored).toMatchObject({ status: "running", attempt: 1, lease_owner: "worker-1", leased: true });
    const { rows } = await storage.db.query<{ x: string; status: string }>("SELECT xmin::text AS x, status FROM threads WHERE thread_id = $1", [
      thread,
    ]);
    expect(rows[0]).toEqual({ x: stored.x, status: "busy" });
    // opened by it: its first event, durable with it
    const events = await storage.db.query<{ x: string; seq: number; mode: string; data: string }>(
      "SELECT xmin::text AS x, seq, mode, data FROM run_events WHERE run_id = $1",
      [run.run_id],
    );
    expect(events.rows.map((e) => ({ ...e, data: JSON.parse(e.data) as unknown }))).toEqual([
      { x: stored.x, seq: 1, mode: "metadata", data: { run_id: run.run_id, attempt: 1 } },
    ]);
  });

  it("stores no first event for a run it does not lease, nor for a protocol run (its execution makes that one)", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const { run: pending } = await storage.runs.create({ thread_id: thread, assistant_id: "a", kwargs, multitask_strategy: "reject" });
    const other = (await storage.threads.create()).thread_id;
    const protocol = { ...kwargs, protocol: true };
    const { run: leased } = await storage.runs.create({ thread_id: other, assistant_id: "a", kwargs: protocol, multitask_strategy: "reject", lease });
    expect(leased.status).toBe("running");
    const { rowCount } = await storage.db.query("SELECT 1 FROM run_events WHERE run_id = ANY($1)", [[pending.run_id, leased.run_id]]);
    expect(rowCount).toBe(0);
  });

  it("is stored pending when it cannot start at once (another active run of its thread, after_seconds)", async () => {
    const thread = (await storage.threads.create()).thread_id;
    const first = await storage.runs.create({ thread_id: thread, assistant_id: "a", kwargs, multitask_strategy: "enqueue", lease });
    const second = await storage.runs.create({ thread_id: thread, assistant_id: "a", kwargs, multitask_strategy: "enqueue", lease });
    expect(first.run.status).toBe("running");
    expect(second.run).toMatchObject({ status: "pending", attempt: 0 });
    expect(await row(second.run.run_id)).toMatchObject({ status: "pending", attempt: 0, lease_owner: null });
    const later = new Date(Date.now() + 60_000).toISOString();
    const other = (await storage.threads.create()).thread_id;
    const delayed = await storage.runs.create({
      thread_id: other,
      assistant_id: "a",
      kwargs,
      multitask_strategy: "reject",
      not_before: later,
      lease,
    });
    expect(delayed.run.status).toBe("pending");
  });

  it("executes in the creating process without a claim, within its concurrency", async () => {
    const { engine, coordination } = await startEngine(1);
    const claims: string[] = [];
    storage.db.onQuery = (text) => {
      if (text.includes("WITH claimed AS")) claims.push(text);
    };
    try {
      const assistantId = defaultAssistantId("trivial");
      const trivial = parseRunRequest({ assistant_id: assistantId, input: { value: 1 } }, { stateless: false }).kwargs;
      const thread = (await storage.threads.create()).thread_id;
      const granted = engine.leaseAtCreation();
      expect(granted).not.toBeNull();
      // its one slot is promised: no second lease, and no claim takes it meanwhile
      expect(engine.leaseAtCreation()).toBeNull();
      const { run } = await storage.runs.create({
        thread_id: thread,
        assistant_id: assistantId,
        kwargs: trivial,
        multitask_strategy: "reject",
        lease: { owner: granted!.owner, leaseMs: granted!.leaseMs },
      });
      expect(run.status).toBe("running");
      const outcome = engine.outcome(run);
      engine.submit(run);
      expect(claims).toEqual([]);
      expect(await outcome).toMatchObject({ status: "success", values: { value: 4 } });
      expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 1 });
      // the slot is free again once the run ended; a released lease frees it too
      await eventually(async () => (engine.load.running === 0 ? true : undefined), 5_000, "the execution to end");
      const again = engine.leaseAtCreation();
      expect(again).not.toBeNull();
      again!.release();
      again!.release();
      expect(engine.leaseAtCreation()).not.toBeNull();
    } finally {
      storage.db.onQuery = undefined;
      await engine.shutdown(0);
      await coordination.close();
    }
  });
});

/** An engine of its own and what a request creating runs through it passes (createRun), seeing everything. */
async function startCreating() {
  const { graphs, engine, coordination } = await startEngine(2);
  const services = { storage, graphs, runs: engine, webhooks: new WebhookPolicy(null, {}, "dev"), langsmith: null };
  const everyone = { conditions: [] };
  return { engine, coordination, services, access: { thread: everyone, assistant: everyone, user: null } };
}

describe("a run created and awaited in one process (runs.wait)", () => {
  it("reads its thread and assistant once, none of its events, and announces itself in its creation's statement", async () => {
    const { engine, coordination, services, access } = await startCreating();
    const body = { assistant_id: "trivial", input: { value: 1 } };
    const statements: string[] = [];
    try {
      const thread = (await storage.threads.create()).thread_id;
      // a thread stream (any process's) learns of the run from its creation
      const opened: string[] = [];
      const unwatch = engine.broker.watchThread(thread, (runId) => opened.push(runId));
      let outcome: Promise<unknown> = Promise.resolve();
      const subscriptions = vi.spyOn(engine.broker, "subscribe");
      storage.db.onQuery = (text) => statements.push(text);
      const onScheduled = (scheduled: Run) => {
        outcome = engine.outcome(scheduled, undefined, undefined, true);
      };
      const run = await createRun(services, thread, body, access, { onScheduled, beforeDurable: true });
      expect(await outcome).toMatchObject({ status: "success", values: { value: 4 } });
      storage.db.onQuery = undefined;
      // the waiter asks for the end alone: events written while it subscribes are not read for it
      expect(subscriptions.mock.calls.map(([, , options]) => options)).toEqual([{ endOnly: true, fromStart: true }]);
      subscriptions.mockRestore();
      await eventually(async () => (opened.length > 0 ? true : undefined), 5_000, "the run's announcement");
      unwatch();
      expect(opened).toEqual([run.run_id]);

      // the thread is found by the run's creation: missing, it is created for `if_not_exists`, else not found
      const missing = crypto.randomUUID();
      await expect(createRun(services, missing, body, access)).rejects.toThrow(NotFoundError);
      const created = await createRun(services, missing, { ...body, if_not_exists: "create" }, access);
      expect(created.thread_id).toBe(missing);
      expect(await engine.outcome(created)).toMatchObject({ status: "success" });
    } finally {
      storage.db.onQuery = undefined;
      await engine.shutdown(0);
      await coordination.close();
    }
    const matching = (pattern: RegExp) => statements.filter((text) => pattern.test(text));
    // the request reads the assistant; the executor uses that record
    expect(matching(/FROM assistants/)).toHaveLength(1);
    // the run's creation finds the thread: no read of it before
    expect(matching(/^\s*SELECT\b[\s\S]*\bFROM threads\b/)).toEqual([]);
    // the waiter reads nothing: this process publishes the run and hands it the end
    expect(matching(/FROM run_events WHERE run_id = \$1 AND seq > \$2/)).toEqual([]);
    expect(matching(/AS ended_held/)).toEqual([]);
    // the announcement rides on the creation
    expect(matching(/lgts_run_opened/)).toHaveLength(1);
    expect(matching(/lgts_run_opened/)[0]).toContain("INSERT INTO runs");
  });
});

describe("a run created and streamed in one process (runs.stream)", () => {
  it("streams its first event from its creation, and reads and writes no events on their own", async () => {
    const { engine, coordination, services, access } = await startCreating();
    const statements: string[] = [];
    const received: RunEvent[] = [];
    try {
      const thread = (await storage.threads.create()).thread_id;
      let stream: Promise<RunEventStream | null> = Promise.resolve(null);
      storage.db.onQuery = (text) => statements.push(text);
      // as a stream of the run it creates subscribes (app/run-streams.ts)
      const onScheduled = (scheduled: Run) => {
        stream = engine.events(scheduled.run_id, { lastEventId: "-1", fromStart: true });
      };
      const body = { assistant_id: "trivial", input: { value: 1 }, stream_mode: ["values" as const] };
      const run = await createRun(services, thread, body, access, { onScheduled, beforeDurable: false });
      const events = (await stream)!;
      for await (const event of events.events) received.push(event);
      expect(await events.outcome).toMatchObject({ status: "success" });
      storage.db.onQuery = undefined;
      // the metadata event is the one its creation stored, numbered 1; the graph's follow it
      expect(received[0]).toMatchObject({ id: "1", mode: "metadata", data: { run_id: run.run_id, attempt: 1 } });
      expect(received.map((e) => e.id)).toEqual(received.map((_, i) => String(i + 1)));
      expect(received.filter((e) => e.mode === "metadata")).toHaveLength(1);
      expect(received.at(-1)).toMatchObject({ mode: "values", data: { value: 4 } });
    } finally {
      storage.db.onQuery = undefined;
      await engine.shutdown(0);
      await coordination.close();
    }
    const matching = (pattern: RegExp) => statements.filter((text) => pattern.test(text));
    // the stream's subscriber reads neither the stream's state nor its rows: this process wrote them
    expect(matching(/AS ended_held/)).toEqual([]);
    expect(matching(/FROM run_events WHERE run_id = \$1 AND seq > \$2/)).toEqual([]);
    // the metadata went with the creation, the graph's events (all after its last step) with the end
    expect(
      matching(/INSERT INTO run_events/).map((text) =>
        text.includes("INSERT INTO runs") ? "creation" : text.includes("UPDATE runs") ? "end" : "events",
      ),
    ).toEqual(["creation", "end"]);
  });
});
