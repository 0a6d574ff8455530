/**
 * Memory benchmark (`npm run bench:memory`): what a server serving examples/langgraph.json on the
 * embedded store holds idle, and after 1k and 10k runs.
 *
 *  1. `npm start`'s process (bin/lgts.js serve, as deployed): its RSS once it listens and has
 *     settled (BENCH_SETTLE_MS, default 5000), read from /proc (Linux).
 *  2. bench/server-child.ts (the same server, with --expose-gc): heap used and RSS after full
 *     GCs, idle, then after BENCH_RUNS_FIRST (1000) and BENCH_RUNS_TOTAL (10000) runs of the
 *     trivial graph, BENCH_CLIENTS (50) at a time, each on a new thread (threads and checkpoints
 *     stay stored: the store grows as it would).
 *
 * Target (issue 20): idle RSS at most 150 MiB; RSS after 10k runs within 20% of after 1k.
 * BENCH_RUNS_BASELINE=<another checkout, with its node_modules>: its figures are printed too
 * (memory figures barely move with the machine's load, so the two are measured one after the other).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { benchClient, loadAverages, serveChild, ServerProcess } from "./support.js";

const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 5000);
const FIRST = Number(process.env.BENCH_RUNS_FIRST ?? 1000);
const TOTAL = Number(process.env.BENCH_RUNS_TOTAL ?? 10000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const MiB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function withDataDir<T>(work: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "lgts-bench-memory-"));
  try {
    return await work(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function npmStartIdle(checkout: string): Promise<number> {
  return withDataDir(async (dataDir) => {
    const server = await serveChild(
      ["--config", path.join(checkout, "examples/langgraph.json"), "--data-dir", dataDir],
      process.env,
      path.join(checkout, "bin/lgts.js"),
    );
    try {
      await sleep(SETTLE_MS);
      return await rssOf(server.child.pid!);
    } finally {
      await server.stop();
    }
  });
}

async function runs(url: string, count: number): Promise<void> {
  const client = benchClient(url);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const { thread_id } = await client.threads.create();
      await client.runs.wait(thread_id, "trivial", { input: { value: 1 } });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CLIENTS, count) }, worker));
}

async function underLoad(checkout: string | undefined, label: string): Promise<void> {
  const config = path.join(checkout ?? fileURLToPath(new URL("..", import.meta.url)), "examples/langgraph.json");
  await withDataDir(async (dataDir) => {
    const server = await ServerProcess.start({ config, dataDir, ...(checkout ? { checkout } : {}) });
    try {
      const line = async (when: string) => {
        const heap = await server.heap();
        console.log(`${label}  ${when.padEnd(16)} RSS ${mib(heap.rss).padStart(10)}   heap used ${mib(heap.heapUsed).padStart(10)}`);
        return heap.rss;
      };
      await sleep(SETTLE_MS);
      await line("idle (after GC)");
      await runs(server.url, FIRST);
      const first = await line(`after ${FIRST} runs`);
      await runs(server.url, TOTAL - FIRST);
      const total = await line(`after ${TOTAL} runs`);
      console.log(`${label}  RSS after ${TOTAL} / after ${FIRST}: ${(total / first).toFixed(2)} (target <= 1.20)`);
    } finally {
      await server.stop();
    }
  });
}

const ours = fileURLToPath(new URL("..", import.meta.url));
const baseline = process.env.BENCH_RUNS_BASELINE;
console.log(`bench:memory  ${loadAverages()}`);
console.log(`ours  npm start idle RSS: ${mib(await npmStartIdle(ours))} (target <= 150 MiB)`);
if (baseline) console.log(`base  npm start idle RSS: ${mib(await npmStartIdle(baseline))}`);
await underLoad(undefined, "ours");
if (baseline) await underLoad(baseline, "base");
console.log(`bench:memory  ${loadAverages()}`);
