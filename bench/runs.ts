/**
 * Run execution benchmark (`npm run bench:runs`): the server in a child process (bench/server-child.ts:
 * HTTP on 127.0.0.1, embedded storage in a temp dir, durable checkpoints), driven by the official
 * SDK from this process, measured against its own limit: LangGraph running the same graph
 * in this process (`graph.invoke` with a `MemorySaver`, no HTTP, no disk).
 *
 * The machine is shared and noisy, so both sides are measured interleaved, and each target is
 * judged on the median over BENCH_ROUNDS rounds of that round's own comparison. Two kinds of
 * runs, each compared with in-process invokes on a thread of their own: thread runs (each on a
 * fresh thread, created before the timed `runs.wait`) and stateless runs (`runs.wait(null, …)`:
 * the server creates a temporary thread and removes it at the run's end). A round, per kind:
 *  1. sequential, alternating one in-process invoke and one of our runs (latency; the round's
 *     p50 difference);
 *  2. BENCH_CLIENTS at a time (thread runs: each client on its own thread) for BENCH_SECONDS:
 *     in-process invoke, then ours (runs per second; the round's ratio).
 * Next to the times, figures the load barely moves: CPU milliseconds per run (in-process; ours =
 * the server process + this process's SDK client) and, per run, the commit log lines (storage
 * mutations) and flushes (each one fsync) of the server. The concurrent phase also prints the
 * median of in-process CPU per run over the server's: the throughput ratio the server would reach
 * with its core always busy (the SDK client runs in this process, on the other core).
 * Then, with the `stamped` copy of the trivial graph, thread runs and stateless runs: time from
 * the request to the first graph step (pickup) and from the last graph step to the client
 * holding the result (delivery). (Both processes read the same system clock.)
 *
 * Targets (issue 20), for thread runs and stateless runs alike: sequential runs.wait p50 at most
 * the in-process invoke p50 + 3 ms; concurrent runs/s at least 75% of in-process at the same
 * concurrency.
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
const TARGET_THROUGHPUT_RATIO = 0.75;
const TARGET_EXTRA_P50_MS = 3;

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

/** A stateless side's runs take no thread. */
const noThread = async () => "";

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
  /** Its stateless runs (`runs.wait(null, …)`). */
  stateless: Side;
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
    run: (threadId) => client.runs.wait(threadId, "trivial", { input: { value: 1 }, durability: DURABILITY }),
    newThread: async () => (await client.threads.create()).thread_id,
    stateless: { run: () => client.runs.wait(null, "trivial", { input: { value: 1 }, durability: DURABILITY }), newThread: noThread },
  };
}

/** One round of sequential runs on every side, alternating (the servers' order flips every run). */
async function sequentialRound(inProcess: Side, servers: Side[], stats: ServerProcess[]) {
  const seqIn = new Sequence(inProcess);
  const seqServers = servers.map((side) => new Sequence(side));
  const before = await Promise.all(stats.map((server) => server.stats()));
  for (let i = 0; i < RUNS; i++) {
    await seqIn.once();
    const order = i % 2 === 0 ? seqServers : [...seqServers].reverse();
    for (const sequence of order) await sequence.once();
  }
  const after = await Promise.all(stats.map((server) => server.stats()));
  return { seqIn, seqServers, costs: stats.map((_, i) => serverCost(before[i], after[i], RUNS)) };
}

/** Request -> first graph step and last graph step -> client has the result, `stamped` graph. */
async function stampedRun(side: ServerSide, kind: Kind, pickup: number[], delivery: number[]): Promise<void> {
  const payload = { input: { value: 0 }, durability: DURABILITY };
  const threadId = kind === "thread" ? await side.newThread() : null;
  const sent = nowMs();
  const waited = threadId === null ? side.client.runs.wait(null, "stamped", payload) : side.client.runs.wait(threadId, "stamped", payload);
  const result = (await waited) as { started_at: number; finished_at: number };
  const received = nowMs();
  pickup.push(result.started_at - sent);
  delivery.push(received - result.finished_at);
}

/** The runs a phase compares: on a new thread each, or stateless (the server makes and removes a temporary thread). */
type Kind = "thread" | "stateless";
const KINDS: Kind[] = ["thread", "stateless"];
const TITLES: Record<Kind, string> = { thread: "runs.wait, a new thread each", stateless: "stateless runs.wait(null, …)" };

/** Every round's figures of one kind of run. */
class Rounds {
  readonly seqRows: string[] = [];
  readonly concRows: string[] = [];
  readonly extras: number[] = [];
  readonly baseGains: number[] = [];
  readonly ratios: number[] = [];
  readonly baseRatios: number[] = [];
  readonly cpuRatios: number[] = [];
  readonly all = { inProcess: [] as number[], ours: [] as number[], base: [] as number[] };
}

async function sequentialPhase(rounds: Rounds, round: number, inProcess: Side, servers: Side[], stats: ServerProcess[], base: boolean) {
  const { seqIn, seqServers, costs } = await sequentialRound(inProcess, servers, stats);
  const pIn = quantiles(seqIn.latencies).p50;
  const pOurs = quantiles(seqServers[0].latencies).p50;
  rounds.extras.push(pOurs - pIn);
  rounds.all.inProcess.push(...seqIn.latencies);
  rounds.all.ours.push(...seqServers[0].latencies);
  const cpu = (i: number) => per(costs[i].cpuMs + seqServers[i].clientCpuMs / RUNS);
  let baseCells = "";
  if (base) {
    const pBase = quantiles(seqServers[1].latencies).p50;
    rounds.baseGains.push(pBase - pOurs);
    rounds.all.base.push(...seqServers[1].latencies);
    baseCells =
      `  | base ${per(pBase)} (diff ${per(pBase - pIn)}), cpu/run ${cpu(1)} (server ${per(costs[1].cpuMs)}), ` +
      `log lines/run ${per(costs[1].appends, 1)}, fsyncs/run ${per(costs[1].flushes)}`;
  }
  rounds.seqRows.push(
    `  ${round}  ${per(pIn).padStart(7)}  ${per(pOurs).padStart(7)}  ${per(pOurs - pIn).padStart(7)}` +
      `  | cpu/run in-process ${per(seqIn.clientCpuMs / RUNS)}, ours ${cpu(0)} ` +
      `(server ${per(costs[0].cpuMs)}); server log lines/run ${per(costs[0].appends, 1)}, fsyncs/run ${per(costs[0].flushes)}` +
      baseCells +
      `  | ${loadAverages()}`,
  );
}

async function concurrentPhase(rounds: Rounds, round: number, inProcess: Side, servers: Side[], stats: ServerProcess[], threads: string[][]) {
  const concIn = await concurrent(inProcess.run, threads[0]);
  const rateIn = concIn.runs / concIn.seconds;
  const conc = [];
  for (const [i, side] of servers.entries()) {
    const before = await stats[i].stats();
    const measured = await concurrent(side.run, threads[i + 1]);
    const cost = serverCost(before, await stats[i].stats(), measured.runs);
    conc.push({ rate: measured.runs / measured.seconds, cost, cpuMs: cost.cpuMs + measured.clientCpuMs / measured.runs });
  }
  const [mine, theirs] = conc;
  rounds.ratios.push(mine.rate / rateIn);
  rounds.cpuRatios.push(concIn.clientCpuMs / concIn.runs / mine.cost.cpuMs);
  if (theirs) rounds.baseRatios.push(theirs.rate / rateIn);
  rounds.concRows.push(
    `  ${round}  ${per(rateIn, 1).padStart(8)}  ${per(mine.rate, 1).padStart(8)}  ${per(mine.rate / rateIn).padStart(5)}` +
      `  | cpu/run in-process ${per(concIn.clientCpuMs / concIn.runs)}, ours ${per(mine.cpuMs)} ` +
      `(server ${per(mine.cost.cpuMs)}); server log lines/run ${per(mine.cost.appends, 1)}, fsyncs/run ${per(mine.cost.flushes)}` +
      (theirs
        ? `  | base ${per(theirs.rate, 1)} (${per(theirs.rate / rateIn)}), cpu/run ${per(theirs.cpuMs)} (server ${per(theirs.cost.cpuMs)})`
        : "") +
      `  | ${loadAverages()}`,
  );
}

function printRounds(kind: Kind, rounds: Rounds, base: boolean) {
  console.log(`\n${TITLES[kind]}, sequential: p50 per round, ms`);
  console.log(`  #  in-proc     ours     diff`);
  for (const row of rounds.seqRows) console.log(row);
  console.log(`  all rounds: in-process ${fmt(quantiles(rounds.all.inProcess), 2)}`);
  console.log(`              ours       ${fmt(quantiles(rounds.all.ours), 2)}`);
  if (base) console.log(`              base       ${fmt(quantiles(rounds.all.base), 2)}`);
  const extra = median(rounds.extras);
  console.log(
    `  TARGET (${kind}) sequential p50 at most in-process + ${TARGET_EXTRA_P50_MS} ms: median difference ${per(extra)} ms ` +
      `(ours - in-process); ${extra <= TARGET_EXTRA_P50_MS ? "met" : "MISSED"}`,
  );
  if (base) console.log(`  baseline: median of the rounds' p50 (base - ours) ${per(median(rounds.baseGains))} ms`);

  console.log(`\n${TITLES[kind]}, ${CLIENTS} clients at a time${kind === "thread" ? ", distinct threads" : ""}: runs/s per round`);
  console.log(`  #   in-proc      ours  ratio`);
  for (const row of rounds.concRows) console.log(row);
  const ratio = median(rounds.ratios);
  console.log(
    `  TARGET (${kind}) at least ${TARGET_THROUGHPUT_RATIO} of in-process: median ratio ${per(ratio)}; ` +
      `${ratio >= TARGET_THROUGHPUT_RATIO ? "met" : "MISSED"}`,
  );
  if (base) console.log(`  baseline: median ratio ${per(median(rounds.baseRatios))}`);
  console.log(
    `  CPU per run, in-process / server: median ${per(median(rounds.cpuRatios))} (the runs/s ratio of a server that kept its core busy; ` +
      `steadier than runs/s on a loaded machine)`,
  );
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
  /** In-process, a stateless run is an invoke on a thread of its own. */
  const inProcessStateless: Side = { run: () => inProcess.run(randomUUID()), newThread: noThread };
  const sidesOf = (kind: Kind): Side[] => servers.map((side) => (kind === "thread" ? side : side.stateless));
  const inProcessOf = (kind: Kind) => (kind === "thread" ? inProcess : inProcessStateless);
  const stats = servers.map((side) => side.server);

  console.log(
    `server ${ours.server.url}, data in ${ours.dataDir}${base ? `; baseline ${BASELINE} ${base.server.url}` : ""}; ` +
      `durability ${DURABILITY}, engine slots ${CONCURRENCY ?? "default"}; ${ROUNDS} rounds, each: ` +
      `${RUNS} sequential runs a side (alternating) on new threads, then stateless; then ${CLIENTS} clients for ${SECONDS} s a side, ` +
      `thread runs, then stateless`,
  );
  console.log(`start: ${loadAverages()}`);

  try {
    for (const kind of KINDS) {
      const warmIn = new Sequence(inProcessOf(kind));
      const warmServers = sidesOf(kind).map((side) => new Sequence(side));
      for (let i = 0; i < WARMUP; i++) {
        await warmIn.once();
        for (const sequence of warmServers) await sequence.once();
      }
    }
    const threadsOf = async (side: Side) => Promise.all(Array.from({ length: CLIENTS }, side.newThread));
    const threads: Record<Kind, string[][]> = {
      thread: await Promise.all([inProcess, ...servers].map(threadsOf)),
      stateless: Array.from({ length: servers.length + 1 }, () => Array.from({ length: CLIENTS }, () => "")),
    };

    const rounds: Record<Kind, Rounds> = { thread: new Rounds(), stateless: new Rounds() };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of KINDS) await sequentialPhase(rounds[kind], round, inProcessOf(kind), sidesOf(kind), stats, base !== undefined);
      for (const kind of KINDS) await concurrentPhase(rounds[kind], round, inProcessOf(kind), sidesOf(kind), stats, threads[kind]);
    }
    for (const kind of KINDS) printRounds(kind, rounds[kind], base !== undefined);

    for (const kind of KINDS) {
      const stamps = servers.map(() => ({ pickup: [] as number[], delivery: [] as number[] }));
      for (let i = 0; i < Math.min(RUNS, 200); i++) {
        for (const [j, side] of servers.entries()) await stampedRun(side, kind, stamps[j].pickup, stamps[j].delivery);
      }
      for (const [j, side] of servers.entries()) {
        const label = `${kind}${servers.length > 1 ? `, ${side.name}` : ""}`;
        console.log(`\nrequest -> first graph step (pickup; ${label}):       ${fmt(quantiles(stamps[j].pickup))}`);
        console.log(`last graph step -> client has the result (${label}):  ${fmt(quantiles(stamps[j].delivery))}`);
      }
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
