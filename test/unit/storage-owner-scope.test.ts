/**
 * Owner scope (`{owner: {$eq: ...}}` on metadata, as an auth handler returns it) on every scoped
 * query of the runs and crons repositories (threads, assistants and store items have theirs in
 * their own files): a record owned by someone else behaves exactly like a missing one
 * (NotFoundError, absent from lists and counts), the owner sees it, and an unscoped call (the
 * server itself) sees everything.
 */
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/storage/errors.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import type { Storage } from "../../src/storage/types.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();
type Scope = { conditions: Array<{ key: string; op: "$eq"; value: string }> };
const ownedBy = (owner: string): Scope => ({ conditions: [{ key: "owner", op: "$eq", value: owner }] });
const alice = ownedBy("alice");
const bob = ownedBy("bob");
const owner = (scope: Scope | undefined) => (scope ? { owner: scope.conditions[0].value } : {});
const FUTURE = "2999-01-01T00:00:00.000Z";
const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;

async function expectMissing(call: () => Promise<unknown>, what: string): Promise<void> {
  await expect(call(), what).rejects.toBeInstanceOf(NotFoundError);
}

/** One thread with one run per owner (alice, bob) plus an unowned one. */
async function threadsWithRuns(storage: Storage) {
  const runOf = async (scope: Scope | undefined) => {
    const thread = await storage.threads.create({ metadata: owner(scope) });
    const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "enqueue" }, scope);
    return { thread, run };
  };
  return { a: await runOf(alice), b: await runOf(bob), none: await runOf(undefined) };
}

describe("owner scope: runs", () => {
  it("create refuses another owner's thread", async () => {
    const { storage } = await open();
    const { a } = await threadsWithRuns(storage);
    await expectMissing(
      () => storage.runs.create({ thread_id: a.thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "enqueue" }, bob),
      "create on alice's thread as bob",
    );
    expect(await storage.runs.active(a.thread.thread_id)).toHaveLength(1);
  });

  it("get, getInThread, list and delete hide other owners' runs", async () => {
    const { storage } = await open();
    const { a, b } = await threadsWithRuns(storage);
    const { thread_id } = a.thread;
    const runId = a.run.run_id;
    await expectMissing(() => storage.runs.get(runId, bob), "get");
    await expectMissing(() => storage.runs.getInThread(thread_id, runId, bob), "getInThread");
    await expectMissing(() => storage.runs.delete(runId, bob), "delete");
    expect(await storage.runs.list(thread_id, {}, bob)).toEqual({ items: [], total: 0 });
    expect(await storage.runs.list(thread_id, { status: "pending" }, bob)).toEqual({ items: [], total: 0 });

    expect((await storage.runs.get(runId, alice)).run_id).toBe(runId);
    expect((await storage.runs.getInThread(thread_id, runId, alice)).run_id).toBe(runId);
    expect((await storage.runs.list(thread_id, {}, alice)).items.map((r) => r.run_id)).toEqual([runId]);
    expect((await storage.runs.list(b.thread.thread_id, {}, bob)).items.map((r) => r.run_id)).toEqual([b.run.run_id]);
    expect((await storage.runs.get(runId)).run_id).toBe(runId);

    await storage.runs.delete(runId, alice);
    await expectMissing(() => storage.runs.get(runId), "deleted run");
  });

  it("withStatus returns only the scope owner's runs, and every run unscoped", async () => {
    const { storage } = await open();
    const { a, b, none } = await threadsWithRuns(storage);
    expect((await storage.runs.withStatus("pending", alice)).map((r) => r.run_id)).toEqual([a.run.run_id]);
    expect((await storage.runs.withStatus("pending", bob)).map((r) => r.run_id)).toEqual([b.run.run_id]);
    expect(await storage.runs.withStatus("pending", ownedBy("carol"))).toEqual([]);
    expect((await storage.runs.withStatus("pending")).map((r) => r.run_id)).toEqual([a.run.run_id, b.run.run_id, none.run.run_id]);
    await storage.runs.update(a.run.run_id, { status: "running" });
    expect(await storage.runs.withStatus("pending", alice)).toEqual([]);
    expect((await storage.runs.withStatus("running", alice)).map((r) => r.run_id)).toEqual([a.run.run_id]);
    expect(await storage.runs.withStatus("running", bob)).toEqual([]);
  });
});

describe("owner scope: crons", () => {
  async function cronsOf(storage: Storage) {
    const cronOf = (scope: Scope | undefined, metadata: Record<string, unknown>) =>
      storage.crons.create({
        assistant_id: "a",
        thread_id: null,
        schedule: "* * * * *",
        timezone: null,
        end_time: null,
        payload: {},
        next_run_date: FUTURE,
        on_run_completed: "delete",
        metadata: { ...metadata, ...owner(scope) },
      });
    return { a: await cronOf(alice, { k: 1 }), b: await cronOf(bob, { k: 1 }), none: await cronOf(undefined, { k: 1 }) };
  }

  it("get, update and delete treat another owner's cron as missing", async () => {
    const { storage } = await open();
    const { a } = await cronsOf(storage);
    await expectMissing(() => storage.crons.get(a.cron_id, bob), "get");
    await expectMissing(() => storage.crons.update(a.cron_id, { enabled: false }, bob), "update");
    await expectMissing(() => storage.crons.delete(a.cron_id, bob), "delete");
    const unchanged = await storage.crons.get(a.cron_id, alice);
    expect(unchanged.enabled).toBe(true);

    expect((await storage.crons.update(a.cron_id, { enabled: false }, alice)).enabled).toBe(false);
    await storage.crons.delete(a.cron_id, alice);
    await expectMissing(() => storage.crons.get(a.cron_id), "deleted cron");
  });

  it("search and count see only the scope owner's crons, with or without filters", async () => {
    const { storage } = await open();
    const { a, b } = await cronsOf(storage);
    const ids = (page: { items: Array<{ cron_id: string }> }) => page.items.map((c) => c.cron_id);
    expect(ids(await storage.crons.search({}, alice))).toEqual([a.cron_id]);
    expect(ids(await storage.crons.search({ filter: { metadata: { k: 1 } } }, bob))).toEqual([b.cron_id]);
    expect(ids(await storage.crons.search({ filter: { assistant_id: "a", enabled: true } }, alice))).toEqual([a.cron_id]);
    expect((await storage.crons.search({}, ownedBy("carol"))).total).toBe(0);
    expect(await storage.crons.count({}, alice)).toBe(1);
    expect(await storage.crons.count({ assistant_id: "a" }, bob)).toBe(1);
    expect(await storage.crons.count({ enabled: true }, ownedBy("carol"))).toBe(0);
    expect(await storage.crons.count()).toBe(3);
    expect((await storage.crons.search()).total).toBe(3);
  });
});
