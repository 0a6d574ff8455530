/**
 * Run execution benchmark (`npm run bench:runs`): `lgts serve` in a child process (as deployed:
 * HTTP on 127.0.0.1, embedded storage in a temp dir, durable checkpoints), driven by the official
 * SDK from this process.
 *
 *  1. sequential `runs.wait` on the trivial 3-node graph, each on a fresh thread: latency p50/p99
 *     (target p50 < 20 ms);
 *  2. 50 concurrent clients, each on its own thread, looping `runs.wait`: runs per second;
 *  3. with the `stamped` copy of the trivial graph: time from the request to the first graph
 *     step (pickup) and from the last graph step to the client holding the result (delivery).
 *     The JS dev server sleeps up to 1 s between pickups and polls every 500 ms for run ends.
 *     (Both processes read the same system clock.)
 *
 * Options (env): BENCH_RUNS=300 (sequential runs)  BENCH_SECONDS=10 (concurrent phase)
 *   BENCH_CLIENTS=50  BENCH_CONCURRENCY=<engine slots, default 10>  BENCH_DATA_DIR=<dir> (e.g.
 *   on tmpfs, to separate disk from CPU cost)  BENCH_DURABILITY=async|sync|exit (default async)
 *
 * With DATABASE_URI set, the server runs on PostgreSQL, with one and then three processes
 * (bench/runs-postgres.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Client } from "@langchain/langgraph-sdk";
import { formatQuantiles, quantiles, type Quantiles } from "./stats.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
const DURABILITY = (process.env.BENCH_DURABILITY ?? "async") as "async" | "sync" | "exit";
const WARMUP = 30;
const TARGET_P50_MS = 20;

const nowMs = () => performance.timeOrigin + performance.now();

const fmt = (q: Quantiles) => formatQuantiles(q);

/** Starts `lgts serve` and resolves with its URL once it listens. */
async function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const args = [
    fileURLToPath(new URL("../bin/lgts.js", import.meta.url)),
    "serve",
    "--port",
    "0",
    "--config",
    fileURLToPath(new URL("./graphs/langgraph.json", import.meta.url)),
    "--data-dir",
    dataDir,
    ...(CONCURRENCY ? ["--run-concurrency", String(CONCURRENCY)] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "listening" && entry.url) {
      // keep draining the log so the child never blocks on a full pipe
      child.stdout!.resume();
      return { child, url: entry.url };
    }
  }
  throw new Error("the server exited before listening");
}

async function main() {
  const dataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-runs-"));
  const server = await serve(dataDir);
  const client = new Client({ apiUrl: server.url });
  const wait = (threadId: string, graph: string, value: number) =>
    client.runs.wait(threadId, graph, { input: { value }, durability: DURABILITY });
  const thread = async () => (await client.threads.create()).thread_id;
  console.log(`server ${server.url}, data in ${dataDir}, durability ${DURABILITY}, engine slots ${CONCURRENCY ?? "default"}`);

  try {
    // 1. sequential latency
    for (let i = 0; i < WARMUP; i++) await wait(await thread(), "trivial", i);
    const latencies: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const threadId = await thread();
      const started = performance.now();
      const result = (await wait(threadId, "trivial", 1)) as { value: number };
      latencies.push(performance.now() - started);
      if (result.value !== 4) throw new Error(`unexpected result ${JSON.stringify(result)}`);
    }
    const sequential = quantiles(latencies);
    console.log(`\nsequential runs.wait (trivial graph, ${RUNS} runs, a new thread each): ${fmt(sequential)}`);

    // 2. throughput with concurrent clients on distinct threads
    const threads = await Promise.all(Array.from({ length: CLIENTS }, thread));
    let completed = 0;
    const concurrentLatencies: number[] = [];
    const deadline = performance.now() + SECONDS * 1000;
    const startedAt = performance.now();
    await Promise.all(
      threads.map(async (threadId) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          await wait(threadId, "trivial", 1);
          concurrentLatencies.push(performance.now() - t0);
          completed += 1;
        }
      }),
    );
    const elapsed = (performance.now() - startedAt) / 1000;
    console.log(
      `\n${CLIENTS} concurrent clients, distinct threads, ${elapsed.toFixed(1)} s: ${completed} runs, ` +
        `${(completed / elapsed).toFixed(1)} runs/s; per-run latency ${fmt(quantiles(concurrentLatencies))}`,
    );

    // 3. pickup and delivery
    const pickup: number[] = [];
    const delivery: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 200); i++) {
      const threadId = await thread();
      const sent = nowMs();
      const result = (await wait(threadId, "stamped", 0)) as { started_at: number; finished_at: number };
      const received = nowMs();
      pickup.push(result.started_at - sent);
      delivery.push(received - result.finished_at);
    }
    console.log(`\nrequest -> first graph step (pickup):       ${fmt(quantiles(pickup))}`);
    console.log(`last graph step -> client has the result:  ${fmt(quantiles(delivery))}`);

    const verdict = sequential.p50 < TARGET_P50_MS ? "met" : "MISSED";
    console.log(`\ntarget: sequential runs.wait p50 < ${TARGET_P50_MS} ms: ${verdict} (${sequential.p50.toFixed(1)} ms)`);
  } finally {
    server.child.kill("SIGTERM");
    await once(server.child, "exit");
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.env.DATABASE_URI) {
  await (await import("./runs-postgres.js")).benchRunsPostgres(process.env.DATABASE_URI);
} else {
  await main();
}
