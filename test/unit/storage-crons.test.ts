/** The crons repository: create, update, filters, sorting, paging, the scheduler's view, thread deletion. */
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/storage/errors.js";
import type { Cron, CronCreate, Storage } from "../../src/storage/types.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();

const input = (overrides: Partial<CronCreate> = {}): CronCreate => ({
  assistant_id: "a",
  thread_id: null,
  schedule: "0 * * * *",
  timezone: null,
  end_time: null,
  payload: { input: { n: 1 } },
  next_run_date: "2999-01-01T00:00:00.000Z",
  on_run_completed: "delete",
  ...overrides,
});

const ids = (page: { items: Array<{ cron_id: string }> }) => page.items.map((c) => c.cron_id);

/** Resolves once the clock shows a later millisecond (creation order must show in created_at). */
async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  while (Date.now() === start) await new Promise((resolve) => setImmediate(resolve));
}

/** Four crons created in order: two on thread t1 (one disabled), one on assistant b, one tagged. */
async function seed(storage: Storage) {
  const inputs = [
    input({ thread_id: "t1", metadata: { tag: "x" } }),
    input({ thread_id: "t1", enabled: false, next_run_date: "2998-01-01T00:00:00.000Z" }),
    input({ assistant_id: "b", metadata: { tag: "x", more: 1 } }),
    input({ schedule: "30 * * * *", end_time: "2030-01-01T00:00:00.000Z" }),
  ];
  const crons = [];
  for (const cron of inputs) {
    await nextMillisecond();
    crons.push(await storage.crons.create(cron));
  }
  const [c1, c2, c3, c4] = crons as [Cron, Cron, Cron, Cron];
  return { c1, c2, c3, c4 };
}

describe("crons repository", () => {
  it("creates crons with every field stored and defaults filled in", async () => {
    const { storage } = await open();
    const cron = await storage.crons.create(input({ thread_id: "t1", timezone: "Europe/Paris", metadata: { m: 1 } }));
    expect(cron).toMatchObject({
      assistant_id: "a",
      thread_id: "t1",
      schedule: "0 * * * *",
      timezone: "Europe/Paris",
      end_time: null,
      payload: { input: { n: 1 } },
      next_run_date: "2999-01-01T00:00:00.000Z",
      on_run_completed: "delete",
      metadata: { m: 1 },
      enabled: true,
      user_id: null,
    });
    expect(cron.created_at).toBe(cron.updated_at);
    expect(await storage.crons.get(cron.cron_id)).toEqual(cron);
    const bare = await storage.crons.create(input());
    expect(bare).toMatchObject({ metadata: {}, enabled: true, thread_id: null, auth_user: null });
    expect(bare.cron_id).not.toBe(cron.cron_id);
  });

  it("keeps the user a cron was created by, to fire as that user", async () => {
    const { storage } = await open();
    const user = { identity: "ann", permissions: ["p"], display_name: "Ann", is_authenticated: true, org: "o" };
    const cron = await storage.crons.create(input({ auth_user: user }));
    expect(cron).toMatchObject({ user_id: "ann", auth_user: user });
    expect(await storage.crons.get(cron.cron_id)).toMatchObject({ user_id: "ann", auth_user: user });
    expect((await storage.crons.enabled()).find((c) => c.cron_id === cron.cron_id)?.auth_user).toEqual(user);
  });

  it("updates only the given fields and moves updated_at; returned records are copies", async () => {
    const { storage } = await open();
    const cron = await storage.crons.create(input({ metadata: { keep: 1 } }));
    const updated = await storage.crons.update(cron.cron_id, { schedule: "5 * * * *", enabled: false });
    expect(updated).toMatchObject({ schedule: "5 * * * *", enabled: false, metadata: { keep: 1 }, payload: { input: { n: 1 } } });
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(cron.updated_at));
    expect(updated.created_at).toBe(cron.created_at);
    updated.metadata!.keep = 2;
    expect((await storage.crons.get(cron.cron_id)).metadata).toEqual({ keep: 1 });
    await expect(storage.crons.update("missing", { enabled: true })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("deletes, then treats the cron as missing", async () => {
    const { storage } = await open();
    const cron = await storage.crons.create(input());
    await storage.crons.delete(cron.cron_id);
    await expect(storage.crons.get(cron.cron_id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.crons.delete(cron.cron_id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await storage.crons.count()).toBe(0);
  });

  it("filters by thread, assistant, enabled and metadata, alone and together", async () => {
    const { storage } = await open();
    const { c1, c2, c3, c4 } = await seed(storage);
    const asc = { sortBy: "created_at" as const, sortOrder: "asc" as const };
    expect(ids(await storage.crons.search({ ...asc, filter: { thread_id: "t1" } }))).toEqual([c1.cron_id, c2.cron_id]);
    expect(ids(await storage.crons.search({ ...asc, filter: { assistant_id: "b" } }))).toEqual([c3.cron_id]);
    expect(ids(await storage.crons.search({ ...asc, filter: { enabled: false } }))).toEqual([c2.cron_id]);
    expect(ids(await storage.crons.search({ ...asc, filter: { enabled: true } }))).toEqual([c1.cron_id, c3.cron_id, c4.cron_id]);
    expect(ids(await storage.crons.search({ ...asc, filter: { metadata: { tag: "x" } } }))).toEqual([c1.cron_id, c3.cron_id]);
    expect(ids(await storage.crons.search({ ...asc, filter: { metadata: { tag: "x", more: 1 } } }))).toEqual([c3.cron_id]);
    expect(ids(await storage.crons.search({ ...asc, filter: { thread_id: "t1", enabled: true } }))).toEqual([c1.cron_id]);
    expect(ids(await storage.crons.search({ ...asc, filter: { assistant_id: "a", metadata: { tag: "x" } } }))).toEqual([c1.cron_id]);
    expect((await storage.crons.search({ filter: { thread_id: "t2" } })).total).toBe(0);

    expect(await storage.crons.count()).toBe(4);
    expect(await storage.crons.count({ thread_id: "t1" })).toBe(2);
    expect(await storage.crons.count({ assistant_id: "a" })).toBe(3);
    expect(await storage.crons.count({ enabled: false })).toBe(1);
    expect(await storage.crons.count({ metadata: { tag: "x" } })).toBe(2);
    expect(await storage.crons.count({ thread_id: "t1", enabled: false })).toBe(1);
    expect(await storage.crons.count({ assistant_id: "b", thread_id: "t1" })).toBe(0);
  });

  it("sorts newest first by default, by any field either way, and pages with a total", async () => {
    const { storage } = await open();
    const { c1, c2, c3, c4 } = await seed(storage);
    expect(ids(await storage.crons.search())).toEqual([c4.cron_id, c3.cron_id, c2.cron_id, c1.cron_id]);
    expect(ids(await storage.crons.search({ sortBy: "created_at", sortOrder: "asc" }))).toEqual([c1.cron_id, c2.cron_id, c3.cron_id, c4.cron_id]);
    // next_run_date: c2 is the earliest, the others tie and fall back to the cron id
    const byNext = ids(await storage.crons.search({ sortBy: "next_run_date", sortOrder: "asc" }));
    expect(byNext[0]).toBe(c2.cron_id);
    expect(byNext.slice(1)).toEqual([c1.cron_id, c3.cron_id, c4.cron_id].sort());
    expect(ids(await storage.crons.search({ sortBy: "assistant_id", sortOrder: "desc", limit: 1 }))).toEqual([c3.cron_id]);

    const first = await storage.crons.search({ sortBy: "created_at", sortOrder: "asc", limit: 2 });
    const second = await storage.crons.search({ sortBy: "created_at", sortOrder: "asc", limit: 2, offset: 2 });
    const beyond = await storage.crons.search({ sortBy: "created_at", sortOrder: "asc", limit: 2, offset: 4 });
    expect([ids(first), ids(second), ids(beyond)]).toEqual([[c1.cron_id, c2.cron_id], [c3.cron_id, c4.cron_id], []]);
    expect([first.total, second.total, beyond.total]).toEqual([4, 4, 4]);
  });

  it("gives the scheduler every enabled cron, following enable/disable updates", async () => {
    const { storage } = await open();
    const { c1, c2, c3, c4 } = await seed(storage);
    const enabledIds = async () => (await storage.crons.enabled()).map((c) => c.cron_id).sort();
    expect(await enabledIds()).toEqual([c1.cron_id, c3.cron_id, c4.cron_id].sort());
    await storage.crons.update(c1.cron_id, { enabled: false });
    await storage.crons.update(c2.cron_id, { enabled: true });
    expect(await enabledIds()).toEqual([c2.cron_id, c3.cron_id, c4.cron_id].sort());
    expect((await storage.crons.enabled()).find((c) => c.cron_id === c4.cron_id)).toMatchObject({
      schedule: "30 * * * *",
      end_time: "2030-01-01T00:00:00.000Z",
    });
  });

  it("deletes the crons of a deleted thread and only those", async () => {
    const { storage } = await open();
    const { c3, c4 } = await seed(storage);
    expect(await storage.crons.deleteThread("t1")).toBe(2);
    expect(await storage.crons.deleteThread("t1")).toBe(0);
    expect(ids(await storage.crons.search({ sortBy: "created_at", sortOrder: "asc" }))).toEqual([c3.cron_id, c4.cron_id]);
  });
});
