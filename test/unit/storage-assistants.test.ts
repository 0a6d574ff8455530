import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConflictError, NotFoundError } from "../../src/storage/errors.js";
import type { Storage } from "../../src/storage/types.js";
import { openTempStorage } from "./storage-helpers.js";

let storage: Storage;
let done: () => Promise<void>;

beforeEach(async () => {
  ({ storage, done } = await openTempStorage({ shards: { assistants: 4, threads: 4 } }));
});
afterEach(async () => {
  vi.useRealTimers();
  await done();
});

describe("assistants.create", () => {
  it("creates version 1 with defaults", async () => {
    const a = await storage.assistants.create({ graph_id: "agent" });
    expect(a.assistant_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).toMatchObject({
      graph_id: "agent",
      name: "agent",
      description: null,
      config: {},
      context: {},
      metadata: {},
      version: 1,
    });
    expect(a.created_at).toBe(a.updated_at);
    expect(new Date(a.created_at).toISOString()).toBe(a.created_at);
    const versions = await storage.assistants.listVersions(a.assistant_id);
    expect(versions.total).toBe(1);
    expect(versions.items[0]).toMatchObject({ version: 1, graph_id: "agent", assistant_id: a.assistant_id });
  });

  it("if_exists raise -> ConflictError, do_nothing -> existing unchanged", async () => {
    const a = await storage.assistants.create({ assistant_id: "a1", graph_id: "g", name: "first" });
    await expect(storage.assistants.create({ assistant_id: "a1", graph_id: "g" })).rejects.toBeInstanceOf(ConflictError);
    await expect(storage.assistants.create({ assistant_id: "a1", graph_id: "g", if_exists: "raise" })).rejects.toMatchObject({ kind: "conflict" });
    const same = await storage.assistants.create({
      assistant_id: "a1",
      graph_id: "other",
      name: "second",
      if_exists: "do_nothing",
    });
    expect(same).toEqual(a);
    expect(await storage.assistants.count()).toBe(1);
  });

  it("does not keep references to the caller's objects, and returns copies", async () => {
    const metadata = { nested: { x: 1 } };
    const a = await storage.assistants.create({ assistant_id: "a1", graph_id: "g", metadata });
    metadata.nested.x = 2;
    a.metadata!.nested = "mutated";
    expect((await storage.assistants.get("a1")).metadata).toEqual({ nested: { x: 1 } });
  });
});

describe("assistants.patch / versions / setLatest", () => {
  it("each patch is a new current version built on the current one; metadata is merged", async () => {
    await storage.assistants.create({
      assistant_id: "a1",
      graph_id: "g",
      config: { tags: ["t"] },
      context: { model: "m1" },
      metadata: { owner: "x", keep: true },
      name: "n1",
      description: "d1",
    });
    const v2 = await storage.assistants.patch("a1", { metadata: { owner: "y", added: 1 } });
    expect(v2).toMatchObject({
      version: 2,
      graph_id: "g",
      config: { tags: ["t"] },
      context: { model: "m1" },
      metadata: { owner: "y", keep: true, added: 1 },
      name: "n1",
      description: "d1",
    });
    const v3 = await storage.assistants.patch("a1", { name: "n3", context: { model: "m3" }, description: null });
    expect(v3).toMatchObject({ version: 3, name: "n3", context: { model: "m3" }, description: null });
    expect(v3.metadata).toEqual({ owner: "y", keep: true, added: 1 });
    expect(v3.created_at).toBe(v2.created_at);
    expect((await storage.assistants.get("a1")).version).toBe(3);

    const versions = await storage.assistants.listVersions("a1");
    expect(versions.total).toBe(3);
    expect(versions.items.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(versions.items[2]).toMatchObject({ name: "n1", metadata: { owner: "x", keep: true } });
  });

  it("setLatest restores a version's content; the next patch is max+1", async () => {
    await storage.assistants.create({ assistant_id: "a1", graph_id: "g1", metadata: { v: 1 }, name: "one" });
    await storage.assistants.patch("a1", { graph_id: "g2", metadata: { v: 2 }, name: "two" });
    await storage.assistants.patch("a1", { metadata: { v: 3 }, name: "three" });
    const restored = await storage.assistants.setLatest("a1", 1);
    expect(restored).toMatchObject({ version: 1, graph_id: "g1", metadata: { v: 1 }, name: "one" });
    expect(await storage.assistants.get("a1")).toEqual(restored);
    // the graph_id index follows the current version
    expect((await storage.assistants.search({ filter: { graph_id: "g1" } })).total).toBe(1);
    expect((await storage.assistants.search({ filter: { graph_id: "g2" } })).total).toBe(0);

    const v4 = await storage.assistants.patch("a1", { name: "four" });
    expect(v4).toMatchObject({ version: 4, graph_id: "g1", metadata: { v: 1 }, name: "four" });
  });

  it("setLatest of a missing version or assistant -> NotFoundError", async () => {
    await storage.assistants.create({ assistant_id: "a1", graph_id: "g" });
    await expect(storage.assistants.setLatest("a1", 7)).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.assistants.setLatest("nope", 1)).rejects.toMatchObject({ kind: "not_found" });
    await expect(storage.assistants.patch("nope", {})).rejects.toBeInstanceOf(NotFoundError);
  });

  it("listVersions filters by metadata and paginates, newest first", async () => {
    await storage.assistants.create({ assistant_id: "a1", graph_id: "g", metadata: { k: "a" } });
    for (let i = 2; i <= 6; i++) {
      await storage.assistants.patch("a1", { metadata: { k: i % 2 ? "odd" : "even" } });
    }
    const even = await storage.assistants.listVersions("a1", { filter: { metadata: { k: "even" } } });
    expect(even.items.map((v) => v.version)).toEqual([6, 4, 2]);
    const page = await storage.assistants.listVersions("a1", { limit: 2, offset: 1 });
    expect(page.items.map((v) => v.version)).toEqual([5, 4]);
    expect(page.total).toBe(6);
    await expect(storage.assistants.listVersions("nope")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("delete removes the assistant and all its versions", async () => {
    await storage.assistants.create({ assistant_id: "a1", graph_id: "g" });
    await storage.assistants.patch("a1", { name: "x" });
    await storage.assistants.delete("a1");
    await expect(storage.assistants.get("a1")).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.assistants.listVersions("a1")).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.assistants.delete("a1")).rejects.toBeInstanceOf(NotFoundError);
    // the id can be reused and starts over at version 1
    expect((await storage.assistants.create({ assistant_id: "a1", graph_id: "g" })).version).toBe(1);
  });
});

describe("assistants.search / count", () => {
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const rows = [
      { id: "a-1", graph_id: "chat", name: "Support Bot", metadata: { team: "cs", tier: { level: 1 } } },
      { id: "a-2", graph_id: "chat", name: "sales bot", metadata: { team: "sales", tags: ["x", "y"] } },
      { id: "a-3", graph_id: "rag", name: "Researcher", metadata: { team: "cs", tier: { level: 2 } } },
      { id: "a-4", graph_id: "rag", name: "Robot", metadata: {} },
    ];
    let t = Date.UTC(2024, 0, 1);
    for (const r of rows) {
      vi.setSystemTime(t++);
      await storage.assistants.create({ assistant_id: r.id, graph_id: r.graph_id, name: r.name, metadata: r.metadata });
    }
    vi.setSystemTime(t++);
    await storage.assistants.patch("a-1", { description: "touched last" });
  });

  const ids = (p: { items: { assistant_id: string }[] }) => p.items.map((a) => a.assistant_id);

  it("defaults to created_at desc, limit 10", async () => {
    const page = await storage.assistants.search();
    expect(ids(page)).toEqual(["a-4", "a-3", "a-2", "a-1"]);
    expect(page.total).toBe(4);
  });

  it("filters: graph_id exact, name case-insensitive substring, metadata containment", async () => {
    expect(ids(await storage.assistants.search({ filter: { graph_id: "chat" } }))).toEqual(["a-2", "a-1"]);
    expect(ids(await storage.assistants.search({ filter: { graph_id: "cha" } }))).toEqual([]);
    expect(ids(await storage.assistants.search({ filter: { name: "BOT" } }))).toEqual(["a-4", "a-2", "a-1"]);
    expect(ids(await storage.assistants.search({ filter: { metadata: { team: "cs" } } }))).toEqual(["a-3", "a-1"]);
    expect(ids(await storage.assistants.search({ filter: { metadata: { tier: { level: 2 } } } }))).toEqual(["a-3"]);
    expect(ids(await storage.assistants.search({ filter: { metadata: { tags: ["y"] } } }))).toEqual(["a-2"]);
    expect(ids(await storage.assistants.search({ filter: { graph_id: "rag", name: "r", metadata: { team: "cs" } } }))).toEqual(["a-3"]);
    expect(await storage.assistants.count({ graph_id: "rag" })).toBe(2);
    expect(await storage.assistants.count({ metadata: { team: "cs" } })).toBe(2);
    expect(await storage.assistants.count()).toBe(4);
  });

  it("sorts by every supported field in both orders", async () => {
    const by = async (sortBy: "assistant_id" | "graph_id" | "name" | "created_at" | "updated_at", sortOrder: "asc" | "desc") =>
      ids(await storage.assistants.search({ sortBy, sortOrder }));
    expect(await by("assistant_id", "asc")).toEqual(["a-1", "a-2", "a-3", "a-4"]);
    expect(await by("assistant_id", "desc")).toEqual(["a-4", "a-3", "a-2", "a-1"]);
    expect(await by("name", "asc")).toEqual(["a-3", "a-4", "a-1", "a-2"]); // code-point order, like SQL "C" collation
    expect(await by("graph_id", "asc")).toEqual(["a-1", "a-2", "a-3", "a-4"]); // ties broken by id
    expect(await by("graph_id", "desc")).toEqual(["a-4", "a-3", "a-2", "a-1"]);
    expect(await by("created_at", "asc")).toEqual(["a-1", "a-2", "a-3", "a-4"]);
    expect(await by("updated_at", "desc")).toEqual(["a-1", "a-4", "a-3", "a-2"]);
  });

  it("paginates with limit/offset and reports the total of the whole filter", async () => {
    const p1 = await storage.assistants.search({ sortBy: "assistant_id", sortOrder: "asc", limit: 2 });
    const p2 = await storage.assistants.search({ sortBy: "assistant_id", sortOrder: "asc", limit: 2, offset: 2 });
    const p3 = await storage.assistants.search({ sortBy: "assistant_id", sortOrder: "asc", limit: 2, offset: 4 });
    expect([ids(p1), ids(p2), ids(p3)]).toEqual([["a-1", "a-2"], ["a-3", "a-4"], []]);
    expect([p1.total, p2.total, p3.total]).toEqual([4, 4, 4]);
  });
});

describe("assistants scope", () => {
  it("hides the assistants a scope does not match everywhere", async () => {
    const alice = { conditions: [{ key: "owner", op: "$eq" as const, value: "alice" }] };
    const bob = { conditions: [{ key: "owner", op: "$eq" as const, value: "bob" }] };
    await storage.assistants.create({ assistant_id: "a1", graph_id: "g", metadata: { owner: "alice" } }, alice);
    await storage.assistants.create({ assistant_id: "b1", graph_id: "g", metadata: { owner: "bob" } }, bob);
    await storage.assistants.create({ assistant_id: "n1", graph_id: "g" });

    expect((await storage.assistants.get("a1", alice)).assistant_id).toBe("a1");
    await expect(storage.assistants.get("a1", bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.assistants.patch("a1", { name: "x" }, bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.assistants.delete("a1", bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.assistants.setLatest("a1", 1, bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(storage.assistants.listVersions("a1", {}, bob)).rejects.toBeInstanceOf(NotFoundError);
    // an existing id owned by someone else is a conflict even with do_nothing
    await expect(storage.assistants.create({ assistant_id: "a1", graph_id: "g", if_exists: "do_nothing" }, bob)).rejects.toBeInstanceOf(
      ConflictError,
    );

    expect((await storage.assistants.search({}, alice)).items.map((x) => x.assistant_id)).toEqual(["a1"]);
    expect(await storage.assistants.count({ graph_id: "g" }, bob)).toBe(1);
    expect(await storage.assistants.count({}, { conditions: [] })).toBe(3);
    const patched = await storage.assistants.patch("a1", { name: "mine" }, alice);
    expect(patched.metadata).toEqual({ owner: "alice" });
    expect((await storage.assistants.listVersions("a1", {}, alice)).total).toBe(2);
  });
});
