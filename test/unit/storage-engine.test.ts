import { readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../../src/storage/errors.js";
import { Collection, shardFileName } from "../../src/storage/lowdb/collection.js";
import { scheduleFlush } from "../../src/storage/lowdb/flush-queue.js";
import { contains } from "../../src/storage/lowdb/match.js";
import { paginate, smallest } from "../../src/storage/lowdb/page.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { tempDirPerTest } from "./storage-helpers.js";

interface Doc {
  id: string;
  group?: string;
  n?: number;
}

const temp = tempDirPerTest();

const docs = (shards: number, subdir = "docs") =>
  Collection.open<Doc>({
    dir: path.join(temp.path, subdir),
    shards,
    idOf: (d) => d.id,
    indexes: { group: (d) => d.group },
  });

/** Every record currently in the shard files of a collection directory (read from disk). */
async function onDisk(collectionDir: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const name of await readdir(collectionDir)) {
    if (!/^\d+\.json$/.test(name)) continue;
    const data = JSON.parse(await readFile(path.join(collectionDir, name), "utf8"));
    for (const [id, rec] of Object.entries(data.records)) out.set(id, rec);
  }
  return out;
}

describe("lowdb collection engine", () => {
  it("a mutation resolves only once the shard file on disk contains it", async () => {
    const col = await docs(4);
    const file = (d: Doc) => path.join(temp.path, "docs", shardFileName(shardIndexOf(d.id, 4)));
    const checks = Array.from({ length: 200 }, (_, i) => {
      const d = { id: `doc-${i}`, n: i };
      return col.put(d).then(() => {
        // synchronous read at the moment of resolution: no later write can have helped
        const data = JSON.parse(readFileSync(file(d), "utf8"));
        return data.records[d.id]?.n === i;
      });
    });
    expect((await Promise.all(checks)).every(Boolean)).toBe(true);
    await col.close();
  });

  it("group commit: concurrent mutations on a shard share writes", async () => {
    const col = await docs(1);
    await Promise.all(Array.from({ length: 500 }, (_, i) => col.put({ id: `d${i}` })));
    // one write for the first batch, at most one more chained behind it
    expect(col.writes).toBeLessThanOrEqual(2);
    // mutations made while a write is in flight go into exactly one follow-up write
    const first = col.put({ id: "x1" });
    await new Promise((r) => setImmediate(r)); // the write for x1 has started
    const more = Array.from({ length: 50 }, (_, i) => col.put({ id: `y${i}` }));
    await Promise.all([first, ...more]);
    expect(col.writes).toBeLessThanOrEqual(4);
    expect((await onDisk(path.join(temp.path, "docs"))).size).toBe(551);
    await col.close();
  });

  it("survives reopen: puts, replacements and deletes", async () => {
    let col = await docs(8);
    for (let i = 0; i < 100; i++) await col.put({ id: `d${i}`, group: i % 2 ? "odd" : "even", n: i });
    await col.put({ id: "d1", group: "even", n: -1 });
    await col.delete("d2");
    // no close(): every awaited mutation is already durable
    col = await docs(8);
    expect(col.size).toBe(99);
    expect(col.get("d1")).toEqual({ id: "d1", group: "even", n: -1 });
    expect(col.get("d2")).toBeUndefined();
    expect([...col.lookup("group", "even")!]).toHaveLength(50);
    expect([...col.lookup("group", "odd")!]).toHaveLength(49);
    expect([...col.lookup("group", "none")!]).toHaveLength(0);
    await col.close();
  });

  it("secondary indexes follow replacements and deletes", async () => {
    const col = await docs(2);
    await col.put({ id: "a", group: "g1" });
    await col.put({ id: "b", group: "g1" });
    await col.put({ id: "a", group: "g2" });
    await col.delete("b");
    expect([...col.lookup("group", "g1")!]).toEqual([]);
    expect([...col.lookup("group", "g2")!]).toEqual(["a"]);
    expect([...col.candidates([["group", "g2"]])].map((d) => d.id)).toEqual(["a"]);
    // a key's ids: one alone, then several, then one again, and a replacement is not a second
    for (const id of ["c", "d"]) await col.put({ id, group: "g2" });
    expect([...col.lookup("group", "g2")!].sort()).toEqual(["a", "c", "d"]);
    await col.delete("a");
    await col.delete("c");
    expect([...col.lookup("group", "g2")!]).toEqual(["d"]);
    await col.put({ id: "d", group: "g2", n: 1 });
    expect([...col.lookup("group", "g2")!]).toEqual(["d"]);
    await col.put({ id: "e", group: "g2" });
    expect([...col.lookup("group", "g2")!].sort()).toEqual(["d", "e"]);
    await col.put({ id: "f", group: "g1" });
    // the smallest bucket narrows the scan
    expect(
      [
        ...col.candidates([
          ["group", "g2"],
          ["group", "g1"],
        ]),
      ].map((d) => d.id),
    ).toEqual(["f"]);
    expect(await col.delete("missing")).toBe(false);
    await col.close();
  });

  it("keeps the shard count it was created with", async () => {
    let col = await docs(4);
    for (let i = 0; i < 40; i++) await col.put({ id: `d${i}` });
    await col.close();
    col = await docs(64);
    expect(col.shardCount).toBe(4);
    expect(col.size).toBe(40);
    await col.close();
    const files = (await readdir(path.join(temp.path, "docs"))).filter((f) => f !== "meta.json").sort();
    expect(files).toEqual(["000.json", "001.json", "002.json", "003.json"]);
  });

  it("removes stale temp files on open and ignores their content", async () => {
    let col = await docs(2);
    await col.put({ id: "kept" });
    await col.close();
    const tmp = path.join(temp.path, "docs", "000.json.tmp");
    await writeFile(tmp, '{"records":{"ghost":{"id":"gho'); // a write cut short by a crash
    col = await docs(2);
    expect(col.get("kept")).toBeDefined();
    expect(col.get("ghost")).toBeUndefined();
    expect((await readdir(path.join(temp.path, "docs"))).some((f) => f.endsWith(".tmp"))).toBe(false);
    await col.close();
  });

  it("refuses to open a corrupt shard instead of silently dropping its records", async () => {
    const col = await docs(1);
    await col.put({ id: "a" });
    await col.close();
    await writeFile(path.join(temp.path, "docs", "000.json"), '{"records": {"a": ');
    await expect(docs(1)).rejects.toThrow(/corrupt store file/);
  });

  it("a failed write rejects its mutations; the next write carries them to disk", async () => {
    const col = await docs(1);
    await col.put({ id: "before" });
    await rm(path.join(temp.path, "docs"), { recursive: true }); // the disk "fails"
    await expect(col.put({ id: "lost?" })).rejects.toBeInstanceOf(StorageUnavailableError);
    await mkdir(path.join(temp.path, "docs"));
    await writeFile(path.join(temp.path, "docs", "meta.json"), JSON.stringify({ format: 1, shards: 1 }));
    await col.put({ id: "after" });
    const disk = await onDisk(path.join(temp.path, "docs"));
    expect([...disk.keys()].sort()).toEqual(["after", "before", "lost?"]);
    await col.close();
  });

  it("rejects mutations after close", async () => {
    const storage = await LowdbStorage.open({ dataDir: temp.path });
    await storage.threads.create();
    await storage.close();
    await expect(storage.threads.create()).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(() => storage.addThreadHooks({})).toThrow(StorageUnavailableError);
  });

  it("LowdbStorage round-trips assistants (with versions) and threads across reopen", async () => {
    let storage = await LowdbStorage.open({ dataDir: temp.path, shards: { assistants: 2, threads: 2 } });
    await storage.assistants.create({ assistant_id: "a1", graph_id: "g", metadata: { k: 1 } });
    await storage.assistants.patch("a1", { name: "renamed" });
    const t = await storage.threads.create({ metadata: { x: 1 } });
    await storage.threads.update(t.thread_id, { status: "interrupted", values: { a: [1, { b: null }] } });
    const before = {
      a: await storage.assistants.get("a1"),
      v: await storage.assistants.listVersions("a1"),
      t: await storage.threads.get(t.thread_id),
    };
    await storage.close();
    storage = await LowdbStorage.open({ dataDir: temp.path });
    expect(await storage.assistants.get("a1", { conditions: [{ key: "k", op: "$eq", value: 1 }] })).toEqual(before.a);
    expect(await storage.assistants.listVersions("a1")).toEqual(before.v);
    expect(await storage.threads.get(t.thread_id)).toEqual(before.t);
    expect((await storage.assistants.search({ filter: { graph_id: "g" } }, { conditions: [{ key: "k", op: "$eq", value: 1 }] })).total).toBe(1);
    expect(storage.stats().threads).toMatchObject({ records: 1, shards: 2 });
    await storage.close();
  });
});

describe("flush queue", () => {
  it("starts queued writes within a per-turn budget, yielding to the loop in between", async () => {
    const events: string[] = [];
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const all = Array.from({ length: 8 }, (_, i) => ({ startFlush: () => (events.push(`w${i}`), busy(3)) }));
    for (const f of all) scheduleFlush(f);
    scheduleFlush(all[0]); // queued twice: started once
    // an I/O-like callback queued meanwhile gets to run before all writes have started
    setImmediate(() => setImmediate(() => events.push("io")));
    const deadline = performance.now() + 5000;
    while (events.length < 9 && performance.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(events.filter((e) => e.startsWith("w"))).toEqual(["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"]);
    const io = events.indexOf("io");
    expect(io).toBeGreaterThan(0);
    expect(io).toBeLessThan(events.length - 1);
  });
});

describe("query helpers", () => {
  it("contains() has jsonb @> semantics", () => {
    expect(contains({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(contains({ a: 1 }, { a: 2 })).toBe(false);
    expect(contains({ a: 1 }, { b: undefined })).toBe(false);
    expect(contains({ a: [1, 2, { x: 1, y: 2 }] }, { a: [{ x: 1 }, 2] })).toBe(true);
    expect(contains({ a: [1, 2] }, { a: [3] })).toBe(false);
    expect(contains({ a: [1] }, { a: 1 })).toBe(false);
    expect(contains({ a: null }, { a: null })).toBe(true);
    expect(contains(null, {})).toBe(false);
    expect(contains({}, {})).toBe(true);
    expect(contains({ a: "1" }, { a: 1 })).toBe(false);
  });

  it("top-k selection equals a full sort, for every window", () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const items = Array.from({ length: 2000 }, (_, i) => ({ id: `i${i}`, v: Math.floor(rnd() * 100) }));
    const cmp = (a: { id: string; v: number }, b: { id: string; v: number }) => a.v - b.v || (a.id < b.id ? -1 : 1);
    const sorted = [...items].sort(cmp);
    for (const k of [1, 5, 10, 37, 100]) expect(smallest(items, k, cmp)).toEqual(sorted.slice(0, k));
    for (const [offset, limit] of [
      [0, 10],
      [10, 10],
      [150, 20],
      [1990, 20],
      [3000, 5],
    ]) {
      const page = paginate(items, (x) => x.v % 3 !== 0, cmp, { limit, offset });
      const expected = sorted.filter((x) => x.v % 3 !== 0);
      expect(page.total).toBe(expected.length);
      expect(page.items).toEqual(expected.slice(offset, offset + limit));
    }
  });
});

// mirrors src/storage/lowdb/hash.ts on purpose: the file layout is part of the on-disk format
function shardIndexOf(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}
