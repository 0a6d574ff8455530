import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidStoreRequestError, parseStoreFilter } from "../../src/storage/store-query.js";
import type { StoreItemPut, StoreItemsRepository } from "../../src/storage/types.js";
import { openTempStorage, type TempStorage } from "./storage-helpers.js";

/** The repository of a fresh storage with a clock the test moves by hand. */
let temp: TempStorage;
let items: StoreItemsRepository;
let now: number;

/** Closes the storage and opens it again (what a restarted server sees). */
const reopen = async () => {
  await temp.storage.close();
  items = (await temp.reopen()).storeItems;
};
const put = (namespace: string[], key: string, value: Record<string, unknown>, extra: Partial<StoreItemPut> = {}) =>
  items.put({ namespace, key, value, ttl_minutes: null, vectors: [], ...extra });
const MINUTE = 60_000;

beforeEach(async () => {
  now = Date.parse("2030-01-01T00:00:00.000Z");
  temp = await openTempStorage({ shards: { storeItems: 8 }, clock: () => now });
  items = temp.storage.storeItems;
});
afterEach(async () => {
  await temp.done();
});

describe("store items repository", () => {
  it("puts, gets, replaces (keeping created_at) and deletes", async () => {
    const first = await put(["users", "u1"], "prefs", { theme: "dark" });
    expect(first).toEqual({
      namespace: ["users", "u1"],
      key: "prefs",
      value: { theme: "dark" },
      created_at: "2030-01-01T00:00:00.000Z",
      updated_at: "2030-01-01T00:00:00.000Z",
      ttl_minutes: null,
      expires_at: null,
    });
    now += 1000;
    const second = await put(["users", "u1"], "prefs", { theme: "light" });
    expect(second.created_at).toBe(first.created_at);
    expect(second.updated_at).toBe("2030-01-01T00:00:01.000Z");
    expect(await items.get(["users", "u1"], "prefs")).toEqual(second);
    expect(await items.get(["users"], "prefs")).toBeNull();
    expect(await items.delete(["users", "u1"], "prefs")).toBe(true);
    expect(await items.delete(["users", "u1"], "prefs")).toBe(false);
    expect(await items.get(["users", "u1"], "prefs")).toBeNull();
  });

  it("keeps namespaces and keys with any characters apart", async () => {
    await put(["a", "b"], "c", { n: 1 });
    await put(["a"], 'b","c', { n: 2 });
    await put(["a,b"], "c", { n: 3 });
    expect((await items.get(["a", "b"], "c"))?.value).toEqual({ n: 1 });
    expect((await items.get(["a"], 'b","c'))?.value).toEqual({ n: 2 });
    expect((await items.get(["a,b"], "c"))?.value).toEqual({ n: 3 });
  });

  it("returns copies", async () => {
    const item = await put(["ns"], "k", { list: [1] });
    (item.value.list as number[]).push(2);
    const got = (await items.get(["ns"], "k"))!;
    (got.value.list as number[]).push(3);
    expect((await items.get(["ns"], "k"))?.value).toEqual({ list: [1] });
  });

  it("searches by namespace prefix, most recently updated first, with limit/offset", async () => {
    for (const [i, ns] of [["docs"], ["docs", "a"], ["docs", "a", "b"], ["docsx"], ["other"]].entries()) {
      now += 1000;
      await put(ns, `k${i}`, { i });
    }
    const keys = async (prefix: string[], limit?: number, offset?: number) =>
      (await items.search({ namespacePrefix: prefix, limit, offset })).map((h) => h.key);
    expect(await keys(["docs"])).toEqual(["k2", "k1", "k0"]);
    expect(await keys(["docs", "a"])).toEqual(["k2", "k1"]);
    expect(await keys([])).toEqual(["k4", "k3", "k2", "k1", "k0"]);
    expect(await keys([], 2, 1)).toEqual(["k3", "k2"]);
    expect(await keys(["nothing"])).toEqual([]);
    const [hit] = await items.search({ namespacePrefix: ["other"] });
    expect(hit).toMatchObject({ namespace: ["other"], key: "k4", value: { i: 4 }, score: null });
  });

  it("filters values by equality and operators", async () => {
    await put(["f"], "a", { n: 1, s: "apple", tags: ["x"], nested: { a: 1, b: 2 } });
    await put(["f"], "b", { n: 5, s: "banana", tags: ["x", "y"] });
    await put(["f"], "c", { n: 10, s: "cherry", flag: null });
    const keys = async (filter: Record<string, unknown>) =>
      (await items.search({ namespacePrefix: ["f"], filter: parseStoreFilter(filter) })).map((h) => h.key).sort();
    expect(await keys({ n: 5 })).toEqual(["b"]);
    expect(await keys({ n: { $eq: 5 } })).toEqual(["b"]);
    expect(await keys({ n: { $ne: 5 } })).toEqual(["a", "c"]);
    expect(await keys({ n: { $gt: 1 } })).toEqual(["b", "c"]);
    expect(await keys({ n: { $gte: 5, $lt: 10 } })).toEqual(["b"]);
    expect(await keys({ n: { $lte: 5 } })).toEqual(["a", "b"]);
    expect(await keys({ s: { $gt: "b" } })).toEqual(["b", "c"]);
    expect(await keys({ n: { $gt: "1" } })).toEqual([]); // a number never compares with a string
    expect(await keys({ n: { $in: [1, 10] } })).toEqual(["a", "c"]);
    expect(await keys({ n: { $nin: [1, 10] } })).toEqual(["b"]);
    expect(await keys({ tags: ["x", "y"] })).toEqual(["b"]);
    expect(await keys({ nested: { b: 2, a: 1 } })).toEqual(["a"]); // JSON equality, key order aside
    expect(await keys({ nested: { a: 1 } })).toEqual([]); // not containment
    expect(await keys({ flag: null })).toEqual(["c"]);
    expect(await keys({ missing: { $ne: 1 } })).toEqual(["a", "b", "c"]);
    expect(await keys({ n: 1, s: "apple" })).toEqual(["a"]);
  });

  it("rejects malformed filters", () => {
    expect(() => parseStoreFilter({ n: { $gteq: 1 } })).toThrow(InvalidStoreRequestError);
    expect(() => parseStoreFilter({ n: { $gt: 1, plain: 2 } })).toThrow(/operator object/);
    expect(() => parseStoreFilter({ n: { $in: 1 } })).toThrow(/expected an array/);
    expect(parseStoreFilter({ n: {} })).toEqual([{ field: "n", op: "$eq", operand: {} }]);
  });

  it("ranks by cosine similarity when given a query vector; unindexed items last", async () => {
    now += 1;
    await put(["v"], "x", { t: "x" }, { vectors: [{ field: "t", vector: [1, 0, 0] }] });
    now += 1;
    await put(["v"], "y", { t: "y" }, { vectors: [{ field: "t", vector: [0, 1, 0] }] });
    now += 1;
    await put(
      ["v"],
      "xy",
      { t: "xy" },
      {
        vectors: [
          { field: "a", vector: [0, 0, 1] },
          { field: "b", vector: [1, 1, 0] },
        ],
      },
    );
    now += 1;
    await put(["v"], "plain", { t: "none" });
    now += 1;
    await put(["v"], "otherdims", { t: "?" }, { vectors: [{ field: "t", vector: [1, 0] }] });
    const hits = await items.search({ namespacePrefix: ["v"], queryVector: [1, 0.1, 0] });
    expect(hits.map((h) => h.key)).toEqual(["x", "xy", "y", "otherdims", "plain"]);
    expect(hits[0].score).toBeCloseTo(1 / Math.hypot(1, 0.1), 6);
    expect(hits[1].score).toBeCloseTo(1.1 / (Math.SQRT2 * Math.hypot(1, 0.1)), 6);
    expect(hits[3].score).toBeNull();
    const page = await items.search({ namespacePrefix: ["v"], queryVector: [1, 0.1, 0], limit: 2, offset: 1 });
    expect(page.map((h) => h.key)).toEqual(["xy", "y"]);
    // without a prefix (every vector scored), and pages across the ranked/unranked boundary
    const everywhere = async (limit?: number, offset?: number) =>
      (await items.search({ namespacePrefix: [], queryVector: [1, 0.1, 0], limit, offset })).map((h) => [h.key, h.score === null]);
    expect(await everywhere()).toEqual([
      ["x", false],
      ["xy", false],
      ["y", false],
      ["otherdims", true],
      ["plain", true],
    ]);
    expect(await everywhere(2, 2)).toEqual([
      ["y", false],
      ["otherdims", true],
    ]);
    expect(await everywhere(5, 3)).toEqual([
      ["otherdims", true],
      ["plain", true],
    ]);
    expect(await everywhere(1, 5)).toEqual([]);
  });

  it("lists namespaces with prefix, suffix (wildcards), max_depth, limit/offset", async () => {
    for (const ns of [["a", "b", "c"], ["a", "b", "d"], ["a", "x"], ["b"], ["a", "b"]]) await put(ns, "k", {});
    expect(await items.listNamespaces()).toEqual([["a", "b"], ["a", "b", "c"], ["a", "b", "d"], ["a", "x"], ["b"]]);
    expect(await items.listNamespaces({ prefix: ["a", "b"] })).toEqual([
      ["a", "b"],
      ["a", "b", "c"],
      ["a", "b", "d"],
    ]);
    expect(await items.listNamespaces({ prefix: ["*", "b"] })).toEqual([
      ["a", "b"],
      ["a", "b", "c"],
      ["a", "b", "d"],
    ]);
    expect(await items.listNamespaces({ suffix: ["d"] })).toEqual([["a", "b", "d"]]);
    expect(await items.listNamespaces({ suffix: ["b", "*"] })).toEqual([
      ["a", "b", "c"],
      ["a", "b", "d"],
    ]);
    expect(await items.listNamespaces({ maxDepth: 1 })).toEqual([["a"], ["b"]]);
    expect(await items.listNamespaces({ prefix: ["a"], maxDepth: 2 })).toEqual([
      ["a", "b"],
      ["a", "x"],
    ]);
    expect(await items.listNamespaces({ limit: 2, offset: 1 })).toEqual([
      ["a", "b", "c"],
      ["a", "b", "d"],
    ]);
  });

  it("lists namespaces label by label, whatever characters the labels hold, each once per max_depth group", async () => {
    const all = [["a"], ["a", "b"], ["a", "b", "c"], ["a", "b\u0001"], ["a", "bb"], ["a b"], ["a-b", "c"], ["ab"]];
    for (const ns of [...all].reverse()) await put(ns, "k", {});
    await put(["a", "b", "c"], "k2", {});
    expect(await items.listNamespaces()).toEqual(all);
    expect(await items.listNamespaces({ maxDepth: 2 })).toEqual([["a"], ["a", "b"], ["a", "b\u0001"], ["a", "bb"], ["a b"], ["a-b", "c"], ["ab"]]);
    expect(await items.listNamespaces({ maxDepth: 2, limit: 2, offset: 2 })).toEqual([
      ["a", "b\u0001"],
      ["a", "bb"],
    ]);
    expect(await items.listNamespaces({ maxDepth: 1 })).toEqual([["a"], ["a b"], ["a-b"], ["ab"]]);
    expect(await items.listNamespaces({ prefix: ["a"] })).toEqual(all.slice(0, 5));
    expect(await items.listNamespaces({ prefix: ["a", "b"], maxDepth: 2 })).toEqual([["a", "b"]]);
    expect(await items.listNamespaces({ prefix: ["a", "*"], maxDepth: 2 })).toEqual([
      ["a", "b"],
      ["a", "b\u0001"],
      ["a", "bb"],
    ]);
    expect(await items.listNamespaces({ suffix: ["c"], maxDepth: 1 })).toEqual([["a"], ["a-b"]]);
  });

  it("expires items: never returned after their TTL, refreshed by refreshing reads, swept durably", async () => {
    await put(["t"], "short", { v: 1 }, { ttl_minutes: 1 });
    await put(["t"], "long", { v: 2 }, { ttl_minutes: 10 });
    await put(["t"], "forever", { v: 3 });
    expect(await items.nextExpiry()).toBe(new Date(now + MINUTE).toISOString());

    now += 50_000;
    // a refreshing read restarts the TTL from now; a plain read does not
    expect((await items.get(["t"], "short", { refreshTtl: true }))?.expires_at).toBe(new Date(now + MINUTE).toISOString());
    now += 50_000; // 100 s after the put, 50 s after the refresh
    expect(await items.get(["t"], "short")).not.toBeNull();
    now += 10_001;
    expect(await items.get(["t"], "short")).toBeNull();
    expect((await items.search({ namespacePrefix: ["t"] })).map((h) => h.key).sort()).toEqual(["forever", "long"]);
    expect(await items.deleteExpired()).toBe(1);
    expect(await items.nextExpiry()).toBe(new Date(Date.parse("2030-01-01T00:00:00.000Z") + 10 * MINUTE).toISOString());

    // a refreshing search restarts the TTL of what it returns
    const [long] = await items.search({ namespacePrefix: ["t"], filter: parseStoreFilter({ v: 2 }), refreshTtl: true });
    expect(long.expires_at).toBe(new Date(now + 10 * MINUTE).toISOString());

    now += 11 * MINUTE;
    expect(await items.listNamespaces()).toEqual([["t"]]); // "forever" is still there
    expect(await items.deleteExpired()).toBe(1);
    expect(await items.nextExpiry()).toBeNull();

    // the deletions are durable: with the clock turned back, a reopened storage holds only "forever"
    await reopen();
    now = Date.parse("2030-01-01T00:00:00.000Z");
    expect((await items.search({ namespacePrefix: [] })).map((h) => h.key)).toEqual(["forever"]);
  });

  it("treats an expired, unswept item as absent for put (new created_at) and namespaces", async () => {
    await put(["gone"], "k", { v: 1 }, { ttl_minutes: 1 });
    now += 2 * MINUTE;
    expect(await items.listNamespaces()).toEqual([]);
    const again = await put(["gone"], "k", { v: 2 });
    expect(again.created_at).toBe(new Date(now).toISOString());
    expect(again.expires_at).toBeNull();
    expect(await items.nextExpiry()).toBeNull(); // the old expiry no longer applies
  });

  it("persists items and their vectors across a reopen", async () => {
    await put(["p"], "k", { text: "hello" }, { ttl_minutes: 5, vectors: [{ field: "text", vector: [0.5, 0.5] }] });
    await reopen();
    expect(await items.get(["p"], "k")).toMatchObject({ value: { text: "hello" }, ttl_minutes: 5 });
    expect(await items.nextExpiry()).toBe(new Date(now + 5 * MINUTE).toISOString());
    const [hit] = await items.search({ namespacePrefix: ["p"], queryVector: [1, 1] });
    expect(hit.score).toBeCloseTo(1, 6);
  });
});

describe("store items scope", () => {
  const scope = (conditions: Array<{ key: string; op: "$eq"; value: string } | { key: string; op: "$contains"; values: string[] }>) => ({
    conditions,
  });
  const alice = scope([{ key: "owner", op: "$eq", value: "alice" }]);

  it("applies to {...value, namespace, key} in get, put, delete, search and listNamespaces", async () => {
    const later = () => (now += MINUTE); // most recently updated first
    await put(["a", "notes"], "1", { owner: "alice", n: 1 }).then(later);
    await put(["a", "notes"], "2", { owner: "alice", n: 2 }).then(later);
    await put(["b", "notes"], "1", { owner: "bob", n: 3 }).then(later);
    await put(["c"], "x", { owner: "alice", namespace: "spoofed" });

    expect(await items.get(["b", "notes"], "1", { scope: alice })).toBeNull();
    expect((await items.get(["a", "notes"], "1", { scope: alice }))?.value).toEqual({ owner: "alice", n: 1 });
    const page = await items.search({ namespacePrefix: [], limit: 1, offset: 2, scope: alice });
    expect(page.map((i) => i.key)).toEqual(["1"]);
    expect((await items.search({ namespacePrefix: [], scope: alice })).length).toBe(3);
    expect(await items.listNamespaces({ scope: alice })).toEqual([["a", "notes"], ["c"]]);

    // the namespace and key override same-named fields of the value
    const inC = scope([{ key: "namespace", op: "$contains", values: ["c"] }]);
    expect((await items.search({ namespacePrefix: [], scope: inC })).map((i) => i.key)).toEqual(["x"]);
    expect(await items.listNamespaces({ scope: scope([{ key: "key", op: "$eq", value: "2" }]) })).toEqual([["a", "notes"]]);

    // a hidden item is neither replaced nor deleted
    await expect(
      items.put({ namespace: ["b", "notes"], key: "1", value: { owner: "alice" }, ttl_minutes: null, vectors: [] }, alice),
    ).rejects.toMatchObject({ kind: "not_found" });
    expect(await items.delete(["b", "notes"], "1", alice)).toBe(false);
    expect((await items.get(["b", "notes"], "1"))?.value).toEqual({ owner: "bob", n: 3 });
    expect(await items.delete(["a", "notes"], "1", alice)).toBe(true);
  });
});
