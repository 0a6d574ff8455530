/**
 * Store items on PostgreSQL, the part of `bench:store` (with DATABASE_URI) for the Store API's
 * queries that have no key to look up: namespace listings, searches without a prefix, filtered
 * searches and vector ranking. Loads BENCH_STORE_ITEMS items (default 100k; 0 skips) through the
 * repository, 10 per namespace ["org-<o>", "user-<u>"], each with a 16-dimensional vector, then
 * times each query sequentially and prints p50/p99. The rows a query reads are what
 * test/unit/postgres-plans.test.ts checks; this shows what they cost at this size.
 */
import { performance } from "node:perf_hooks";
import { PostgresStorage } from "../src/storage/postgres/storage.js";
import type { StoreItemsRepository } from "../src/storage/types.js";
import { timed, type OpStats } from "./store-common.js";

const ITEMS = Number(process.env.BENCH_STORE_ITEMS ?? 100_000);
const PER_NAMESPACE = 10;
const USERS_PER_ORG = 100;
const DIMS = 16;
const LOAD_CONCURRENCY = 32;
const OPS = 200;
/** Ranking without a prefix scores every stored vector: fewer rounds. */
const SCAN_OPS = 10;

/** A deterministic pseudo-random vector (the same item always gets the same one). */
function vectorFor(i: number): number[] {
  let x = (i * 2654435761) >>> 0;
  return Array.from({ length: DIMS }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x / 2 ** 32 - 0.5;
  });
}

const namespaceOf = (n: number) => [`org-${Math.floor(n / USERS_PER_ORG)}`, `user-${n % USERS_PER_ORG}`];

async function load(items: StoreItemsRepository): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: LOAD_CONCURRENCY }, async () => {
      for (let i = next++; i < ITEMS; i = next++) {
        const ns = Math.floor(i / PER_NAMESPACE);
        await items.put({
          namespace: namespaceOf(ns),
          key: `k${i % PER_NAMESPACE}`,
          value: { owner: namespaceOf(ns).join("/"), kind: i % 10 === 0 ? "note" : "fact", n: i },
          ttl_minutes: null,
          vectors: [{ field: "$", vector: vectorFor(i) }],
        });
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

export interface StoreItemsResult {
  items: number;
  namespaces: number;
  loadS: number;
  ops: Array<[string, number, OpStats]>;
}

/** `open` gives a storage on an empty schema; the caller drops it afterwards. */
export async function benchStoreItems(open: (poolMax?: number) => Promise<PostgresStorage>): Promise<StoreItemsResult | undefined> {
  if (ITEMS <= 0) return undefined;
  let storage = await open(LOAD_CONCURRENCY);
  const loadS = await load(storage.storeItems);
  await storage.db.query("ANALYZE");
  await storage.close();
  storage = await open();
  const items = storage.storeItems;
  const namespaces = Math.ceil(ITEMS / PER_NAMESPACE);
  const orgs = Math.ceil(namespaces / USERS_PER_ORG);
  const org = (i: number) => `org-${(i * 37) % orgs}`;
  const owner = (i: number) => namespaceOf((i * 7919) % namespaces).join("/");
  const cases: Array<[string, number, (i: number) => Promise<unknown>]> = [
    ["namespaces (first 100)", OPS, () => items.listNamespaces({})],
    ["namespaces, offset 1000", OPS, () => items.listNamespaces({ offset: 1000, limit: 100 })],
    ["namespaces, max_depth 1", OPS, () => items.listNamespaces({ maxDepth: 1 })],
    ["namespaces under an org", OPS, (i) => items.listNamespaces({ prefix: [org(i)] })],
    ["search, no prefix (10 newest)", OPS, () => items.search({ namespacePrefix: [] })],
    ["search, no prefix, filter", OPS, (i) => items.search({ namespacePrefix: [], filter: [{ field: "owner", op: "$eq", operand: owner(i) }] })],
    ["search, org prefix", OPS, (i) => items.search({ namespacePrefix: [org(i)] })],
    ["vector search, org prefix", OPS, (i) => items.search({ namespacePrefix: [org(i)], queryVector: vectorFor(-i) })],
    ["vector search, no prefix", SCAN_OPS, (i) => items.search({ namespacePrefix: [], queryVector: vectorFor(-i) })],
  ];
  const ops: StoreItemsResult["ops"] = [];
  for (const [name, n, op] of cases) ops.push([name, n, await timed(n, op)]);
  await storage.close();
  return { items: ITEMS, namespaces, loadS, ops };
}

export function printStoreItems(r: StoreItemsResult): void {
  const f = (x: number) => x.toFixed(2);
  console.log(`\npostgres store items: ${r.items} items in ${r.namespaces} namespaces (${DIMS}-dim vectors), latency in ms (p50 / p99)\n`);
  for (const [name, n, q] of r.ops) console.log(`${`${name} (${n})`.padEnd(38)}${`${f(q.p50)} / ${f(q.p99)}`.padStart(17)}`);
  console.log(`${"bulk load (put, 32 at once)".padEnd(38)}${`${r.loadS.toFixed(1)} s`.padStart(17)}`);
}
