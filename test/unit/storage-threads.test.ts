import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConflictError, NotFoundError } from "../../src/storage/errors.js";
import type { Storage, ThreadSortBy } from "../../src/storage/types.js";
import { openTempStorage } from "./storage-helpers.js";

const ownedBy = (owner: string) => ({ conditions: [{ key: "owner", op: "$eq" as const, value: owner }] });

let storage: Storage;
let done: () => Promise<void>;

beforeEach(async () => {
  ({ storage, done } = await openTempStorage({ shards: { assistants: 4, threads: 8 } }));
});
afterEach(async () => {
  vi.useRealTimers();
  await done();
});

const ids = (p: { items: { thread_id: string }[] }) => p.items.map((t) => t.thread_id);

describe("threads.create / get / patch / update / delete", () => {
  it("creates an idle thread with defaults", async () => {
    const t = await storage.threads.create();
    expect(t.thread_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(t).toMatchObject({ status: "idle", metadata: {}, values: null, interrupts: {}, error: null });
    expect(t.created_at).toBe(t.updated_at);
    expect(t.state_updated_at).toBe(t.created_at);
    expect(await storage.threads.get(t.thread_id)).toEqual(t);
  });

  it("a thread it returns cannot change the stored one (a copy, or the stored record frozen)", async () => {
    const metadata = { a: 1, nested: { b: [1] } };
    const { thread_id } = await storage.threads.create({ metadata });
    const reads = [
      () => storage.threads.create({ metadata }),
      () => storage.threads.get(thread_id),
      () => storage.threads.create({ thread_id, if_exists: "do_nothing" }),
      async () => (await storage.threads.search({})).items[0],
      () => storage.threads.update(thread_id, { status: "idle" }),
    ];
    for (const read of reads) {
      await storage.threads.update(thread_id, { status: "idle" }); // a new stored version each time
      const thread = await read();
      const attempts = [
        () => Object.assign(thread.metadata!, { a: 2 }),
        () => (thread.metadata!.nested as { b: number[] }).b.push(2),
        () => Object.assign(thread, { status: "busy" }),
      ];
      for (const attempt of attempts) {
        try {
          attempt();
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError); // frozen
        }
      }
      const stored = await storage.threads.get(thread.thread_id);
      expect(stored.metadata).toEqual({ a: 1, nested: { b: [1] } });
      expect(stored.status).toBe("idle");
    }
  });

  it("honours thread_id, metadata, ttl and if_exists", async () => {
    const id = "5a4ef3e0-0000-4000-8000-000000000001";
    const t = await storage.threads.create({ thread_id: id, metadata: { a: 1 }, ttl: { strategy: "delete", ttl: 5 } });
    expect(t).toMatchObject({ thread_id: id, metadata: { a: 1 }, ttl: { strategy: "delete", ttl: 5 } });
    await expect(storage.threads.create({ thread_id: id })).rejects.toBeInstanceOf(ConflictError);
    await expect(storage.threads.create({ thread_id: id, if_exists: "raise" })).rejects.toMatchObject({ kind: "conflict" });
    expect(await storage.threads.create({ thread_id: id, metadata: { b: 2 }, if_exists: "do_nothing" })).toEqual(t);
  });

  it("patch merges metadata and bumps updated_at only", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2024, 0, 1));
    const t = await storage.threads.create({ metadata: { a: 1, b: { c: 1 } } });
    vi.setSystemTime(Date.UTC(2024, 0, 2));
    const p = await storage.threads.patch(t.thread_id, { metadata: { b: { d: 2 }, e: 3 } });
    expect(p.metadata).toEqual({ a: 1, b: { d: 2 }, e: 3 }); // shallow merge, like jsonb ||
    expect(p.updated_at).toBe("2024-01-02T00:00:00.000Z");
    expect(p.created_at).toBe(t.created_at);
    expect(p.state_updated_at).toBe(t.state_updated_at);
    await expect(storage.threads.patch("missing", { metadata: {} })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("update replaces the given fields; values/interrupts bump state_updated_at", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2024, 0, 1));
    const t = await storage.threads.create({ metadata: { keep: 1 } });
    vi.setSystemTime(Date.UTC(2024, 0, 2));
    const busy = await storage.threads.update(t.thread_id, { status: "busy" });
    expect(busy).toMatchObject({ status: "busy", updated_at: "2024-01-02T00:00:00.000Z" });
    expect(busy.state_updated_at).toBe(t.state_updated_at);
    vi.setSystemTime(Date.UTC(2024, 0, 3));
    const interrupted = await storage.threads.update(t.thread_id, {
      status: "interrupted",
      values: { messages: ["hi"] },
      interrupts: { task1: [{ value: "approve?", id: "i1" }] },
    });
    expect(interrupted).toMatchObject({
      status: "interrupted",
      values: { messages: ["hi"] },
      interrupts: { task1: [{ value: "approve?", id: "i1" }] },
      metadata: { keep: 1 },
      state_updated_at: "2024-01-03T00:00:00.000Z",
    });
    const failed = await storage.threads.update(t.thread_id, { status: "error", error: "boom", interrupts: {} });
    expect(failed).toMatchObject({ status: "error", error: "boom", interrupts: {}, values: { messages: ["hi"] } });
    // fields outside the updatable set are ignored even if a caller sneaks them in
    const sneaky = await storage.threads.update(t.thread_id, { thread_id: "other", created_at: "x" } as never);
    expect(sneaky).toMatchObject({ thread_id: t.thread_id, created_at: t.created_at });
    await expect(storage.threads.update("missing", { status: "idle" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("delete removes the thread", async () => {
    const t = await storage.threads.create();
    await storage.threads.delete(t.thread_id);
    await expect(storage.threads.get(t.thread_id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.threads.delete(t.thread_id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await storage.threads.count()).toBe(0);
  });
});

describe("threads.search / count", () => {
  const T = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    let t = Date.UTC(2024, 0, 1);
    const tick = () => vi.setSystemTime(t++);
    tick();
    await storage.threads.create({ thread_id: T(1), metadata: { user: "u1", kind: { a: 1 } } });
    tick();
    await storage.threads.create({ thread_id: T(2), metadata: { user: "u2" } });
    tick();
    await storage.threads.create({ thread_id: T(3), metadata: { user: "u1" } });
    tick();
    await storage.threads.create({ thread_id: T(4), metadata: {} });
    tick();
    await storage.threads.update(T(2), { status: "busy", values: { topic: "x", n: [1, 2] } });
    tick();
    await storage.threads.update(T(1), { status: "interrupted", values: { topic: "y" } });
    tick();
    await storage.threads.patch(T(3), { metadata: { touched: true } });
  });

  it("defaults to created_at desc", async () => {
    const page = await storage.threads.search();
    expect(ids(page)).toEqual([T(4), T(3), T(2), T(1)]);
    expect(page.total).toBe(4);
  });

  it("filters by ids, metadata, values, status (ANDed)", async () => {
    expect(ids(await storage.threads.search({ filter: { ids: [T(1), T(3), "nope", T(1)] } }))).toEqual([T(3), T(1)]);
    expect(ids(await storage.threads.search({ filter: { ids: [] } }))).toHaveLength(4);
    expect(ids(await storage.threads.search({ filter: { metadata: { user: "u1" } } }))).toEqual([T(3), T(1)]);
    expect(ids(await storage.threads.search({ filter: { metadata: { kind: { a: 1 } } } }))).toEqual([T(1)]);
    expect(ids(await storage.threads.search({ filter: { values: { topic: "x" } } }))).toEqual([T(2)]);
    expect(ids(await storage.threads.search({ filter: { values: { n: [2] } } }))).toEqual([T(2)]);
    expect(ids(await storage.threads.search({ filter: { values: {} } }))).toEqual([T(2), T(1)]);
    expect(ids(await storage.threads.search({ filter: { status: "idle" } }))).toEqual([T(4), T(3)]);
    expect(ids(await storage.threads.search({ filter: { status: "busy", metadata: { user: "u1" } } }))).toEqual([]);
    expect(ids(await storage.threads.search({ filter: { ids: [T(1), T(2)], status: "interrupted", metadata: { user: "u1" } } }))).toEqual([T(1)]);
    expect(await storage.threads.count({ status: "idle" })).toBe(2);
    expect(await storage.threads.count({ metadata: { user: "u1" }, values: { topic: "y" } })).toBe(1);
    expect(await storage.threads.count()).toBe(4);
  });

  it("sorts by every supported field in both orders", async () => {
    const by = async (sortBy: ThreadSortBy, sortOrder: "asc" | "desc") => ids(await storage.threads.search({ sortBy, sortOrder }));
    expect(await by("thread_id", "asc")).toEqual([T(1), T(2), T(3), T(4)]);
    expect(await by("thread_id", "desc")).toEqual([T(4), T(3), T(2), T(1)]);
    expect(await by("status", "asc")).toEqual([T(2), T(3), T(4), T(1)]); // busy, idle, idle, interrupted
    expect(await by("created_at", "asc")).toEqual([T(1), T(2), T(3), T(4)]);
    expect(await by("updated_at", "desc")).toEqual([T(3), T(1), T(2), T(4)]);
    expect(await by("state_updated_at", "desc")).toEqual([T(1), T(2), T(4), T(3)]);
  });

  it("paginates, total covers the whole filter", async () => {
    const pages = [];
    for (let offset = 0; offset < 5; offset += 2) {
      pages.push(await storage.threads.search({ sortBy: "thread_id", sortOrder: "asc", limit: 2, offset }));
    }
    expect(pages.map(ids)).toEqual([[T(1), T(2)], [T(3), T(4)], []]);
    expect(pages.map((p) => p.total)).toEqual([4, 4, 4]);
    expect((await storage.threads.search({ limit: 0 })).items).toEqual([]);
  });
});

describe("threads.expiring (the TTL sweeper's list)", () => {
  it("lists every thread with a TTL and when it expires, counted from its last update", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const day1 = Date.UTC(2024, 0, 1);
    const day2 = Date.UTC(2024, 0, 2);
    vi.setSystemTime(day1);
    const kept = await storage.threads.create({ ttl: { strategy: "keep_latest", ttl: 5 } });
    const plain = await storage.threads.create({ ttl: { ttl: 1 } });
    const none = await storage.threads.create();
    const byId = (list: Awaited<ReturnType<Storage["threads"]["expiring"]>>) => [...list].sort((a, b) => a.thread_id.localeCompare(b.thread_id));
    expect(byId(await storage.threads.expiring())).toEqual(
      byId([
        { thread_id: kept.thread_id, expires_at: day1 + 5 * 60_000, strategy: "keep_latest" },
        { thread_id: plain.thread_id, expires_at: day1 + 60_000, strategy: "delete" },
      ]),
    );
    vi.setSystemTime(day2);
    await storage.threads.patch(none.thread_id, { ttl: { strategy: "delete", ttl: 2 } });
    await storage.threads.patch(kept.thread_id, { metadata: { touched: true } }); // keeps its ttl, moves its expiry
    expect((await storage.threads.get(none.thread_id)).metadata).toEqual({});
    expect(byId(await storage.threads.expiring())).toEqual(
      byId([
        { thread_id: kept.thread_id, expires_at: day2 + 5 * 60_000, strategy: "keep_latest" },
        { thread_id: plain.thread_id, expires_at: day1 + 60_000, strategy: "delete" },
        { thread_id: none.thread_id, expires_at: day2 + 2 * 60_000, strategy: "delete" },
      ]),
    );
  });
});

describe("threads.copy and thread hooks", () => {
  it("copies metadata, values, interrupts and status into a new thread", async () => {
    const src = await storage.threads.create({ metadata: { m: 1, owner: "alice" } }, ownedBy("alice"));
    await storage.threads.update(src.thread_id, {
      status: "interrupted",
      values: { v: [1] },
      interrupts: { t: [{ value: 1 }] },
    });
    const copy = await storage.threads.copy(src.thread_id, ownedBy("alice"));
    expect(copy.thread_id).not.toBe(src.thread_id);
    expect(copy).toMatchObject({
      metadata: { m: 1, owner: "alice" },
      values: { v: [1] },
      interrupts: { t: [{ value: 1 }] },
      status: "interrupted",
    });
    expect(await storage.threads.get(copy.thread_id)).toEqual(copy);
    // independent records
    await storage.threads.patch(copy.thread_id, { metadata: { m: 2 } });
    expect((await storage.threads.get(src.thread_id)).metadata).toEqual({ m: 1, owner: "alice" });
    await expect(storage.threads.copy(src.thread_id, ownedBy("bob"))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("gives the copy the metadata it is handed (what the copy's authorization left), the source keeps its own", async () => {
    const src = await storage.threads.create({ metadata: { m: 1 } });
    const copy = await storage.threads.copy(src.thread_id, undefined, { m: 1, owner: "carol" });
    expect(copy.metadata).toEqual({ m: 1, owner: "carol" });
    expect((await storage.threads.get(copy.thread_id)).metadata).toEqual({ m: 1, owner: "carol" });
    expect((await storage.threads.get(src.thread_id)).metadata).toEqual({ m: 1 });
  });

  it("a busy thread's copy is idle (no run is attached to it)", async () => {
    const src = await storage.threads.create();
    await storage.threads.update(src.thread_id, { status: "busy" });
    expect((await storage.threads.copy(src.thread_id)).status).toBe("idle");
  });

  it("runs copy/delete hooks; a failing copy hook removes the copy", async () => {
    const calls: string[] = [];
    const remove = storage.addThreadHooks({
      copy: async (from, to) => {
        calls.push(`copy ${from}->${to}`);
        // the copy is already durable and visible when the hook runs
        await storage.threads.get(to);
      },
      delete: async (id) => {
        calls.push(`delete ${id}`);
      },
    });
    const src = await storage.threads.create({ thread_id: "00000000-0000-4000-8000-00000000000a" });
    const copy = await storage.threads.copy(src.thread_id);
    await storage.threads.delete(copy.thread_id);
    expect(calls).toEqual([`copy ${src.thread_id}->${copy.thread_id}`, `delete ${copy.thread_id}`]);

    remove();
    storage.addThreadHooks({
      copy: async () => {
        throw new Error("checkpoint copy failed");
      },
    });
    await expect(storage.threads.copy(src.thread_id)).rejects.toThrow("checkpoint copy failed");
    expect(ids(await storage.threads.search())).toEqual([src.thread_id]);
    expect(calls).toHaveLength(2);
  });

  it("skips the hooks a registration leaves out", async () => {
    const calls: string[] = [];
    storage.addThreadHooks({ delete: async (id) => void calls.push(`delete ${id}`) });
    storage.addThreadHooks({ copy: async (from) => void calls.push(`copy ${from}`) });
    const src = await storage.threads.create();
    const copy = await storage.threads.copy(src.thread_id);
    await storage.threads.delete(copy.thread_id);
    expect(calls).toEqual([`copy ${src.thread_id}`, `delete ${copy.thread_id}`]);
    await expect(storage.threads.get(copy.thread_id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("threads scope", () => {
  it("hides the threads a scope does not match from every operation", async () => {
    const alice = ownedBy("alice");
    const bob = ownedBy("bob");
    const a = await storage.threads.create({ metadata: { x: 1, owner: "alice" } }, alice);
    const b = await storage.threads.create({ metadata: { x: 1, owner: "bob" } }, bob);
    await storage.threads.create({ metadata: { x: 1 } });

    for (const op of [
      () => storage.threads.get(a.thread_id, bob),
      () => storage.threads.patch(a.thread_id, { metadata: {} }, bob),
      () => storage.threads.update(a.thread_id, { status: "busy" }, bob),
      () => storage.threads.delete(a.thread_id, bob),
      () => storage.threads.copy(a.thread_id, bob),
    ]) {
      await expect(op()).rejects.toBeInstanceOf(NotFoundError);
    }
    await expect(storage.threads.create({ thread_id: a.thread_id, if_exists: "do_nothing" }, bob)).rejects.toBeInstanceOf(ConflictError);

    expect(ids(await storage.threads.search({ filter: { metadata: { x: 1 } } }, bob))).toEqual([b.thread_id]);
    expect(ids(await storage.threads.search({ filter: { ids: [a.thread_id, b.thread_id] } }, alice))).toEqual([a.thread_id]);
    expect(await storage.threads.count({}, alice)).toBe(1);
    expect(await storage.threads.count({ status: "idle" }, alice)).toBe(1);
    expect(await storage.threads.count()).toBe(3);
    expect((await storage.threads.get(a.thread_id, alice)).thread_id).toBe(a.thread_id);
    expect((await storage.threads.get(a.thread_id)).thread_id).toBe(a.thread_id); // unscoped sees all
  });

  it("pages and totals see only the matching threads; $eq and $contains conditions", async () => {
    for (let i = 0; i < 5; i++) await storage.threads.create({ metadata: { owner: "alice", tags: ["a", `n${i}`] } });
    for (let i = 0; i < 7; i++) await storage.threads.create({ metadata: { owner: "bob", tags: ["b"] } });
    await storage.threads.create({ metadata: { owner: ["alice"] } }); // an array is not equal to "alice"
    const page = await storage.threads.search({ limit: 2, offset: 4 }, ownedBy("alice"));
    expect([page.items.length, page.total]).toEqual([1, 5]);
    const tagged = (values: string[]) => ({ conditions: [{ key: "tags", op: "$contains" as const, values }] });
    expect(await storage.threads.count({}, tagged(["a"]))).toBe(5);
    expect(await storage.threads.count({}, tagged(["a", "n3"]))).toBe(1);
    expect(await storage.threads.count({}, tagged(["a", "b"]))).toBe(0);
    expect(await storage.threads.count({}, { conditions: [] })).toBe(13);
    const both = { conditions: [...ownedBy("bob").conditions, ...tagged(["b"]).conditions] };
    expect(await storage.threads.count({}, both)).toBe(7);
  });
});

describe("threads: defaults and state timestamps", () => {
  it("sorts newest first by default whatever the ids, and a values-only or interrupts-only update moves state_updated_at", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    let at = Date.UTC(2024, 2, 1);
    const tick = () => vi.setSystemTime(at++);
    const created: string[] = [];
    for (const n of [9, 5, 1]) {
      tick();
      created.push((await storage.threads.create({ thread_id: `00000000-0000-4000-8000-00000000000${n}` })).thread_id);
    }
    expect(ids(await storage.threads.search())).toEqual([...created].reverse());
    expect(ids(await storage.threads.search({ sortOrder: "asc" }))).toEqual(created);

    const [first] = created as [string];
    tick();
    const interrupted = await storage.threads.update(first, { interrupts: { task: [{ value: "ask" }] } });
    expect(interrupted.state_updated_at).toBe(interrupted.updated_at);
    tick();
    const valued = await storage.threads.update(first, { values: { v: 1 } });
    expect(valued.state_updated_at).toBe(valued.updated_at);
    tick();
    const statusOnly = await storage.threads.update(first, { status: "idle", metadata: { m: 1 } });
    expect(statusOnly.state_updated_at).toBe(valued.state_updated_at);
    expect(statusOnly.updated_at).not.toBe(valued.updated_at);
  });
});
