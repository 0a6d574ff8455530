/**
 * Storage benchmark (`npm run bench:store`).
 *
 * For each size (1k, 10k, 100k threads):
 *  1. bulk-load that many threads through the Storage interface into a temp dir
 *     (concurrent create + update, so group commit batches the writes);
 *  2. in a fresh child process, as a restarted server would be: open the store
 *     (startup = open + load), then run sequential create/get/patch/delete
 *     (BENCH_OPS each) and a few searches, recording latency p50/p99, the
 *     longest synchronous part of any shard write, and the longest event-loop
 *     delay seen by monitorEventLoopDelay while writing.
 *
 * Options (env): BENCH_SIZES=1000,10000,100000  BENCH_OPS=2000  BENCH_KEEP=1
 * With DATABASE_URI set, the same measurements run on PostgreSQL instead (bench/store-postgres.ts).
 * Exits 1 if a target is missed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { LowdbStorage } from "../src/storage/lowdb/storage.js";
import { metadataFor, timed, valuesFor, type OpStats } from "./store-common.js";

const SIZES = (process.env.BENCH_SIZES ?? "1000,10000,100000").split(",").map(Number);
const OPS = Number(process.env.BENCH_OPS ?? 2000);
const SEARCH_OPS = 100;
const BULK_BATCH = 20_000;
const TARGETS = { p99Ms: 25, ratio: 2, blockMs: 50, startupMs: 5000 };
const WRITE_OPS = ["create", "get", "patch", "delete"] as const;

interface Measured {
  startupMs: number;
  ops: Record<(typeof WRITE_OPS)[number] | "search", OpStats>;
  maxLoopDelayMs: number;
  maxWriteBlockMs: number;
  writes: number;
}

interface Result extends Measured {
  size: number;
  bulkLoadMs: number;
  fileMb: number;
}

async function bulkLoad(dir: string, size: number): Promise<number> {
  const storage = await LowdbStorage.open({ dataDir: dir });
  const t0 = performance.now();
  for (let start = 0; start < size; start += BULK_BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BULK_BATCH, size - start) }, async (_, j) => {
        const t = await storage.threads.create({ metadata: metadataFor(start + j) });
        await storage.threads.update(t.thread_id, { values: valuesFor(start + j) });
      }),
    );
  }
  const ms = performance.now() - t0;
  await storage.close();
  return ms;
}

/** Runs in the child process. */
async function measure(dir: string, size: number): Promise<Measured> {
  const t0 = performance.now();
  const storage = await LowdbStorage.open({ dataDir: dir });
  const startupMs = performance.now() - t0;
  if (storage.stats().threads.records !== size) throw new Error("store does not hold the bulk-loaded threads");
  const { items } = await storage.threads.search({ limit: size });
  const ids = items.map((t) => t.thread_id);
  const pick = (i: number) => ids[(i * 7919) % ids.length];

  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const created: string[] = [];
  const create = await timed(OPS, async (i) => {
    created.push((await storage.threads.create({ metadata: metadataFor(size + i) })).thread_id);
  });
  const get = await timed(OPS, (i) => storage.threads.get(pick(i)));
  const patch = await timed(OPS, (i) => storage.threads.patch(pick(i), { metadata: { seen: i } }));
  const del = await timed(OPS, (i) => storage.threads.delete(created[i]));
  loop.disable();
  const search = await timed(SEARCH_OPS, (i) => storage.threads.search({ filter: { metadata: { user_id: `user-${i}` } }, limit: 10 }));
  const { maxWriteBlockMs, writes } = storage.stats().threads;
  await storage.close();
  return {
    startupMs,
    ops: { create, get, patch, delete: del, search },
    // the histogram's max includes the 1 ms sampling interval itself
    maxLoopDelayMs: Math.max(0, loop.max / 1e6 - 1),
    maxWriteBlockMs,
    writes,
  };
}

function runChild(dir: string, size: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, ["--import", "tsx", self, "--measure", dir, String(size)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`measure child exited with ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!) as Measured);
    });
  });
}

async function dirSizeMb(dir: string): Promise<number> {
  let bytes = 0;
  for (const sub of await readdir(dir)) {
    for (const f of await readdir(path.join(dir, sub))) bytes += (await stat(path.join(dir, sub, f))).size;
  }
  return bytes / 1e6;
}

const f = (x: number, d = 2) => x.toFixed(d);
const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

async function main() {
  const started = performance.now();
  const results: Result[] = [];
  for (const size of SIZES) {
    const dir = await mkdtemp(path.join(tmpdir(), `lgts-bench-${size}-`));
    try {
      process.stderr.write(`${label(size)} threads: bulk load... `);
      const bulkLoadMs = await bulkLoad(dir, size);
      process.stderr.write(`${f(bulkLoadMs / 1000, 1)} s; measuring in a fresh process...\n`);
      const measured = await runChild(dir, size);
      results.push({ size, bulkLoadMs, fileMb: await dirSizeMb(dir), ...measured });
    } finally {
      if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    }
  }

  const row = (name: string, cells: string[]) => console.log(name.padEnd(30) + cells.map((c) => c.padStart(17)).join(""));
  console.log(`\nlowdb storage: ${OPS} sequential ops each, latency in ms (p50 / p99)\n`);
  row(
    "threads stored",
    results.map((r) => label(r.size)),
  );
  for (const op of WRITE_OPS)
    row(
      `${op}`,
      results.map((r) => `${f(r.ops[op].p50)} / ${f(r.ops[op].p99)}`),
    );
  row(
    `search, metadata filter (${SEARCH_OPS})`,
    results.map((r) => `${f(r.ops.search.p50)} / ${f(r.ops.search.p99)}`),
  );
  row(
    "max shard-write block",
    results.map((r) => `${f(r.maxWriteBlockMs)} ms`),
  );
  row(
    "max event-loop delay (writes)",
    results.map((r) => `${f(r.maxLoopDelayMs, 1)} ms`),
  );
  row(
    "shard writes / write ops",
    results.map((r) => `${r.writes} / ${3 * OPS}`),
  );
  row(
    "startup (open + load)",
    results.map((r) => `${f(r.startupMs, 0)} ms`),
  );
  row(
    "bulk load (create+update)",
    results.map((r) => `${f(r.bulkLoadMs / 1000, 1)} s`),
  );
  row(
    "data on disk",
    results.map((r) => `${f(r.fileMb, 1)} MB`),
  );

  const small = results.reduce((a, b) => (b.size < a.size ? b : a));
  const big = results.reduce((a, b) => (b.size > a.size ? b : a));
  if (small !== big) {
    console.log(`\nper-op cost ${label(big.size)} vs ${label(small.size)} (p50 ratio, p99 ratio)`);
    for (const op of WRITE_OPS) {
      console.log(`  ${op.padEnd(8)} ${f(big.ops[op].p50 / small.ops[op].p50)}x  ${f(big.ops[op].p99 / small.ops[op].p99)}x`);
    }
  }

  // get is a sub-0.05 ms in-memory lookup: its ratio is compared with a 0.05 ms floor (timer noise)
  const floor = (op: string, x: number) => (op === "get" ? Math.max(x, 0.05) : x);
  const checks: Array<[string, boolean]> = [
    [`p99 < ${TARGETS.p99Ms} ms for create/get/patch/delete at ${label(big.size)}`, WRITE_OPS.every((op) => big.ops[op].p99 < TARGETS.p99Ms)],
    [
      `p50 at ${label(big.size)} within ${TARGETS.ratio}x of ${label(small.size)}`,
      WRITE_OPS.every((op) => floor(op, big.ops[op].p50) <= TARGETS.ratio * floor(op, small.ops[op].p50)),
    ],
    [`no shard write blocks the loop > ${TARGETS.blockMs} ms`, results.every((r) => r.maxWriteBlockMs < TARGETS.blockMs)],
    [`event-loop delay while writing < ${TARGETS.blockMs} ms`, results.every((r) => r.maxLoopDelayMs < TARGETS.blockMs)],
    [`startup with ${label(big.size)} threads < ${TARGETS.startupMs} ms`, big.startupMs < TARGETS.startupMs],
  ];
  console.log("\ntargets");
  for (const [name, ok] of checks) console.log(`  ${ok ? "PASS" : "FAIL"}  ${name}`);
  console.log(`\ntotal bench time ${f((performance.now() - started) / 1000, 1)} s`);
  if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
}

if (process.env.DATABASE_URI) {
  await (await import("./store-postgres.js")).benchPostgres(process.env.DATABASE_URI);
} else if (process.argv[2] === "--measure") {
  const result = await measure(process.argv[3], Number(process.argv[4]));
  process.stdout.write(JSON.stringify(result) + "\n");
} else {
  await main();
}
