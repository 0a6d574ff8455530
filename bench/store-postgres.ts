/**
 * Storage benchmark on PostgreSQL (`DATABASE_URI=postgres://... npm run bench:store`).
 *
 * Works in a schema of its own (`lgts_bench`, dropped at the end) so the database's own data is
 * never touched. For each size (BENCH_SIZES, default 1k,10k,100k threads): bulk-load that many
 * threads through the Storage interface (create + update with values, concurrently), then run
 * BENCH_OPS sequential create/get/patch/delete and 100 metadata searches, printing p50/p99.
 * Then the store items part (bench/store-items-postgres.ts: namespace listings, searches without
 * a prefix, vector ranking at BENCH_STORE_ITEMS items). Exits 1 if a target is missed.
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import { PostgresStorage } from "../src/storage/postgres/storage.js";
import { metadataFor, timed, valuesFor, type OpStats } from "./store-common.js";
import { benchStoreItems, printStoreItems, type StoreItemsResult } from "./store-items-postgres.js";
import { loadAverages } from "./support.js";

const SIZES = (process.env.BENCH_SIZES ?? "1000,10000,100000").split(",").map(Number);
const OPS = Number(process.env.BENCH_OPS ?? 2000);
const SEARCH_OPS = 100;
const LOAD_CONCURRENCY = 32;
const SCHEMA = "lgts_bench";
const TARGETS = { p99Ms: 25, ratio: 2 };
const OPS_NAMES = ["create", "get", "patch", "delete"] as const;

async function admin(uri: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The URI with the benchmark's schema first on the search path. */
function inSchema(uri: string): string {
  const url = new URL(uri);
  url.searchParams.set("options", `-c search_path=${SCHEMA},public`);
  return url.toString();
}

interface Result {
  size: number;
  loadS: number;
  openMs: number;
  ops: Record<(typeof OPS_NAMES)[number] | "search", OpStats>;
}

async function benchSize(uri: string, size: number): Promise<Result> {
  await admin(uri, `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
  const t0 = performance.now();
  let storage = await PostgresStorage.open({ uri: inSchema(uri), poolMax: LOAD_CONCURRENCY });
  let next = 0;
  await Promise.all(
    Array.from({ length: LOAD_CONCURRENCY }, async () => {
      for (let i = next++; i < size; i = next++) {
        const t = await storage.threads.create({ metadata: metadataFor(i) });
        await storage.threads.update(t.thread_id, { values: valuesFor(i) });
      }
    }),
  );
  const loadS = (performance.now() - t0) / 1000;
  await storage.db.query("ANALYZE");
  await storage.close();

  const opened = performance.now();
  storage = await PostgresStorage.open({ uri: inSchema(uri) });
  const openMs = performance.now() - opened;
  const { rows } = await storage.db.query<{ thread_id: string }>("SELECT thread_id FROM threads ORDER BY random() LIMIT 5000");
  const pick = (i: number) => rows[(i * 7919) % rows.length].thread_id;
  const created: string[] = [];
  const create = await timed(OPS, async (i) => created.push((await storage.threads.create({ metadata: metadataFor(size + i) })).thread_id));
  const get = await timed(OPS, (i) => storage.threads.get(pick(i)));
  const patch = await timed(OPS, (i) => storage.threads.patch(pick(i), { metadata: { seen: i } }));
  const del = await timed(OPS, (i) => storage.threads.delete(created[i]));
  const search = await timed(SEARCH_OPS, (i) => storage.threads.search({ filter: { metadata: { user_id: `user-${i}` } }, limit: 10 }));
  await storage.close();
  return { size, loadS, openMs, ops: { create, get, patch, delete: del, search } };
}

export async function benchPostgres(uri: string): Promise<void> {
  const started = performance.now();
  const results: Result[] = [];
  let store: StoreItemsResult | undefined;
  try {
    for (const size of SIZES) {
      process.stderr.write(`${size} threads: bulk load and measure... `);
      const r = await benchSize(uri, size);
      process.stderr.write(`${r.loadS.toFixed(1)} s load\n`);
      results.push(r);
    }
    process.stderr.write("store items: bulk load and measure...\n");
    await admin(uri, `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    store = await benchStoreItems((poolMax) => PostgresStorage.open({ uri: inSchema(uri), poolMax }));
  } finally {
    await admin(uri, `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  }
  const f = (x: number, d = 2) => x.toFixed(d);
  const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
  const row = (name: string, cells: string[]) => console.log(name.padEnd(30) + cells.map((c) => c.padStart(17)).join(""));
  console.log(`\npostgres storage: ${OPS} sequential ops each, latency in ms (p50 / p99)\n`);
  row(
    "threads stored",
    results.map((r) => label(r.size)),
  );
  for (const op of OPS_NAMES)
    row(
      op,
      results.map((r) => `${f(r.ops[op].p50)} / ${f(r.ops[op].p99)}`),
    );
  row(
    `search, metadata filter (${SEARCH_OPS})`,
    results.map((r) => `${f(r.ops.search.p50)} / ${f(r.ops.search.p99)}`),
  );
  row(
    "open (connect + migrations)",
    results.map((r) => `${f(r.openMs, 0)} ms`),
  );
  row(
    "bulk load (create+update)",
    results.map((r) => `${f(r.loadS, 1)} s`),
  );
  const small = results.reduce((a, b) => (b.size < a.size ? b : a));
  const big = results.reduce((a, b) => (b.size > a.size ? b : a));
  const checks: Array<[string, boolean]> = [
    [`p99 < ${TARGETS.p99Ms} ms for create/get/patch/delete at ${label(big.size)}`, OPS_NAMES.every((op) => big.ops[op].p99 < TARGETS.p99Ms)],
    [
      `p50 at ${label(big.size)} within ${TARGETS.ratio}x of ${label(small.size)}`,
      OPS_NAMES.every((op) => big.ops[op].p50 <= TARGETS.ratio * small.ops[op].p50),
    ],
  ];
  if (store) printStoreItems(store);
  console.log(`\n${loadAverages()}`);
  console.log("\ntargets");
  for (const [name, ok] of checks) console.log(`  ${ok ? "PASS" : "FAIL"}  ${name}`);
  console.log(`\ntotal bench time ${f((performance.now() - started) / 1000, 1)} s`);
  if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
}
