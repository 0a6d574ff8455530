/**
 * Memory benchmark (`npm run bench:memory`): what a server serving examples/langgraph.json holds
 * idle, and after 1k and 10k runs.
 *
 *  1. `npm start`'s process (bin/lgts.js serve, as deployed): its RSS once it listens and has
 *     settled (BENCH_SETTLE_MS, default 5000), read from /proc (Linux).
 *  2. bench/server-child.ts (the same server, run as bin/lgts.js runs it, with --expose-gc): RSS
 *     as it stands, then after full GCs RSS, heap used and committed, external memory and the
 *     young generation, idle, then after BENCH_RUNS_FIRST (1000) and BENCH_RUNS_TOTAL (10000)
 *     runs of the trivial graph, BENCH_CLIENTS (50) at a time, in three phases:
 *     - thread runs on the embedded store, each on a new thread: the store keeps every thread, run
 *       and checkpoint in memory, so the process grows with the data;
 *     - stateless runs on the embedded store (`runs.wait(null, ...)`): nothing is kept per run, so
 *       what grows is waste or a leak;
 *     - with DATABASE_URI (a PostgreSQL server the bench may create databases on): thread runs on
 *       PostgreSQL (a database of its own, dropped at the end): the process keeps nothing per run.
 *
 * Target (issue 20): idle RSS at most 150 MiB; RSS after 10k runs within 20% of after 1k.
 * BENCH_MEMORY_PHASES=thread,stateless,postgres (default all): the phases to run.
 * BENCH_RUNS_BASELINE=<another checkout, with its node_modules>: its figures are printed too
 * (memory figures barely move with the machine's load, so the two are measured one after the other).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { benchClient, loadAverages, serveChild, ServerProcess, type ServerHeap } from "./support.js";

const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 5000);
const FIRST = Number(process.env.BENCH_RUNS_FIRST ?? 1000);
const TOTAL = Number(process.env.BENCH_RUNS_TOTAL ?? 10000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const PHASES = new Set((process.env.BENCH_MEMORY_PHASES ?? "thread,stateless,postgres").split(","));
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

type RunKind = "thread" | "stateless";

async function runs(url: string, count: number, kind: RunKind): Promise<void> {
  const client = benchClient(url);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      if (kind === "stateless") {
        await client.runs.wait(null, "trivial", { input: { value: 1 } });
      } else {
        const { thread_id } = await client.threads.create();
        await client.runs.wait(thread_id, "trivial", { input: { value: 1 } });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CLIENTS, count) }, worker));
}

interface Phase {
  name: string;
  kind: RunKind;
  /** PostgreSQL storage on this database, else the embedded store. */
  databaseUri?: string;
}

function describeHeap(heap: ServerHeap): string {
  const more = (label: string, value: number | undefined) => (value === undefined ? "" : `   ${label} ${mib(value)}`);
  return (
    `RSS ${mib(heap.rss).padStart(10)}${more("before GC", heap.rssBeforeGc)}   heap used ${mib(heap.heapUsed)}${more("of", heap.heapTotal)}` +
    `${more("young generation", heap.youngGeneration)}${more("external", heap.external)}${more("malloc arena", heap.mallocArena)}`
  );
}

async function underLoad(checkout: string | undefined, label: string, phase: Phase): Promise<void> {
  const config = path.join(checkout ?? ours, "examples/langgraph.json");
  await withDataDir(async (dataDir) => {
    const server = await ServerProcess.start({
      config,
      dataDir,
      ...(checkout ? { checkout } : {}),
      ...(phase.databaseUri ? { databaseUri: phase.databaseUri } : {}),
    });
    try {
      const line = async (when: string) => {
        const heap = await server.heap();
        console.log(`${label}  ${phase.name}  ${when.padEnd(16)} ${describeHeap(heap)}`);
        return heap;
      };
      await sleep(SETTLE_MS);
      await line("idle");
      await runs(server.url, FIRST, phase.kind);
      const first = await line(`after ${FIRST} runs`);
      await runs(server.url, TOTAL - FIRST, phase.kind);
      const total = await line(`after ${TOTAL} runs`);
      const perRun = (key: "rss" | "heapUsed") => `${((total[key] - first[key]) / (TOTAL - FIRST) / 1024).toFixed(1)} KiB`;
      console.log(
        `${label}  ${phase.name}  RSS after ${TOTAL} / after ${FIRST}: ${(total.rss / first.rss).toFixed(2)} (target <= 1.20); ` +
          `per run between them: RSS ${perRun("rss")}, heap used ${perRun("heapUsed")}`,
      );
    } finally {
      await server.stop();
    }
  });
}

/** A database of its own on the PostgreSQL server of `serverUri`, dropped once `work` is done. */
async function withDatabase<T>(serverUri: string, name: string, work: (uri: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUri });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const uri = new URL(serverUri);
    uri.pathname = `/${name}`;
    try {
      return await work(uri.toString());
    } finally {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

const ours = fileURLToPath(new URL("..", import.meta.url));
const baseline = process.env.BENCH_RUNS_BASELINE;
// the embedded phases must not find it in the servers' environment
const databaseUri = process.env.DATABASE_URI;
delete process.env.DATABASE_URI;
const versions: [string | undefined, string][] = [[undefined, "ours"], ...(baseline ? [[baseline, "base"] as [string, string]] : [])];

console.log(`bench:memory  ${loadAverages()}`);
console.log(`ours  npm start idle RSS: ${mib(await npmStartIdle(ours))} (target <= 150 MiB)`);
if (baseline) console.log(`base  npm start idle RSS: ${mib(await npmStartIdle(baseline))}`);
for (const phase of [
  { name: "thread runs, embedded", kind: "thread" },
  { name: "stateless runs, embedded", kind: "stateless" },
] as Phase[]) {
  if (!PHASES.has(phase.kind)) continue;
  for (const [checkout, label] of versions) await underLoad(checkout, label, phase);
}
if (databaseUri && PHASES.has("postgres")) {
  for (const [checkout, label] of versions) {
    await withDatabase(databaseUri, `lgts_bench_memory_${label}_${process.pid}`, (uri) =>
      underLoad(checkout, label, { name: "thread runs, PostgreSQL", kind: "thread", databaseUri: uri }),
    );
  }
}
console.log(`bench:memory  ${loadAverages()}`);
