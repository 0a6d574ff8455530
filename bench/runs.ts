/**
 * Run execution benchmark (`npm run bench:runs`): the server in a child process (bench/server-child.ts:
 * HTTP on 127.0.0.1, embedded storage in a temp dir, durable checkpoints), driven by the official
 * SDK from this process, measured against its own limit: LangGraph running the same graph
 * in this process (`graph.invoke` with a `MemorySaver`, no HTTP, no disk).
 *
 * The machine is shared and noisy, so both sides are measured interleaved, and each target is
 * judged on the median over BENCH_ROUNDS rounds of that round's own comparison:
 *  1. sequential, each run on a fresh thread, alternating one in-process invoke and one of our
 *     `runs.wait` (latency; the round's p50 difference);
 *  2. BENCH_CLIENTS at a time, each on its own thread, for BENCH_SECONDS: in-process invoke, then
 *     our `runs.wait` (runs per second; the round's ratio).
 * Next to the times, figures the load barely moves: CPU milliseconds per run (in-process; ours =
 * the server process + this process's SDK client) and, per run, the commit log lines (storage
 * mutations) and flushes (each one fsync) of the server. The concurrent phase also prints the
 * median of in-process CPU per run over the server's: the throughput ratio the server would reach
 * with its core always busy (the SDK client runs in this process, on the other core).
 * Then, with the `stamped` copy of the trivial graph: time from the request to the first graph
 * step (pickup) and from the last graph step to the client holding the result (delivery).
 * (Both processes read the same system clock.)
 *
 * Targets (issue 11): concurrent runs/s at least 50% of in-process at the same concurrency;
 * sequential runs.wait p50 at most the in-process invoke p50 + 4 ms.
 *
 * Options (env): BENCH_RUNS=200 (sequential runs per round and side)  BENCH_SECONDS=3 (concurrent
 *   phase, per round and side)  BENCH_ROUNDS=5  BENCH_CLIENTS=50
 *   BENCH_CONCURRENCY=<engine slots, default the server's>
 *   BENCH_DATA_DIR=<dir> (e.g. on tmpfs, to separate disk from CPU cost)
 *   BENCH_DURABILITY=async|sync|exit (default async)
 *   BENCH_RUNS_BASELINE=<another checkout> (e.g. `git worktree add /tmp/old main`, with its
 *     node_modules): its server runs too, interleaved with ours run by run, and every figure is
 *     also printed for it ("base"): how an optimisation's gain is shown in one run
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
import type { Client } from "@langchain/langgraph-sdk";
import { graph as trivialGraph } from "../examples/src/trivial.js";
import { formatQuantiles as fmt, loadAverages, median, quantiles, ServerProcess, type ServerStats, benchClient } from "./support.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
const DURABILITY = (process.env.BENCH_DURABILITY ?? "async") as "async" | "sync" | "exit";
const BASELINE = process.env.BENCH_RUNS_BASELINE;
const WARMUP = 30;
const TARGET_THROUGHPUT_RATIO = 0.5;
const TARGET_EXTRA_P50_MS = 4;

const nowMs = () => performance.timeOrigin + performance.now();
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * An event-loop turn between runs, for both sides. In-process invokes chain microtasks only: without
 * it this process would not see, for seconds, that the server closed idle keep-alive sockets, and
 * would send its next requests on dead sockets.
 */
const turn = () => setImmediate();

/** One run: resolves with its output, which must be {value: 4}. */
type RunOnce = (threadId: string) => Promise<unknown>;

interface Side {
  run: RunOnce;
  newThread: () => Promise<string>;
}

function checkResult(result: unknown) {
  if ((result as { value?: number }).value !== 4) throw new Error(`unexpected result ${JSON.stringify(result)}`);
}

/** Timed runs, each on a new thread; also this process's CPU time spent in them. */
class Sequence {
  readonly latencies: number[] = [];
  clientCpuMs = 0;

  constructor(private readonly side: Side) {}

  async once(): Promise<void> {
    await turn();
    const threadId = await this.side.newThread();
    const cpu = cpuMs();
    const started = performance.now();
    checkResult(await this.side.run(threadId));
    this.latencies.push(performance.now() - started);
    this.clientCpuMs += cpuMs() - cpu;
  }
}

/** CLIENTS loops on their own threads for SECONDS; returns runs completed, elapsed seconds and this process's CPU. */
async function concurrent(run: RunOnce, threads: string[]): Promise<{ runs: number; seconds: number; clientCpuMs: number }> {
  let runs = 0;
  const cpu = cpuMs();
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
  return { runs, seconds: (performance.now() - started) / 1000, clientCpuMs: cpuMs() - cpu };
}

/** What the server spent between two of its stats, per run. */
function serverCost(before: ServerStats, after: ServerStats, runs: number) {
  return {
    cpuMs: (after.cpuMs - before.cpuMs) / runs,
    appends: (after.logAppends - before.logAppends) / runs,
    flushes: (after.logFlushes - before.logFlushes) / runs,
  };
}

const per = (figure: number, digits = 2) => figure.toFixed(digits);

/** A server under measurement: ours, or the baseline checkout's. */
interface ServerSide extends Side {
  name: string;
  server: ServerProcess;
  client: Client;
  dataDir: string;
  threads: string[];
}

async function startSide(name: string, checkout?: string): Promise<ServerSide> {
  const dataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), `lgts-bench-runs-${name}-`));
  const server = await ServerProcess.start({
    config: fileURLToPath(new URL("./graphs/langgraph.json", import.meta.url)),
    dataDir,
    concurrency: CONCURRENCY,
    ...(checkout ? { checkout } : {}),
  });
  const client = benchClient(server.url);
  return {
    name,
    server,
    client,
    dataDir,
    threads: [],
    run: (threadId) => client.runs.wait(threadId, "trivial", { input: { value: 1 }, durability: DURABILITY }),
    newThread: async () => (await client.threads.create()).thread_id,
  };
}

/** One round of sequential runs on every side, alternating (the servers' order flips every run). */
async function sequentialRound(inProcess: Side, servers: ServerSide[]) {
  const seqIn = new Sequence(inProcess);
  const seqServers = servers.map((side) => new Sequence(side));
  const before = await Promise.all(servers.map((side) => side.server.stats()));
  for (let i = 0; i < RUNS; i++) {
    await seqIn.once();
    const order = i % 2 === 0 ? seqServers : [...seqServers].reverse();
    for (const sequence of order) await sequence.once();
  }
  const after = await Promise.all(servers.map((side) => side.server.stats()));
  return { seqIn, seqServers, costs: servers.map((_, i) => serverCost(before[i], after[i], RUNS)) };
}

/** Request -> first graph step and last graph step -> client has the result, `stamped` graph. */
async function stampedRun(side: ServerSide, pickup: number[], delivery: number[]): Promise<void> {
  const threadId = await side.newThread();
  const sent = nowMs();
  const result = (await side.client.runs.wait(threadId, "stamped", { input: { value: 0 }, durability: DURABILITY })) as {
    started_at: number;
    finished_at: number;
  };
  const received = nowMs();
  pickup.push(result.started_at - sent);
  delivery.push(received - result.finished_at);
}

async function main() {
  const ours = await startSide("ours");
  const base = BASELINE ? await startSide("base", BASELINE) : undefined;
  const servers = base ? [ours, base] : [ours];
  const inProcessGraph = trivialGraph.withConfig({});
  inProcessGraph.checkpointer = new MemorySaver();
  const inProcess: Side = {
    run: (threadId) => inProcessGraph.invoke({ value: 1 }, { configurable: { thread_id: threadId }, durability: DURABILITY }),
    newThread: async () => randomUUID(),
  };

  console.log(
    `server ${ours.server.url}, data in ${ours.dataDir}${base ? `; baseline ${BASELINE} ${base.server.url}` : ""}; ` +
      `durability ${DURABILITY}, engine slots ${CONCURRENCY ?? "default"}; ` +
      `${ROUNDS} rounds (${RUNS} sequential runs a side, alternating, then ${CLIENTS} clients for ${SECONDS} s a side)`,
  );
  console.log(`start: ${loadAverages()}`);

  try {
    const warmIn = new Sequence(inProcess);
    const warmServers = servers.map((side) => new Sequence(side));
    for (let i = 0; i < WARMUP; i++) {
      await warmIn.once();
      for (const sequence of warmServers) await sequence.once();
    }
    for (const side of servers) side.threads = await Promise.all(Array.from({ length: CLIENTS }, side.newThread));
    const inProcessThreads = await Promise.all(Array.from({ length: CLIENTS }, inProcess.newThread));

    const seqRows: string[] = [];
    const concRows: string[] = [];
    const extras: number[] = [];
    const baseGains: number[] = [];
    const ratios: number[] = [];
    const baseRatios: number[] = [];
    const cpuRatios: number[] = [];
    const all = { inProcess: [] as number[], ours: [] as number[], base: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      const { seqIn, seqServers, costs } = await sequentialRound(inProcess, servers);
      const pIn = quantiles(seqIn.latencies).p50;
      const pOurs = quantiles(seqServers[0].latencies).p50;
      extras.push(pOurs - pIn);
      all.inProcess.push(...seqIn.latencies);
      all.ours.push(...seqServers[0].latencies);
      const cpu = (i: number) => per(costs[i].cpuMs + seqServers[i].clientCpuMs / RUNS);
      let baseCells = "";
      if (base) {
        const pBase = quantiles(seqServers[1].latencies).p50;
        baseGains.push(pBase - pOurs);
        all.base.push(...seqServers[1].latencies);
        baseCells = `  | base ${per(pBase)} (diff ${per(pBase - pIn)}), cpu/run ${cpu(1)} (server ${per(costs[1].cpuMs)})`;
      }
      seqRows.push(
        `  ${round}  ${per(pIn).padStart(7)}  ${per(pOurs).padStart(7)}  ${per(pOurs - pIn).padStart(7)}` +
          `  | cpu/run in-process ${per(seqIn.clientCpuMs / RUNS)}, ours ${cpu(0)} ` +
          `(server ${per(costs[0].cpuMs)}); server log lines/run ${per(costs[0].appends, 1)}, fsyncs/run ${per(costs[0].flushes)}` +
          baseCells +
          `  | ${loadAverages()}`,
      );

      const concIn = await concurrent(inProcess.run, inProcessThreads);
      const rateIn = concIn.runs / concIn.seconds;
      const conc = [];
      for (const side of servers) {
        const before = await side.server.stats();
        const measured = await concurrent(side.run, side.threads);
        const cost = serverCost(before, await side.server.stats(), measured.runs);
        conc.push({ rate: measured.runs / measured.seconds, cost, cpuMs: cost.cpuMs + measured.clientCpuMs / measured.runs });
      }
      const [mine, theirs] = conc;
      ratios.push(mine.rate / rateIn);
      cpuRatios.push(concIn.clientCpuMs / concIn.runs / mine.cost.cpuMs);
      if (theirs) baseRatios.push(theirs.rate / rateIn);
      concRows.push(
        `  ${round}  ${per(rateIn, 1).padStart(8)}  ${per(mine.rate, 1).padStart(8)}  ${per(mine.rate / rateIn).padStart(5)}` +
          `  | cpu/run in-process ${per(concIn.clientCpuMs / concIn.runs)}, ours ${per(mine.cpuMs)} ` +
          `(server ${per(mine.cost.cpuMs)}); server log lines/run ${per(mine.cost.appends, 1)}, fsyncs/run ${per(mine.cost.flushes)}` +
          (theirs
            ? `  | base ${per(theirs.rate, 1)} (${per(theirs.rate / rateIn)}), cpu/run ${per(theirs.cpuMs)} (server ${per(theirs.cost.cpuMs)})`
            : "") +
          `  | ${loadAverages()}`,
      );
    }

    console.log(`\nsequential runs.wait, a new thread each: p50 per round, ms`);
    console.log(`  #  in-proc     ours     diff`);
    for (const row of seqRows) console.log(row);
    console.log(`  all rounds: in-process ${fmt(quantiles(all.inProcess), 2)}`);
    console.log(`              ours       ${fmt(quantiles(all.ours), 2)}`);
    if (base) console.log(`              base       ${fmt(quantiles(all.base), 2)}`);
    const extra = median(extras);
    console.log(
      `  TARGET sequential p50 at most in-process + ${TARGET_EXTRA_P50_MS} ms: median difference ${per(extra)} ms ` +
        `(ours - in-process); ${extra <= TARGET_EXTRA_P50_MS ? "met" : "MISSED"}`,
    );
    if (base) console.log(`  baseline: median of the rounds' p50 (base - ours) ${per(median(baseGains))} ms`);

    console.log(`\n${CLIENTS} clients at a time, distinct threads: runs/s per round`);
    console.log(`  #   in-proc      ours  ratio`);
    for (const row of concRows) console.log(row);
    const ratio = median(ratios);
    console.log(
      `  TARGET at least ${TARGET_THROUGHPUT_RATIO} of in-process: median ratio ${per(ratio)}; ${ratio >= TARGET_THROUGHPUT_RATIO ? "met" : "MISSED"}`,
    );
    if (base) console.log(`  baseline: median ratio ${per(median(baseRatios))}`);
    console.log(
      `  CPU per run, in-process / server: median ${per(median(cpuRatios))} (the runs/s ratio of a server that kept its core busy; ` +
        `steadier than runs/s on a loaded machine)`,
    );

    const stamps = servers.map(() => ({ pickup: [] as number[], delivery: [] as number[] }));
    for (let i = 0; i < Math.min(RUNS, 200); i++) {
      for (const [j, side] of servers.entries()) await stampedRun(side, stamps[j].pickup, stamps[j].delivery);
    }
    for (const [j, side] of servers.entries()) {
      const label = servers.length > 1 ? ` (${side.name})` : "";
      console.log(`\nrequest -> first graph step (pickup)${label}:       ${fmt(quantiles(stamps[j].pickup))}`);
      console.log(`last graph step -> client has the result${label}:  ${fmt(quantiles(stamps[j].delivery))}`);
    }
    console.log(`end: ${loadAverages()}`);
  } finally {
    for (const side of servers) {
      await side.server.stop();
      await rm(side.dataDir, { recursive: true, force: true });
    }
  }
}

if (process.env.DATABASE_URI) {
  await (await import("./runs-postgres.js")).benchRunsPostgres(process.env.DATABASE_URI);
} else {
  await main();
}
