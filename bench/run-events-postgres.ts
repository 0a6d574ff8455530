/**
 * What the attempt fence costs per batch of run events on PostgreSQL
 * (`DATABASE_URI=... npx tsx bench/run-events-postgres.ts`). An executing process writes a
 * run's events in one INSERT per run and event-loop turn; with its attempt (the fencing token,
 * storage/postgres/run-events.ts) the INSERT also share-locks the run's row and checks that the
 * run is still running under that attempt. Planning that statement costs more than running it,
 * so it is prepared once per connection. This writes the same batches four ways, interleaved
 * round by round (the order rotating), and prints them with their ratios to the first:
 *
 *  - fenced, prepared (what the server does); unfenced, prepared (what the lock and check cost);
 *  - fenced, planned per call (the statement sent as text each time, as before it was prepared);
 *  - unfenced, planned per call (as before the fence);
 *
 *  1. one writer: the latency of a batch (1, 10 and 100 events), p50/p90/p99;
 *  2. BENCH_WRITERS concurrent writers (one run each, as many runs as executing): batches per second.
 *
 * Uses a database of its own (created on the server of DATABASE_URI, dropped at the end).
 * Options (env): BENCH_BATCHES=400 (per variant, round and size)  BENCH_ROUNDS=5  BENCH_WRITERS=10
 */
import pg from "pg";
import { insertRunEvents } from "../src/storage/postgres/run-events.js";
import { PostgresStorage } from "../src/storage/postgres/storage.js";
import type { RunEventRows } from "../src/storage/types.js";
import type { Queryable } from "../src/storage/postgres/database.js";
import { parseRunRequest } from "../src/runtime/runs/request.js";
import { formatQuantiles, loadAverages, median, quantiles } from "./support.js";

const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 10);
const SIZES = [1, 10, 100];

const VARIANTS = ["fenced, prepared", "unfenced, prepared", "fenced, planned per call", "unfenced, planned per call"] as const;
type Variant = (typeof VARIANTS)[number];

interface Writer {
  runId: string;
  threadId: string;
  seq: number;
}

const data = JSON.stringify({ chunk: "x".repeat(200) });

/** The next batch of `size` events of the writer's run; with its attempt when fenced. */
function batchOf(writer: Writer, size: number, variant: Variant): RunEventRows {
  const rows = Array.from({ length: size }, () => ({ seq: ++writer.seq, mode: "custom", ns: "[]", data, checkpoint_id: null }));
  return { threadId: writer.threadId, resumable: false, expiresSeconds: 30, rows, ...(!variant.startsWith("unfenced") ? { attempt: 1 } : {}) };
}

async function runningRuns(storage: PostgresStorage, n: number): Promise<Writer[]> {
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;
  const writers: Writer[] = [];
  for (let i = 0; i < n; i++) {
    const thread = await storage.threads.create();
    const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "enqueue" });
    await storage.runs.update(run.run_id, { status: "running", attempt: 1 });
    writers.push({ runId: run.run_id, threadId: thread.thread_id, seq: 0 });
  }
  return writers;
}

async function write(storage: PostgresStorage, writer: Writer, size: number, variant: Variant): Promise<void> {
  // planned per call: the statement goes as text, without the driver's prepared name
  const db: Queryable = variant.endsWith("prepared") ? storage.db : { query: (text, params) => storage.db.query(text, params) };
  const held = await insertRunEvents(db, writer.runId, batchOf(writer, size, variant));
  if (!held) throw new Error("the run was not held: the bench's runs must stay running");
}

/** Per-batch latencies (ms) of one writer. */
async function latencies(storage: PostgresStorage, writer: Writer, size: number, variant: Variant): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < BATCHES; i++) {
    const started = performance.now();
    await write(storage, writer, size, variant);
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Batches per second of `writers` writing at once. */
async function throughput(storage: PostgresStorage, writers: Writer[], size: number, variant: Variant): Promise<number> {
  const started = performance.now();
  await Promise.all(
    writers.map(async (writer) => {
      for (let i = 0; i < BATCHES / 4; i++) await write(storage, writer, size, variant);
    }),
  );
  return (writers.length * (BATCHES / 4)) / ((performance.now() - started) / 1000);
}

/** Rotates the variants' order round by round, so drift and load hit them alike. */
const order = (round: number): Variant[] => VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);

async function main(): Promise<void> {
  const uri = process.env.DATABASE_URI;
  if (!uri) throw new Error("set DATABASE_URI (a PostgreSQL server the bench may create a database on)");
  const name = `lgts_bench_events_${process.pid}`;
  const admin = new pg.Client({ connectionString: uri });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(uri);
  url.pathname = `/${name}`;
  const storage = await PostgresStorage.open({ uri: url.toString(), poolMax: WRITERS });
  try {
    console.log(`run event batches, ${VARIANTS.join(" / ")}; PostgreSQL ${url.host}; start: ${loadAverages()}`);
    const [single, ...others] = await runningRuns(storage, WRITERS + 1);
    for (const size of SIZES) {
      const lat = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
      const rate = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
      for (const variant of VARIANTS) await latencies(storage, single, size, variant); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of order(round)) lat[variant].push(...(await latencies(storage, single, size, variant)));
        for (const variant of order(round)) rate[variant].push(await throughput(storage, others, size, variant));
      }
      console.log(`batch of ${size} event(s):`);
      const [base] = VARIANTS;
      for (const variant of VARIANTS) {
        const q = quantiles(lat[variant]);
        const p50Ratio = q.p50 / quantiles(lat[base]).p50;
        const rateRatio = median(rate[variant]) / median(rate[base]);
        console.log(
          `  ${variant.padEnd(27)} one writer ${formatQuantiles(q, 3)} (p50 x${p50Ratio.toFixed(2)})  ` +
            `${WRITERS} writers ${median(rate[variant]).toFixed(0)} batches/s (x${rateRatio.toFixed(2)}, median of ${ROUNDS} rounds)`,
        );
      }
    }
    console.log(`end: ${loadAverages()}`);
  } finally {
    await storage.close();
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  }
}

await main();
