import path from "node:path";
import { pino } from "pino";
import type { Item, Operation, SearchItem } from "@langchain/langgraph-checkpoint";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EmbeddingError, loadStoreIndex } from "../../src/runtime/store/embeddings.js";
import { StoreSweeper } from "../../src/runtime/store/sweeper.js";
import { indexedTexts, parseFieldPath, textsAt } from "../../src/runtime/store/texts.js";
import { ServerStore } from "../../src/runtime/store/index.js";
import { InvalidStoreRequestError } from "../../src/storage/store-query.js";
import type { Storage, StoreItemsRepository } from "../../src/storage/types.js";
import { openTempStorage } from "./storage-helpers.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/store");
const silent = pino({ level: "silent" });

describe("index field paths", () => {
  const value = {
    title: "T",
    n: 3,
    flag: false,
    meta: { author: { name: "Ada" }, none: null },
    chapters: [{ content: "one" }, { content: "two" }, { other: 1 }],
    tags: ["a", "b", "c"],
  };

  it("extracts texts like the LangGraph stores' path syntax", () => {
    expect(textsAt(value, "$")).toEqual([JSON.stringify(value)]);
    expect(textsAt(value, "title")).toEqual(["T"]);
    expect(textsAt(value, "n")).toEqual(["3"]);
    expect(textsAt(value, "flag")).toEqual(["false"]);
    expect(textsAt(value, "meta.author.name")).toEqual(["Ada"]);
    expect(textsAt(value, "meta.author")).toEqual(['{"name":"Ada"}']);
    expect(textsAt(value, "meta.none")).toEqual([]);
    expect(textsAt(value, "missing.deeper")).toEqual([]);
    expect(textsAt(value, "chapters[*].content")).toEqual(["one", "two"]);
    expect(textsAt(value, "tags[0]")).toEqual(["a"]);
    expect(textsAt(value, "tags[-1]")).toEqual(["c"]);
    expect(textsAt(value, "tags[7]")).toEqual([]);
    expect(textsAt(value, "title[*]")).toEqual([]);
  });

  it("names one vector per text", () => {
    expect(indexedTexts(value, ["title", "tags[*]", "missing"])).toEqual([
      ["title", "T"],
      ["tags[*].0", "a"],
      ["tags[*].1", "b"],
      ["tags[*].2", "c"],
    ]);
  });

  it("rejects malformed paths with a 422 error", () => {
    for (const bad of ["", "a..b", ".a", "a.", "a[x]", "a[1", "[0]"]) {
      expect(() => parseFieldPath(bad), bad).toThrow(InvalidStoreRequestError);
    }
  });
});

describe("loading store.index.embed", () => {
  const config = (embed: string, dims = 8, fields?: string[]) => ({ dims, embed, ...(fields ? { fields } : {}) });

  it("accepts an embedding function or an Embeddings-like object", async () => {
    for (const embed of ["./embeddings.ts:embed", "./embeddings.ts:embeddings"]) {
      const index = await loadStoreIndex(config(embed), FIXTURES);
      expect(index.fields).toEqual(["$"]);
      expect(await index.embed(["cat dog", "pizza"])).toEqual([
        [1, 1, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 1, 0],
      ]);
      expect(await index.embedQuery("cats")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    }
  });

  it("fails with one line naming the key when the export cannot be used", async () => {
    await expect(loadStoreIndex(config("./missing.ts:embed"), FIXTURES)).rejects.toThrow(/store\.index\.embed: module .*missing\.ts not found/);
    await expect(loadStoreIndex(config("./embeddings.ts:VOCABULARY"), FIXTURES)).rejects.toThrow(/not an embedding function/);
    await expect(loadStoreIndex(config("./embeddings.ts:embed", 8, ["a..b"]), FIXTURES)).rejects.toThrow(/store\.index\.fields/);
  });

  it("reports a failing function or wrong dimensions as an EmbeddingError (503)", async () => {
    const wrong = await loadStoreIndex(config("./embeddings.ts:wrongDims"), FIXTURES);
    await expect(wrong.embed(["x"])).rejects.toThrow(/returned 2 values for text 1; store.index.dims is 8/);
    const failing = await loadStoreIndex(config("./embeddings.ts:failing"), FIXTURES);
    const error = await failing.embedQuery("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error).toMatchObject({ kind: "unavailable" });
  });
});

describe("ServerStore as a graph's BaseStore", () => {
  let storage: Storage;
  let done: () => Promise<void>;
  let store: ServerStore;
  beforeEach(async () => {
    ({ storage, done } = await openTempStorage());
    store = new ServerStore(storage.storeItems, {
      index: await loadStoreIndex({ dims: 8, embed: "./embeddings.ts:embed", fields: ["text"] }, FIXTURES),
    });
  });
  afterEach(() => done());

  it("implements get/put/delete/search/listNamespaces with BaseStore shapes", async () => {
    await store.put(["a", "b"], "k1", { text: "cat" });
    await store.put(["a", "c"], "k2", { text: "pizza", n: 2 }, false);
    const item = await store.get(["a", "b"], "k1");
    expect(item).toMatchObject({ namespace: ["a", "b"], key: "k1", value: { text: "cat" } });
    expect(item!.createdAt).toBeInstanceOf(Date);
    expect(item!.updatedAt).toBeInstanceOf(Date);

    const ranked = await store.search(["a"], { query: "cat" });
    expect(ranked.map((h) => [h.key, h.score])).toEqual([
      ["k1", 1],
      ["k2", undefined],
    ]);
    const plain = await store.search(["a"], { filter: { n: { $gte: 2 } } });
    expect(plain.map((h) => h.key)).toEqual(["k2"]);
    expect(plain[0]).not.toHaveProperty("score");

    expect(await store.listNamespaces({ prefix: ["a"], maxDepth: 2 })).toEqual([
      ["a", "b"],
      ["a", "c"],
    ]);
    expect(await store.listNamespaces({ suffix: ["c"] })).toEqual([["a", "c"]]);
    await store.delete(["a", "b"], "k1");
    expect(await store.get(["a", "b"], "k1")).toBeNull();
  });

  it("runs a batch's reads before its writes; the last put to an item wins; puts are embedded together", async () => {
    await store.put(["x"], "k", { text: "before" });
    const spy = vi.spyOn(storage.storeItems, "put");
    const operations: Operation[] = [
      { namespace: ["x"], key: "k" },
      { namespace: ["x"], key: "k", value: { text: "dog" } },
      { namespace: ["x"], key: "k", value: { text: "cat" } },
      { namespacePrefix: ["x"], limit: 10, offset: 0 },
      { namespace: ["x"], key: "other", value: { text: "car" } },
    ];
    const results = await store.batch(operations);
    const read = results[0] as Item | null;
    const search = results[3] as SearchItem[];
    expect(read?.value).toEqual({ text: "before" });
    expect(search.map((h) => h.value)).toEqual([{ text: "before" }]);
    expect(spy).toHaveBeenCalledTimes(2);
    expect((await store.get(["x"], "k"))?.value).toEqual({ text: "cat" });
    expect((await store.search(["x"], { query: "cat" }))[0]?.key).toBe("k");
  });

  it("applies the namespace rules of the LangGraph stores as 422 errors", async () => {
    await expect(store.putItem({ namespace: [], key: "k", value: {} })).rejects.toThrow(InvalidStoreRequestError);
    await expect(store.putItem({ namespace: ["langgraph"], key: "k", value: {} })).rejects.toThrow(/langgraph/);
    await expect(store.getItem(["a", ""], "k")).rejects.toMatchObject({ kind: "invalid" });
    await expect(store.searchItems({ namespacePrefix: ["a.b"] })).rejects.toMatchObject({ kind: "invalid" });
    expect(await store.getItem(["langgraph"], "k")).toBeNull();
    await expect(store.put(["a"], "k", ["not", "an", "object"] as never)).rejects.toThrow(/expected a JSON object/);
  });
});

describe("store sweeper", () => {
  const repository = (nextExpiry: () => string | null) => {
    const calls = { deleteExpired: 0 };
    const items = {
      deleteExpired: vi.fn(async () => {
        calls.deleteExpired++;
        return 0;
      }),
      nextExpiry: vi.fn(async () => nextExpiry()),
    } as unknown as StoreItemsRepository;
    return { items, calls };
  };
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: Date.parse("2030-01-01T00:00:00Z") });
  });
  afterEach(() => vi.useRealTimers());
  const at = (ms: number) => new Date(Date.parse("2030-01-01T00:00:00Z") + ms).toISOString();

  it("sweeps at start, then at the earliest expiry; an earlier put moves it", async () => {
    let next: string | null = at(10_000);
    const { items, calls } = repository(() => next);
    const sweeper = new StoreSweeper(items, silent);
    await sweeper.start();
    expect(calls.deleteExpired).toBe(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(calls.deleteExpired).toBe(1);
    next = null;
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.deleteExpired).toBe(2);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls.deleteExpired).toBe(2); // nothing left to expire: no timer at all

    sweeper.expiresAt(at(3_600_000 + 500));
    await vi.advanceTimersByTimeAsync(500);
    expect(calls.deleteExpired).toBe(3);
    await sweeper.stop();
  });

  it("sweeps every sweep_interval_minutes when configured, ignoring individual expiries", async () => {
    const { items, calls } = repository(() => at(1000));
    const sweeper = new StoreSweeper(items, silent, 2);
    await sweeper.start();
    sweeper.expiresAt(at(1000));
    await vi.advanceTimersByTimeAsync(119_999);
    expect(calls.deleteExpired).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.deleteExpired).toBe(2);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls.deleteExpired).toBe(3);
    await sweeper.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls.deleteExpired).toBe(3);
  });

  it("retries a failed sweep a minute later instead of spinning", async () => {
    let failures = 1;
    const deleteExpired = vi.fn(async () => {
      if (failures-- > 0) throw new Error("disk full");
      return 1;
    });
    const items = { deleteExpired, nextExpiry: async () => null } as unknown as StoreItemsRepository;
    const sweeper = new StoreSweeper(items, silent);
    await sweeper.start();
    expect(deleteExpired).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(deleteExpired).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(deleteExpired).toHaveBeenCalledTimes(2);
    await sweeper.stop();
  });
});
