import { describe, expect, it, vi } from "vitest";
import { Collection } from "../../src/storage/lowdb/collection.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import type { PostgresStorage } from "../../src/storage/postgres/storage.js";
import type { Run, Scope } from "../../src/storage/types.js";
import { TestWorkers } from "../support/postgres-workers.js";
import { TEST_STORAGE, tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();

const base = (threadId: string) => ({
  thread_id: threadId,
  assistant_id: "a",
  kwargs: parseRunRequest({ assistant_id: "a", input: { x: 1 } }, { stateless: false }).kwargs,
  multitask_strategy: "reject" as const,
});

describe("runs repository", () => {
  it("creates pending runs with storage fields and lists them newest first", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const first = await storage.runs.create({ ...base(thread.thread_id), metadata: { n: 1 } });
    expect(first.inflight).toEqual([]);
    expect(first.run).toMatchObject({
      thread_id: thread.thread_id,
      status: "pending",
      attempt: 0,
      error: null,
      not_before: null,
      metadata: { n: 1 },
      kwargs: { input: { x: 1 } },
      multitask_strategy: "reject",
    });
    await storage.runs.update(first.run.run_id, { status: "success" });
    const second = await storage.runs.create({ ...base(thread.thread_id), multitask_strategy: "enqueue" });
    const page = await storage.runs.list(thread.thread_id);
    expect(page.total).toBe(2);
    expect(page.items.map((r) => r.run_id)).toEqual([second.run.run_id, first.run.run_id]);
    expect((await storage.runs.list(thread.thread_id, { status: "success" })).items.map((r) => r.run_id)).toEqual([first.run.run_id]);
    expect((await storage.runs.list(thread.thread_id, { limit: 1, offset: 1 })).items).toHaveLength(1);
  });

  it("marks the thread busy with the run, merging thread metadata; a rejected run changes nothing", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create({ metadata: { keep: 1 } });
    await storage.runs.create({ ...base(thread.thread_id), thread_metadata: { graph_id: "g" } });
    const busy = await storage.threads.get(thread.thread_id);
    expect(busy).toMatchObject({ status: "busy", metadata: { keep: 1, graph_id: "g" } });
    await expect(storage.runs.create({ ...base(thread.thread_id), thread_metadata: { graph_id: "other" } })).rejects.toMatchObject({
      kind: "conflict",
    });
    expect(await storage.threads.get(thread.thread_id)).toEqual(busy);
    await expect(storage.runs.create(base(crypto.randomUUID()))).rejects.toMatchObject({ kind: "not_found" });
  });

  it("rejects a second active run atomically: of many racing creates exactly one passes", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => storage.runs.create(base(thread.thread_id))));
    const passed = results.filter((r) => r.status === "fulfilled");
    expect(passed).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ kind: "conflict", name: "ThreadBusyError" });
    }
    expect((await storage.runs.active(thread.thread_id)).length).toBe(1);
  });

  it("reports the inflight runs to the interrupt/rollback/enqueue strategies, oldest first", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const a = await storage.runs.create(base(thread.thread_id));
    const b = await storage.runs.create({ ...base(thread.thread_id), multitask_strategy: "enqueue" });
    const c = await storage.runs.create({ ...base(thread.thread_id), multitask_strategy: "interrupt" });
    expect(c.inflight.map((r) => r.run_id)).toEqual([a.run.run_id, b.run.run_id]);
    expect((await storage.runs.active(thread.thread_id)).map((r) => r.run_id)).toEqual([a.run.run_id, b.run.run_id, c.run.run_id]);
  });

  it("scopes runs through their thread's metadata", async () => {
    const { storage } = await open();
    const alice = { conditions: [{ key: "owner", op: "$eq" as const, value: "alice" }] };
    const bob = { conditions: [{ key: "owner", op: "$eq" as const, value: "bob" }] };
    const t1 = await storage.threads.create({ metadata: { owner: "alice" } });
    const t2 = await storage.threads.create({ metadata: { owner: "alice" } });
    await expect(storage.runs.create(base(t1.thread_id), bob)).rejects.toMatchObject({ kind: "not_found" });
    const { run } = await storage.runs.create(base(t1.thread_id), alice);
    await expect(storage.runs.getInThread(t2.thread_id, run.run_id)).rejects.toMatchObject({ kind: "not_found" });
    await expect(storage.runs.get(run.run_id, bob)).rejects.toMatchObject({ kind: "not_found" });
    await expect(storage.runs.delete(run.run_id, bob)).rejects.toMatchObject({ kind: "not_found" });
    expect((await storage.runs.getInThread(t1.thread_id, run.run_id, alice)).run_id).toBe(run.run_id);
    expect((await storage.runs.list(t1.thread_id, {}, bob)).total).toBe(0);
    expect((await storage.runs.list(t1.thread_id, {}, alice)).total).toBe(1);
    expect(await storage.runs.withStatus("pending", bob)).toEqual([]);
    expect((await storage.runs.withStatus("pending", alice)).map((r) => r.run_id)).toEqual([run.run_id]);
  });

  it("finds runs by status, oldest first, and updates them", async () => {
    const { storage } = await open();
    const t = await storage.threads.create();
    const a = await storage.runs.create(base(t.thread_id));
    const b = await storage.runs.create({ ...base(t.thread_id), multitask_strategy: "enqueue" });
    await storage.runs.update(a.run.run_id, { status: "running", attempt: 1 });
    expect((await storage.runs.withStatus("pending")).map((r) => r.run_id)).toEqual([b.run.run_id]);
    expect(await storage.runs.withStatus("running")).toMatchObject([{ run_id: a.run.run_id, attempt: 1 }]);
    const failed = await storage.runs.update(a.run.run_id, { status: "error", error: { error: "Boom", message: "bad" } });
    expect(failed.error).toEqual({ error: "Boom", message: "bad" });
    await expect(storage.runs.update(crypto.randomUUID(), { status: "error" })).rejects.toMatchObject({ kind: "not_found" });
  });

  it("deletes a thread's runs with the thread and keeps runs across a reopen", async () => {
    const { storage, reopen } = await open();
    const keep = await storage.threads.create();
    const drop = await storage.threads.create();
    const kept = await storage.runs.create(base(keep.thread_id));
    const dropped = await storage.runs.create(base(drop.thread_id));
    await storage.threads.delete(drop.thread_id);
    await expect(storage.runs.get(dropped.run.run_id)).rejects.toMatchObject({ kind: "not_found" });
    await storage.close();

    const reopened = await reopen();
    try {
      expect((await reopened.runs.get(kept.run.run_id)).status).toBe("pending");
      expect(await reopened.runs.active(keep.thread_id)).toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });
  it("compare-and-set: updateIf changes a run only while it is in the given status", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const { run } = await storage.runs.create(base(thread.thread_id));
    // a claim and a cancel racing for the pending run: exactly one wins
    const [claimed, cancelled] = await Promise.all([
      storage.runs.updateIf(run.run_id, "pending", { status: "running" }),
      storage.runs.updateIf(run.run_id, "pending", { status: "interrupted" }),
    ]);
    expect([claimed, cancelled].filter((r) => r !== null)).toHaveLength(1);
    const winner = (claimed ?? cancelled)!;
    expect((await storage.runs.get(run.run_id)).status).toBe(winner.status);
    expect(await storage.runs.updateIf(run.run_id, "pending", { status: "error" })).toBeNull();
    expect((await storage.runs.get(run.run_id)).status).toBe(winner.status);
    expect(await storage.runs.updateIf(run.run_id, winner.status, { status: "success" })).toMatchObject({ status: "success" });
    await expect(storage.runs.updateIf(crypto.randomUUID(), "pending", { status: "running" })).rejects.toMatchObject({ kind: "not_found" });
  });

  it("compare-and-set with an attempt: updateIf changes a run only while it is under that attempt", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const { run } = await storage.runs.create(base(thread.thread_id));
    await storage.runs.update(run.run_id, { status: "running", attempt: 2 });
    // the execution of attempt 1 puts the run back to pending: another one holds it now
    expect(await storage.runs.updateIf(run.run_id, "running", { status: "pending" }, 1)).toBeNull();
    expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "running", attempt: 2 });
    expect(await storage.runs.updateIf(run.run_id, "running", { status: "pending" }, 2)).toMatchObject({ status: "pending", attempt: 2 });
  });

  it("refuses a run id that already exists", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const { run } = await storage.runs.create({ ...base(thread.thread_id), multitask_strategy: "enqueue" });
    await expect(storage.runs.create({ ...base(thread.thread_id), run_id: run.run_id, multitask_strategy: "enqueue" })).rejects.toMatchObject({
      kind: "conflict",
    });
    expect(await storage.runs.active(thread.thread_id)).toHaveLength(1);
  });

  it("lists runs by status oldest first, whatever order their statuses changed in, and after a reopen", async () => {
    const { storage, reopen } = await open();
    const created = [];
    for (let i = 0; i < 3; i++) {
      const thread = await storage.threads.create();
      created.push((await storage.runs.create(base(thread.thread_id))).run);
    }
    const [a, b, c] = created as [Run, Run, Run];
    // a leaves pending and comes back: still the oldest
    await storage.runs.update(a.run_id, { status: "running" });
    await storage.runs.update(a.run_id, { status: "pending" });
    await storage.runs.update(b.run_id, { status: "running" });
    await storage.runs.update(b.run_id, { status: "pending" });
    const oldestFirst = [a.run_id, b.run_id, c.run_id];
    expect((await storage.runs.withStatus("pending")).map((r) => r.run_id)).toEqual(oldestFirst);
    await storage.close();
    const reopened = await reopen();
    try {
      expect((await reopened.runs.withStatus("pending")).map((r) => r.run_id)).toEqual(oldestFirst);
    } finally {
      await reopened.close();
    }
  });

  it("names the active runs when it rejects a run on a busy thread, and the missing record when it has none", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const { run } = await storage.runs.create(base(thread.thread_id));
    await storage.runs.update(run.run_id, { status: "running" });
    await expect(storage.runs.create(base(thread.thread_id))).rejects.toThrow(
      `Thread '${thread.thread_id}' already has an active run: ${run.run_id} (running).`,
    );
    const missing = crypto.randomUUID();
    await expect(storage.runs.get(missing)).rejects.toThrow(`Run '${missing}' not found`);
    await expect(storage.runs.create(base(missing))).rejects.toThrow(`Thread '${missing}' not found`);
    await expect(storage.threads.get(missing)).rejects.toThrow(`Thread '${missing}' not found`);
    await expect(storage.runs.create({ ...base(thread.thread_id), run_id: run.run_id, multitask_strategy: "enqueue" })).rejects.toThrow(
      `Run '${run.run_id}' already exists`,
    );
  });

  it("breaks ties of runs created in the same millisecond by creation order, and counts a thread's deleted runs", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const empty = await storage.threads.create();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.UTC(2024, 0, 1));
      const made: Run[] = [];
      for (let i = 0; i < 3; i++) made.push((await storage.runs.create({ ...base(thread.thread_id), multitask_strategy: "enqueue" })).run);
      const order = made.map((r) => r.run_id);
      for (const run of made.slice(0, 2)) {
        await storage.runs.update(run.run_id, { status: "running" });
        await storage.runs.update(run.run_id, { status: "pending" });
      }
      expect((await storage.runs.withStatus("pending")).map((r) => r.run_id)).toEqual(order);
      expect((await storage.runs.active(thread.thread_id)).map((r) => r.run_id)).toEqual(order);
      expect((await storage.runs.list(thread.thread_id)).items.map((r) => r.run_id)).toEqual([...order].reverse());
    } finally {
      vi.useRealTimers();
    }
    expect(await storage.runs.deleteThread(empty.thread_id)).toBe(0);
    expect(await storage.runs.deleteThread(thread.thread_id)).toBe(3);
    expect(await storage.runs.active(thread.thread_id)).toEqual([]);
  });

  it.skipIf(TEST_STORAGE === "postgres")("finds a thread's active runs without walking its ended ones (embedded)", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    for (let i = 0; i < 50; i++) {
      const { run } = await storage.runs.create(base(thread.thread_id));
      await storage.runs.update(run.run_id, { status: "success" });
    }
    const { run: pending } = await storage.runs.create(base(thread.thread_id));
    const scanned = vi.spyOn(Collection.prototype, "candidates");
    try {
      expect((await storage.runs.active(thread.thread_id)).map((r) => r.run_id)).toEqual([pending.run_id]);
      const walked = scanned.mock.results.map((result) => [...(result.value as Iterable<unknown>)].length);
      expect(Math.max(...walked)).toBe(1);
    } finally {
      scanned.mockRestore();
    }
    await storage.runs.update(pending.run_id, { status: "running" });
    expect((await storage.runs.active(thread.thread_id)).map((r) => r.status)).toEqual(["running"]);
    await storage.runs.update(pending.run_id, { status: "error" });
    expect(await storage.runs.active(thread.thread_id)).toEqual([]);
  });

  it("lists the live processes, and the running runs with the process executing each, of live processes only, within the scope", async () => {
    const { storage, uri } = await open();
    const mine = await storage.threads.create({ metadata: { owner: "alice" } });
    const idle = await storage.threads.create({ metadata: { owner: "alice" } });
    await storage.runs.create({ ...base(idle.thread_id), not_before: new Date(Date.now() + 3_600_000).toISOString() });
    const ownedBy = (owner: string): Scope => ({ conditions: [{ key: "owner", op: "$eq", value: owner }] });
    if (TEST_STORAGE === "postgres") {
      // another process (its worker lock held by a session of its own) executes the run
      const { run } = await storage.runs.create({ ...base(mine.thread_id), lease: { owner: "host:1:w1", leaseMs: 60_000 } });
      expect(await storage.runs.executing()).toEqual([]); // w1's worker lock is not held: no live process executes it
      const workers = new TestWorkers(uri!, storage as PostgresStorage);
      try {
        expect(await storage.runs.processes()).toEqual([]);
        const w1 = await workers.start("host:1:w1");
        const w2 = await workers.start("host:2:w2"); // alive, executing nothing
        expect(await storage.runs.processes()).toEqual(["host:1:w1", "host:2:w2"]);
        expect(await storage.runs.executing()).toEqual([{ run: await storage.runs.get(run.run_id), owner: "host:1:w1" }]);
        expect(await storage.runs.executing(ownedBy("alice"))).toHaveLength(1);
        expect(await storage.runs.executing(ownedBy("bob"))).toEqual([]);
        await w1.die();
        expect(await storage.runs.executing()).toEqual([]);
        // a process that died is not listed, though its row is left until the next one starts
        expect(await storage.runs.processes()).toEqual(["host:2:w2"]);
        await w2.die();
        expect(await storage.runs.processes()).toEqual([]);
      } finally {
        await workers.closeAll();
      }
    } else {
      expect(await storage.runs.processes()).toEqual([]); // this process is the only one
      const { run } = await storage.runs.create(base(mine.thread_id));
      expect(await storage.runs.executing()).toEqual([]); // pending: nobody executes it yet
      const running = await storage.runs.update(run.run_id, { status: "running" });
      expect(await storage.runs.executing()).toEqual([{ run: running, owner: null }]);
      expect(await storage.runs.executing(ownedBy("alice"))).toHaveLength(1);
      expect(await storage.runs.executing(ownedBy("bob"))).toEqual([]);
    }
  });
});
