import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/server.js";
import { replayLogs } from "../../src/storage/lowdb/commit-log.js";
import { storeItemCollectionOptions } from "../../src/storage/lowdb/store-items.js";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";
import pg from "pg";
import { pino } from "pino";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/store");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns true, failing after `ms`. */
async function eventually(probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await sleep(25);
  }
}

/** Whether the backend still holds an item with this key, read beneath the API (lowdb files and log, or the table). */
async function isStored(t: TestServer, key: string): Promise<boolean> {
  if (!t.database) return (await storeFiles(t.dataDir)).includes(key);
  const client = new pg.Client({ connectionString: t.database.uri });
  await client.connect();
  try {
    return (await client.query("SELECT 1 FROM store_items WHERE key = $1", [key])).rowCount === 1;
  } finally {
    await client.end();
  }
}

/**
 * The store items on disk, as JSON text: the store's shard files with the commit log (mutations
 * not yet rewritten into shards) replayed over them, as opening the data directory would.
 */
async function storeFiles(dataDir: string): Promise<string> {
  const dir = path.join(dataDir, "store");
  const { idOf } = storeItemCollectionOptions(dir, 1);
  const records: Record<string, unknown> = {};
  for (const file of (await readdir(dir)).filter((f) => /^\d+\.json$/.test(f))) {
    Object.assign(records, (JSON.parse(await readFile(path.join(dir, file), "utf8")) as { records: object }).records);
  }
  await replayLogs(dataDir, (entry) => {
    if (entry.c !== "storeItems") return;
    if ("r" in entry) records[idOf(entry.r as never)] = entry.r;
    else delete records[entry.d];
  });
  return JSON.stringify(records);
}

const request = (t: TestServer, method: string, route: string, body?: unknown) =>
  fetch(`${t.url}${route}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe("store API without a store index (examples config)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("puts, gets, replaces and deletes items", async () => {
    const ns = ["users", crypto.randomUUID()];
    await t.client.store.putItem(ns, "prefs", { theme: "dark" });
    const item = await t.client.store.getItem(ns, "prefs");
    expect(item).toMatchObject({ namespace: ns, key: "prefs", value: { theme: "dark" } });
    expect(item!.createdAt).toBe(item!.updatedAt);

    await sleep(5);
    await t.client.store.putItem(ns, "prefs", { theme: "light" });
    const replaced = await t.client.store.getItem(ns, "prefs");
    expect(replaced!.value).toEqual({ theme: "light" });
    expect(replaced!.createdAt).toBe(item!.createdAt);
    expect(Date.parse(replaced!.updatedAt)).toBeGreaterThan(Date.parse(item!.updatedAt));

    await t.client.store.deleteItem(ns, "prefs");
    expect(await t.client.store.getItem(ns, "prefs")).toBeNull();
    await t.client.store.deleteItem(ns, "prefs"); // deleting a missing item is not an error
  });

  it("answers a missing item with 200 null, also for the root namespace", async () => {
    expect(await t.client.store.getItem(["nobody"], "nothing")).toBeNull();
    expect(await t.client.store.getItem([], "nothing")).toBeNull();
    const res = await fetch(`${t.url}/store/items?key=nothing`);
    expect(res.status).toBe(200);
    expect(await json(res)).toBeNull();
  });

  it("searches under a namespace prefix with filters, limit and offset; newest first", async () => {
    const root = crypto.randomUUID();
    const put = (ns: string[], key: string, value: Record<string, unknown>) => t.client.store.putItem([root, ...ns], key, value);
    await put(["a"], "one", { n: 1, color: "red", tags: ["x"] });
    await put(["a", "deep"], "two", { n: 2, color: "blue" });
    await put(["b"], "three", { n: 3, color: "red" });
    await put(["b"], "four", { n: 4, color: "green", tags: ["x", "y"] });
    const keys = async (prefix: string[], options: Parameters<typeof t.client.store.searchItems>[1] = {}) =>
      (await t.client.store.searchItems([root, ...prefix], options)).items.map((i) => i.key);

    expect(await keys([])).toEqual(["four", "three", "two", "one"]);
    expect(await keys(["a"])).toEqual(["two", "one"]);
    expect(await keys([], { limit: 2 })).toEqual(["four", "three"]);
    expect(await keys([], { limit: 2, offset: 1 })).toEqual(["three", "two"]);
    expect(await keys([], { filter: { color: "red" } })).toEqual(["three", "one"]);
    expect(await keys([], { filter: { n: { $gt: 1, $lte: 3 } } })).toEqual(["three", "two"]);
    expect(await keys([], { filter: { n: { $ne: 2 }, color: { $in: ["red", "green"] } } })).toEqual(["four", "three", "one"]);
    expect(await keys([], { filter: { color: { $nin: ["red"] } } })).toEqual(["four", "two"]);
    expect(await keys([], { filter: { n: { $gte: 2, $lt: 4 } } })).toEqual(["three", "two"]);
    expect(await keys([], { filter: { n: { $eq: 4 } } })).toEqual(["four"]);
    expect(await keys([], { filter: { tags: ["x"] } })).toEqual(["one"]);
    const [first] = (await t.client.store.searchItems([root, "a", "deep"])).items;
    expect(first).toMatchObject({ namespace: [root, "a", "deep"], key: "two", value: { n: 2, color: "blue" }, score: null });
  });

  it("handles a query without a store index as the LangGraph stores do: unranked, score null", async () => {
    const root = crypto.randomUUID();
    await t.client.store.putItem([root], "older", { text: "cats and dogs" });
    await sleep(5);
    await t.client.store.putItem([root], "newer", { text: "pizza" });
    const { items } = await t.client.store.searchItems([root], { query: "cats" });
    expect(items.map((i) => [i.key, i.score])).toEqual([
      ["newer", null],
      ["older", null],
    ]);
  });

  it("lists namespaces with prefix, suffix (wildcards), max_depth, limit and offset", async () => {
    const root = crypto.randomUUID();
    for (const ns of [["a", "b", "c"], ["a", "b", "d"], ["a", "x"], ["z"]]) {
      await t.client.store.putItem([root, ...ns], "k", { v: 1 });
    }
    const list = (options: Parameters<typeof t.client.store.listNamespaces>[0]) => t.client.store.listNamespaces(options).then((r) => r.namespaces);
    expect(await list({ prefix: [root] })).toEqual([
      [root, "a", "b", "c"],
      [root, "a", "b", "d"],
      [root, "a", "x"],
      [root, "z"],
    ]);
    expect(await list({ prefix: [root, "a"], maxDepth: 3 })).toEqual([
      [root, "a", "b"],
      [root, "a", "x"],
    ]);
    expect(await list({ prefix: [root, "*", "b"] })).toEqual([
      [root, "a", "b", "c"],
      [root, "a", "b", "d"],
    ]);
    expect(await list({ prefix: [root], suffix: ["d"] })).toEqual([[root, "a", "b", "d"]]);
    expect(await list({ prefix: [root], suffix: ["b", "*"] })).toEqual([
      [root, "a", "b", "c"],
      [root, "a", "b", "d"],
    ]);
    expect(await list({ prefix: [root], limit: 2, offset: 1 })).toEqual([
      [root, "a", "b", "d"],
      [root, "a", "x"],
    ]);
    expect(await list({ prefix: [root], maxDepth: 1 })).toEqual([[root]]);
    await t.client.store.deleteItem([root, "z"], "k");
    expect(await list({ prefix: [root], maxDepth: 2 })).toEqual([[root, "a"]]);
  });

  it("expires an item after its ttl (fractions of a minute), and refresh_ttl restarts it", async () => {
    const ns = ["ttl", crypto.randomUUID()];
    // TTLs leave a loaded machine (slow requests) room: "short" must still be there when read back
    await t.client.store.putItem(ns, "short", { v: 1 }, { ttl: 0.02 }); // 1.2 s
    await t.client.store.putItem(ns, "kept", { v: 2 }, { ttl: 0.03 }); // 1.8 s, refreshed below
    await t.client.store.putItem(ns, "forever", { v: 3 }, { ttl: null });
    expect(await t.client.store.getItem(ns, "short")).not.toBeNull();

    // reads refresh by default (refresh_on_read defaults to true): keep "kept" alive for 3 s
    const started = Date.now();
    while (Date.now() - started < 3000) {
      expect(await t.client.store.getItem(ns, "kept")).not.toBeNull();
      await sleep(300);
    }
    expect(await t.client.store.getItem(ns, "short")).toBeNull();
    expect((await t.client.store.searchItems(ns)).items.map((i) => i.key).sort()).toEqual(["forever", "kept"]);

    // reads that do not refresh let it run out
    await eventually(async () => (await t.client.store.getItem(ns, "kept", { refreshTtl: false })) === null);
    expect((await t.client.store.searchItems(ns)).items.map((i) => i.key)).toEqual(["forever"]);
    expect((await t.client.store.listNamespaces({ prefix: ns })).namespaces).toEqual([ns]);
  });

  it("a refreshing search restarts the TTL of the items it returns", async () => {
    const ns = ["ttl-search", crypto.randomUUID()];
    await t.client.store.putItem(ns, "k", { v: 1 }, { ttl: 0.02 });
    const started = Date.now();
    while (Date.now() - started < 2400) {
      expect((await t.client.store.searchItems(ns, { refreshTtl: true })).items).toHaveLength(1);
      await sleep(300);
    }
    await eventually(async () => (await t.client.store.searchItems(ns, { refreshTtl: false })).items.length === 0);
  });

  it("deletes expired items durably through the sweeper", async () => {
    const key = `swept-${crypto.randomUUID()}`;
    await t.client.store.putItem(["sweep"], key, { v: 1 }, { ttl: 0.02 }); // 1.2 s: long enough to see it stored first
    expect(await isStored(t, key)).toBe(true);
    // the sweeper's deletion reaches the disk without any read touching the item
    await eventually(async () => !(await isStored(t, key)));
  });

  it("rejects what the store cannot hold or answer with 422 naming the problem", async () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      ["PUT", "/store/items", { namespace: [], key: "k", value: {} }, /namespace/],
      ["PUT", "/store/items", { namespace: ["a.b"], key: "k", value: {} }, /namespace/],
      ["PUT", "/store/items", { namespace: ["a:b"], key: "k", value: {} }, /namespace/],
      ["PUT", "/store/items", { namespace: ["langgraph", "x"], key: "k", value: {} }, /langgraph/],
      ["PUT", "/store/items", { namespace: ["a"], key: "k", value: {}, ttl: 0 }, /ttl/],
      ["PUT", "/store/items", { namespace: ["a"], key: "k", value: {}, index: ["a..b"] }, /index field path/],
      ["PUT", "/store/items", { namespace: ["a"], key: "k", value: [] }, /value/],
      ["PUT", "/store/items", { namespace: ["a"], key: "k", value: {}, expires: 1 }, /expires/],
      ["POST", "/store/items/search", { filter: { n: { $gteq: 1 } } }, /unknown operator '\$gteq'/],
      ["POST", "/store/items/search", { filter: { n: { $gt: 1, x: 2 } } }, /operator object/],
      ["POST", "/store/items/search", { filter: { n: { $in: 1 } } }, /expected an array/],
      ["POST", "/store/items/search", { namespace_prefix: [""] }, /namespace_prefix/],
      ["POST", "/store/namespaces", { prefix: ["a.b"] }, /prefix/],
      ["POST", "/store/namespaces", { max_depth: 0 }, /max_depth/],
      ["DELETE", "/store/items", { namespace: ["a"] }, /key/],
    ];
    for (const [method, route, body, detail] of cases) {
      const res = await request(t, method, route, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect((await json(res)).detail, JSON.stringify(body)).toMatch(detail);
    }
    const res = await fetch(`${t.url}/store/items?key=k&namespace=a..b`);
    expect(res.status).toBe(422);
    expect((await json(res)).detail).toMatch(/namespace/);
    // reads may name the reserved root (graphs can read what batch() wrote there)
    expect(await t.client.store.getItem(["langgraph"], "k")).toBeNull();
  });

  it("keeps items across a restart", async () => {
    const ns = ["durable", crypto.randomUUID()];
    await t.client.store.putItem(ns, "k", { kept: true }, { ttl: 60 });
    const before = await t.client.store.getItem(ns, "k", { refreshTtl: false });
    t = await t.restart();
    const after = await t.client.store.getItem(ns, "k", { refreshTtl: false });
    expect(after).toEqual(before);
    expect((await t.client.store.listNamespaces({ prefix: ns })).namespaces).toEqual([ns]);
  });
});

describe("store API with a store index (test/fixtures/store)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ configPath: path.join(FIXTURES, "langgraph.json") });
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("ranks a query by cosine similarity of the indexed fields, with scores", async () => {
    const ns = ["docs", crypto.randomUUID()];
    await t.client.store.putItem(ns, "cats", { text: "cat cat fish", other: "pizza pizza pizza" });
    await t.client.store.putItem(ns, "dogs", { text: "dog dog cat" });
    await t.client.store.putItem(ns, "food", { text: "pizza pasta" });
    await t.client.store.putItem(ns, "skipped", { text: "cat" }, { index: false });
    await t.client.store.putItem(ns, "by-other", { text: "train", other: "cat" }, { index: ["other"] });

    const { items } = await t.client.store.searchItems(ns, { query: "cats" });
    expect(items.map((i) => i.key)).toEqual(["by-other", "cats", "dogs", "food", "skipped"]);
    expect(items[0].score).toBeCloseTo(1, 6);
    expect(items[1].score).toBeCloseTo(2 / Math.sqrt(5), 6);
    expect(items[2].score).toBeCloseTo(1 / Math.sqrt(5), 6);
    expect(items[3].score).toBe(0);
    expect(items[4].score).toBeNull(); // not indexed: after the ranked ones

    const page = await t.client.store.searchItems(ns, { query: "cats", limit: 2, offset: 1 });
    expect(page.items.map((i) => i.key)).toEqual(["cats", "dogs"]);
    const filtered = await t.client.store.searchItems(ns, { query: "pasta", filter: { text: { $ne: "dog dog cat" } } });
    expect(filtered.items[0].key).toBe("food");
    expect(filtered.items.map((i) => i.key)).not.toContain("dogs");
  });

  it("re-embeds an item when it is replaced", async () => {
    const ns = ["reembed", crypto.randomUUID()];
    await t.client.store.putItem(ns, "a", { text: "car" });
    await t.client.store.putItem(ns, "b", { text: "plane" });
    expect((await t.client.store.searchItems(ns, { query: "car" })).items[0].key).toBe("a");
    await t.client.store.putItem(ns, "a", { text: "train" });
    await t.client.store.putItem(ns, "b", { text: "car" });
    expect((await t.client.store.searchItems(ns, { query: "car" })).items[0].key).toBe("b");
  });

  it("shares items with graphs: a graph reads what the API wrote and the API reads what it wrote", async () => {
    const user = crypto.randomUUID();
    await t.client.store.putItem(["profiles", user], "profile", { name: "Ada" });
    await t.client.store.putItem(["memories", user], "older", { text: "pizza for dinner" });
    const { graphs, store } = t.server.services;
    const graph = await graphs.resolveGraph("memory", undefined, { store });
    const out = await graph.invoke({ user, fact_key: "pet", fact: "my cat likes fish", query: "cat" });

    expect(out.profile).toEqual({ name: "Ada" });
    expect(out.found.map((f: { key: string }) => f.key)).toEqual(["pet", "older"]);
    expect(out.found[0].score).toBeGreaterThan(0.5);
    const written = await t.client.store.getItem(["memories", user], "pet");
    expect(written).toMatchObject({ namespace: ["memories", user], key: "pet", value: { text: "my cat likes fish" } });
    // indexed on write by the graph, so the API's semantic search finds it
    const { items } = await t.client.store.searchItems(["memories", user], { query: "fish" });
    expect(items[0]).toMatchObject({ key: "pet" });
    expect(items[0].score).toBeGreaterThan(0);
  });

  it("keeps embeddings across a restart", async () => {
    const ns = ["restart", crypto.randomUUID()];
    await t.client.store.putItem(ns, "x", { text: "dog" });
    await t.client.store.putItem(ns, "y", { text: "plane" });
    t = await t.restart();
    const { items } = await t.client.store.searchItems(ns, { query: "planes" });
    expect(items.map((i) => i.key)).toEqual(["y", "x"]);
    expect(items[0].score).toBeCloseTo(1, 6);
  });
});

describe("store TTL configuration (default_ttl, refresh_on_read: false)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ configPath: path.join(FIXTURES, "ttl.json") });
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("applies default_ttl to items put without ttl, never to ttl null; reads do not refresh", async () => {
    const ns = ["defaults", crypto.randomUUID()];
    await t.client.store.putItem(ns, "default", { v: 1 }); // default_ttl: 0.01 min = 600 ms
    await t.client.store.putItem(ns, "never", { v: 2 }, { ttl: null });
    await t.client.store.putItem(ns, "explicit", { v: 3 }, { ttl: 10 });
    const started = Date.now();
    await eventually(async () => (await t.client.store.getItem(ns, "default")) === null);
    // plain reads kept happening; with refresh_on_read false they did not keep it alive
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await t.client.store.searchItems(ns)).items.map((i) => i.key).sort()).toEqual(["explicit", "never"]);
  });

  it("still refreshes when a read asks for it", async () => {
    const ns = ["asked", crypto.randomUUID()];
    await t.client.store.putItem(ns, "k", { v: 1 }, { ttl: 0.02 });
    const started = Date.now();
    while (Date.now() - started < 2400) {
      expect(await t.client.store.getItem(ns, "k", { refreshTtl: true })).not.toBeNull();
      await sleep(300);
    }
  });

  it("applies default_ttl to what graphs write", async () => {
    const user = crypto.randomUUID();
    const graph = await t.server.services.graphs.resolveGraph("memory", undefined, { store: t.server.services.store });
    await graph.invoke({ user, fact_key: "f", fact: "short lived" });
    expect(await t.client.store.getItem(["memories", user], "f")).not.toBeNull();
    await eventually(async () => (await t.client.store.getItem(["memories", user], "f")) === null);
  });
});

describe("store embedding failures", () => {
  it("answers 503 when the embedding function fails, and stores nothing", async () => {
    const t = await startTestServer({ configPath: path.join(FIXTURES, "failing-embed.json") });
    try {
      const ns = ["failing", crypto.randomUUID()];
      const res = await request(t, "PUT", "/store/items", { namespace: ns, key: "k", value: { text: "cat" } });
      expect(res.status).toBe(503);
      expect((await json(res)).detail).toMatch(/embedding function failed: embedding provider unavailable/);
      expect(await t.client.store.getItem(ns, "k")).toBeNull();
      // not indexed: nothing to embed, so the put works
      await t.client.store.putItem(ns, "plain", { text: "cat" }, { index: false });
      await expect(t.client.store.searchItems(ns, { query: "cat" })).rejects.toMatchObject({ status: 503 });
      expect((await t.client.store.searchItems(ns)).items.map((i) => i.key)).toEqual(["plain"]);
      expect(t.violations).toEqual([]);
    } finally {
      await t.dispose();
    }
  });

  it("refuses to start when store.index.embed cannot be loaded, naming the config", async () => {
    const configPath = path.join(FIXTURES, "provider-embed.json");
    const dataDir = await mkdtemp(path.join(tmpdir(), "lgts-test-"));
    try {
      await expect(startServer({ configPath, port: 0, host: "127.0.0.1", dataDir, logger: pino({ level: "silent" }) })).rejects.toThrow(
        /store\.index\.embed: module .*openai not found .*provider strings/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
