/**
 * Run execution benchmark (`npm run bench:runs`): `lgts serve` in a child process (as deployed:
 * HTTP on 127.0.0.1, embedded storage in a temp dir, durable checkpoints), driven by the official
 * SDK from this process, measured against its own limit: LangGraph running the same graph
 * in this process (`graph.invoke` with a `MemorySaver`, no HTTP, no disk).
 *
 * Interleaved over BENCH_ROUNDS rounds, each:
 *  1. sequential, each run on a fresh thread: in-process invoke, then our `runs.wait` (latency);
 *  2. BENCH_CLIENTS at a time, each on its own thread, for BENCH_SECONDS: in-process invoke,
 *     then our `runs.wait` (runs per second).
 * Then, with the `stamped` copy of the trivial graph: time from the request to the first graph
 * step (pickup) and from the last graph step to the client holding the result (delivery).
 * (Both processes read the same system clock.)
 *
 * Targets (issue 11): concurrent runs/s at least 50% of in-process at the same concurrency;
 * sequential runs.wait p50 at most the in-process invoke p50 + 4 ms.
 *
 * Options (env): BENCH_RUNS=300 (sequential runs per round)  BENCH_SECONDS=5 (concurrent phase)
 *   BENCH_ROUNDS=2  BENCH_CLIENTS=50  BENCH_CONCURRENCY=<engine slots, default the server's>
 *   BENCH_DATA_DIR=<dir> (e.g. on tmpfs, to separate disk from CPU cost)
 *   BENCH_DURABILITY=async|sync|exit (default async)
 *
 * With DATABASE_URI set, the server runs on PostgreSQL, with one and then three processes
 * (bench/runs-postgres.ts).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setImmediate } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { MemorySaver } from "@langchain/langgraph";
import { Client } from "@langchain/langgraph-sdk";
import { graph as trivialGraph } from "../examples/src/trivial.js";
import { formatQuantiles as fmt, quantiles, serveChild } from "./support.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
const DURABILITY = (process.env.BENCH_DURABILITY ?? "async") as "async" | "sync" | "exit";
const WARMUP = 30;
const TARGET_THROUGHPUT_RATIO = 0.5;
const TARGET_EXTRA_P50_MS = 4;

const nowMs = () => performance.timeOrigin + performance.now();

/**
 * An event-loop turn between runs, for both sides. In-process invokes chain microtasks only: without
 * it this process would not see, for seconds, that the server closed idle keep-alive sockets, and
 * would send its next requests on dead sockets.
 */
const turn = () => setImmediate();

/** One run: resolves with its output, which must be {value: 4}. */
type RunOnce = (threadId: string) => Promise<unknown>;

function checkResult(result: unknown) {
  if ((result as { value?: number }).value !== 4) throw new Error(`unexpected result ${JSON.stringify(result)}`);
}

async function sequential(run: RunOnce, newThread: () => Promise<string>, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    await turn();
    const threadId = await newThread();
    const started = performance.now();
    checkResult(await run(threadId));
    latencies.push(performance.now() - started);
  }
  return latencies;
}

/** CLIENTS loops on their own threads for SECONDS; returns runs completed and the elapsed seconds. */
async function concurrent(run: RunOnce, threads: string[]): Promise<{ runs: number; seconds: number }> {
  let runs = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    threads.map(async (threadId) => {
      while (performance.now() < deadline) {
        await turn();
        checkResult(await run(threadId));
        runs += 1;
      }
    }),
  );
  return { runs, seconds: (performance.now() - started) / 1000 };
}

async function main() {
  const dataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-runs-"));
  const server = await serveChild([
    "--config",
    fileURLToPath(new URL("./graphs/langgraph.json", import.meta.url)),
    "--data-dir",
    dataDir,
    ...(CONCURRENCY ? ["--run-concurrency", String(CONCURRENCY)] : []),
  ]);
  const client = new Client({ apiUrl: server.url });
  const ours: RunOnce = (threadId) =>
    client.runs.wait(threadId, "trivial", { input: { value: 1 }, durability: DURABILITY });
  const ourThread = async () => (await client.threads.create()).thread_id;

  const inProcessGraph = trivialGraph.withConfig({});
  inProcessGraph.checkpointer = new MemorySaver();
  const inProcess: RunOnce = (threadId) =>
    inProcessGraph.invoke({ value: 1 }, { configurable: { thread_id: threadId }, durability: DURABILITY });
  const inProcessThread = async () => randomUUID();

  console.log(
    `server ${server.url}, data in ${dataDir}, durability ${DURABILITY}, engine slots ${CONCURRENCY ?? "default"}; ` +
      `${ROUNDS} interleaved rounds (${RUNS} sequential runs, then ${CLIENTS} clients for ${SECONDS} s)`,
  );

  try {
    await sequential(inProcess, inProcessThread, WARMUP);
    await sequential(ours, ourThread, WARMUP);
    const latency = { inProcess: [] as number[], ours: [] as number[] };
    const throughput = { inProcess: { runs: 0, seconds: 0 }, ours: { runs: 0, seconds: 0 } };
    const ourThreads = await Promise.all(Array.from({ length: CLIENTS }, ourThread));
    const inProcessThreads = await Promise.all(Array.from({ length: CLIENTS }, inProcessThread));
    for (let round = 0; round < ROUNDS; round++) {
      latency.inProcess.push(...(await sequential(inProcess, inProcessThread, RUNS)));
      latency.ours.push(...(await sequential(ours, ourThread, RUNS)));
      for (const [name, run, threads] of [
        ["inProcess", inProcess, inProcessThreads],
        ["ours", ours, ourThreads],
      ] as const) {
        const { runs, seconds } = await concurrent(run, threads);
        throughput[name].runs += runs;
        throughput[name].seconds += seconds;
      }
    }
    const seqOurs = quantiles(latency.ours);
    const seqInProcess = quantiles(latency.inProcess);
    const rateOurs = throughput.ours.runs / throughput.ours.seconds;
    const rateInProcess = throughput.inProcess.runs / throughput.inProcess.seconds;

    console.log(`\nsequential, a new thread each (${latency.ours.length} runs):`);
    console.log(`  in-process invoke:  ${fmt(seqInProcess, 2)}`);
    console.log(`  ours runs.wait:     ${fmt(seqOurs, 2)}`);
    const extra = seqOurs.p50 - seqInProcess.p50;
    console.log(
      `  p50 difference ${extra.toFixed(2)} ms; target at most +${TARGET_EXTRA_P50_MS} ms: ${extra <= TARGET_EXTRA_P50_MS ? "met" : "MISSED"}`,
    );
    console.log(`\n${CLIENTS} at a time, distinct threads:`);
    console.log(`  in-process invoke:  ${rateInProcess.toFixed(1)} runs/s`);
    console.log(`  ours runs.wait:     ${rateOurs.toFixed(1)} runs/s`);
    const ratio = rateOurs / rateInProcess;
    console.log(
      `  ratio ${ratio.toFixed(2)}; target at least ${TARGET_THROUGHPUT_RATIO}: ${ratio >= TARGET_THROUGHPUT_RATIO ? "met" : "MISSED"}`,
    );

    const pickup: number[] = [];
    const delivery: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 200); i++) {
      const threadId = await ourThread();
      const sent = nowMs();
      const result = (await client.runs.wait(threadId, "stamped", { input: { value: 0 }, durability: DURABILITY })) as {
        started_at: number;
        finished_at: number;
      };
      const received = nowMs();
      pickup.push(result.started_at - sent);
      delivery.push(received - result.finished_at);
    }
    console.log(`\nrequest -> first graph step (pickup):       ${fmt(quantiles(pickup))}`);
    console.log(`last graph step -> client has the result:  ${fmt(quantiles(delivery))}`);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.env.DATABASE_URI) {
  await (await import("./runs-postgres.js")).benchRunsPostgres(process.env.DATABASE_URI);
} else {
  await main();
}
