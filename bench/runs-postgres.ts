/**
 * `npm run bench:runs` with DATABASE_URI set: the same server (`lgts serve`, child processes) on
 * PostgreSQL, one process and then three sharing the database, driven by the official SDK.
 *
 *  1. sequential `runs.wait` (trivial graph, a new thread each) on one process: p50/p99, against
 *     in-process `invoke` (MemorySaver, no HTTP) alternating run by run, both warmed first, in
 *     BENCH_ROUNDS rounds (target: the median of the rounds' p50 differences at most in-process
 *     + 8 ms; one noisy round cannot move it);
 *  2. pickup: request -> first graph step (stamped graph), and run stored -> first graph step
 *     (target p50 < 10 ms);
 *  3. what one sequential run costs the database: transactions of its database, WAL flushes (each
 *     a disk sync with synchronous_commit on; of the whole cluster: keep it otherwise idle) and
 *     statements (BEGIN/COMMIT included; with pg_stat_statements preloaded), each read once the
 *     server processes have reported their statistics (PostgreSQL flushes them within 10 s);
 *  4. runs per second, BENCH_CLIENTS concurrent clients on distinct threads, with 1 process and
 *     with 3 (clients spread over them), and the ratio;
 *  5. cross-process events: a run's custom events stamped when written, read by a client of
 *     another process than the one executing the run (joined before the run starts), vs. a client
 *     of the executing process.
 *
 * With BENCH_RUNS_BASELINE=<another checkout> (e.g. `git worktree add /tmp/old main`, with its
 * node_modules), that version runs the same phases on its own database (`<database>_baseline`,
 * created if missing), interleaved with this one (latency phases alternate run by run), so both
 * see the same machine load.
 *
 * The databases should be empty or hold only benchmark data (their runs are not cleaned up).
 * Options (env): BENCH_RUNS=200 (sequential runs per round)  BENCH_ROUNDS=5  BENCH_SECONDS=10  BENCH_CLIENTS=50  BENCH_EVENT_RUNS=30
 *   BENCH_COUNT_RUNS=50 (phase 3)  BENCH_RUNS_BASELINE=<checkout dir>
 */
import path from "node:path";
import { setImmediate as turn, setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { MemorySaver } from "@langchain/langgraph";
import pg from "pg";
import { graph as trivialGraph } from "../examples/src/trivial.js";
import { benchClient, formatQuantiles, loadAverages, median, quantiles, serveChild, type ChildServer, type Quantiles } from "./support.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const EVENT_RUNS = Number(process.env.BENCH_EVENT_RUNS ?? 30);
const COUNT_RUNS = Number(process.env.BENCH_COUNT_RUNS ?? 50);
const BASELINE = process.env.BENCH_RUNS_BASELINE;
const TARGET_PICKUP_MS = 10;
/** Runs each side makes before anything is measured (JIT, connection pools). */
const WARMUP = 30;
/** Sequential runs.wait p50 at most the in-process invoke p50 plus this (issue 20). */
const TARGET_WAIT_OVER_INVOKE_MS = 8;
/** How long until every backend has reported its statistics (PostgreSQL's idle flush interval is 10 s). */
const STATS_SETTLE_MS = 11_000;

const nowMs = () => performance.timeOrigin + performance.now();

const fmt = (q: Quantiles) => formatQuantiles(q);

/** One server version under test: its checkout, its database, its processes. */
interface Version {
  name: string;
  uri: string;
  checkout: string;
  sql: pg.Pool;
  servers: ChildServer[];
}

const here = fileURLToPath(new URL("..", import.meta.url));

const serve = (version: Version): Promise<ChildServer> =>
  serveChild(
    ["--config", path.join(version.checkout, "bench/graphs/langgraph.json")],
    { ...process.env, DATABASE_URI: version.uri },
    path.join(version.checkout, "bin/lgts.js"),
  );

const newThread = async (server: ChildServer) => (await benchClient(server.url).threads.create()).thread_id;

/** Runs per second with `CLIENTS` clients looping runs.wait, spread over the servers. */
async function throughput(servers: ChildServer[]): Promise<number> {
  const clients = servers.map((s) => benchClient(s.url));
  const pick = (i: number) => clients[i % clients.length];
  const threads = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => (await pick(i).threads.create()).thread_id));
  let completed = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    threads.map(async (threadId, i) => {
      while (performance.now() < deadline) {
        await pick(i).runs.wait(threadId, "trivial", { input: { value: 1 } });
        completed += 1;
      }
    }),
  );
  return completed / ((performance.now() - started) / 1000);
}

/** Latency of the custom events of run `i` from the executing process to a client of another one (or of the same one). */
async function eventLatency(version: Version, i: number, into: { cross: number[]; same: number[] }): Promise<void> {
  const reader = version.servers[i % version.servers.length];
  const client = benchClient(reader.url);
  const thread = await client.threads.create();
  // delayed start: the join is open before the first event, so every event arrives live
  const run = await client.runs.create(thread.thread_id, "ticker", { input: { count: 20, interval_ms: 5 }, streamMode: ["custom"], afterSeconds: 1 });
  const samples: number[] = [];
  for await (const part of client.runs.joinStream(thread.thread_id, run.run_id, { streamMode: ["custom"] })) {
    if (part.event === "custom") samples.push(nowMs() - (part.data as { at: number }).at);
  }
  const { rows } = await version.sql.query<{ lease_owner: string }>("SELECT lease_owner FROM runs WHERE run_id = $1", [run.run_id]);
  const executor = rows[0]?.lease_owner?.split(":")[1];
  (executor === String(reader.child.pid) ? into.same : into.cross).push(...samples);
}

interface Counters {
  transactions: number;
  walFlushes: number;
  statements: number | null;
}

/** Cumulative counters of the version's database (statements: null without pg_stat_statements). */
async function counters(sql: pg.Pool): Promise<Counters> {
  const { rows } = await sql.query<{ transactions: string; wal_flushes: string }>(
    `SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()) AS transactions,
            (SELECT wal_sync FROM pg_stat_wal) AS wal_flushes`,
  );
  let statements: number | null = null;
  try {
    const { rows: s } = await sql.query<{ n: string }>(
      `SELECT sum(calls) AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    statements = Number(s[0]?.n ?? 0);
  } catch {
    // pg_stat_statements is not there (not created, or not in shared_preload_libraries)
  }
  return { transactions: Number(rows[0].transactions), walFlushes: Number(rows[0].wal_flushes), statements };
}

/** What COUNT_RUNS sequential runs cost the database, per run. */
async function costPerRun(version: Version): Promise<string> {
  const server = version.servers[0];
  const client = benchClient(server.url);
  const threads = await Promise.all(Array.from({ length: COUNT_RUNS }, () => newThread(server)));
  await sleep(STATS_SETTLE_MS);
  const before = await counters(version.sql);
  for (const threadId of threads) await client.runs.wait(threadId, "trivial", { input: { value: 1 } });
  await sleep(STATS_SETTLE_MS);
  const after = await counters(version.sql);
  const per = (a: number, b: number) => ((b - a) / COUNT_RUNS).toFixed(1);
  const statements = before.statements === null || after.statements === null ? "n/a" : per(before.statements, after.statements);
  return `transactions ${per(before.transactions, after.transactions)}, WAL flushes ${per(before.walFlushes, after.walFlushes)}, statements ${statements}`;
}

async function openVersion(name: string, uri: string, checkout: string): Promise<Version> {
  const sql = new pg.Pool({ connectionString: uri, max: 2 });
  // statement counts, when the server preloads pg_stat_statements (ignored otherwise)
  await sql.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").catch(() => {});
  const version: Version = { name, uri, checkout, sql, servers: [] };
  version.servers.push(await serve(version));
  return version;
}

/** `<database>_baseline` on the same server, created if missing. */
async function baselineUri(uri: string): Promise<string> {
  const url = new URL(uri);
  const name = `${url.pathname.slice(1)}_baseline`;
  const admin = new pg.Client({ connectionString: uri });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}

export async function benchRunsPostgres(uri: string): Promise<void> {
  const versions: Version[] = [];
  if (BASELINE) versions.push(await openVersion("baseline", await baselineUri(uri), path.resolve(BASELINE)));
  versions.push(await openVersion("this", uri, here));
  const label = (v: Version) => (versions.length > 1 ? `${v.name.padEnd(9)} ` : "");
  console.log(
    `PostgreSQL ${new URL(uri).host}; ${versions.map((v) => `${v.name}: ${v.checkout} on ${new URL(v.uri).pathname.slice(1)}`).join("; ")}`,
  );
  console.log(`start: ${loadAverages()}`);
  try {
    const inProcessGraph = trivialGraph.withConfig({});
    inProcessGraph.checkpointer = new MemorySaver();
    const invoke = () => inProcessGraph.invoke({ value: 1 }, { configurable: { thread_id: randomUUID() } });
    for (let i = 0; i < WARMUP; i++) await invoke();
    for (const v of versions) {
      const client = benchClient(v.servers[0].url);
      for (let i = 0; i < WARMUP; i++) await client.runs.wait(await newThread(v.servers[0]), "trivial", { input: { value: i } });
    }

    console.log(`\n1. sequential runs.wait, one process (trivial graph, ${ROUNDS} rounds of ${RUNS} runs, a new thread each): p50 per round, ms`);
    const invokes: number[] = [];
    const latencies = versions.map(() => [] as number[]);
    const overs = versions.map(() => [] as number[]);
    for (let round = 1; round <= ROUNDS; round++) {
      const roundInvokes: number[] = [];
      const roundLatencies = versions.map(() => [] as number[]);
      for (let i = 0; i < RUNS; i++) {
        await turn(); // an event-loop turn: in-process invokes chain microtasks only
        const invoked = performance.now();
        await invoke();
        roundInvokes.push(performance.now() - invoked);
        for (const [k, v] of versions.entries()) {
          const threadId = await newThread(v.servers[0]);
          const started = performance.now();
          await benchClient(v.servers[0].url).runs.wait(threadId, "trivial", { input: { value: 1 } });
          roundLatencies[k].push(performance.now() - started);
        }
      }
      const p50In = quantiles(roundInvokes).p50;
      invokes.push(...roundInvokes);
      const cells = versions.map((v, k) => {
        const p50 = quantiles(roundLatencies[k]).p50;
        overs[k].push(p50 - p50In);
        latencies[k].push(...roundLatencies[k]);
        return `${label(v)}${p50.toFixed(2)} (+ ${(p50 - p50In).toFixed(2)})`;
      });
      console.log(`   ${round}  in-process ${p50In.toFixed(2)}  ${cells.join("  ")}  | ${loadAverages()}`);
    }
    console.log(`   all rounds: in-process ${fmt(quantiles(invokes))}  (graph.invoke, MemorySaver)`);
    for (const [k, v] of versions.entries()) {
      const over = median(overs[k]);
      const verdict = over <= TARGET_WAIT_OVER_INVOKE_MS ? "met" : "MISSED";
      console.log(
        `   ${label(v)}${fmt(quantiles(latencies[k]))}  median of the rounds' p50: in-process + ${over.toFixed(1)} ms (target + ${TARGET_WAIT_OVER_INVOKE_MS}: ${verdict})`,
      );
    }

    const pickup = versions.map(() => [] as number[]);
    const claim = versions.map(() => [] as number[]);
    for (let i = 0; i < Math.min(RUNS, 200); i++) {
      for (const [k, v] of versions.entries()) {
        const client = benchClient(v.servers[0].url);
        const threadId = await newThread(v.servers[0]);
        const sent = nowMs();
        const run = await client.runs.create(threadId, "stamped", { input: { value: 0 } });
        const result = (await client.runs.join(threadId, run.run_id)) as { started_at: number };
        pickup[k].push(result.started_at - sent);
        claim[k].push(result.started_at - Date.parse(run.created_at));
      }
    }
    console.log(`\n2. pickup (stamped graph; created_at has ms resolution)  | ${loadAverages()}`);
    for (const [k, v] of versions.entries()) {
      const claimQ = quantiles(claim[k]);
      console.log(`   ${label(v)}request -> first graph step:            ${fmt(quantiles(pickup[k]))}`);
      console.log(`   ${label(v)}run stored -> first graph step (pickup): ${fmt(claimQ)}`);
      console.log(
        `   ${label(v)}target pickup p50 < ${TARGET_PICKUP_MS} ms: ${claimQ.p50 < TARGET_PICKUP_MS ? "met" : "MISSED"} (${claimQ.p50.toFixed(1)} ms)`,
      );
    }

    console.log(`\n3. database cost per sequential run (${COUNT_RUNS} runs; WAL flushes of the whole cluster)`);
    for (const v of versions) console.log(`   ${label(v)}${await costPerRun(v)}  | ${loadAverages()}`);

    const one = new Map<Version, number>();
    for (const v of versions) one.set(v, await throughput(v.servers));
    for (const v of versions) v.servers.push(await serve(v), await serve(v));
    console.log(
      `\n4. runs/s, ${CLIENTS} clients on distinct threads, ${SECONDS} s each (all processes, the database and the clients share this machine's cores)`,
    );
    for (const v of versions) {
      const three = await throughput(v.servers);
      console.log(
        `   ${label(v)}1 process: ${one.get(v)!.toFixed(1)} runs/s   3 processes: ${three.toFixed(1)} runs/s   ratio ${(three / one.get(v)!).toFixed(2)}  | ${loadAverages()}`,
      );
    }

    const events = versions.map(() => ({ cross: [] as number[], same: [] as number[] }));
    for (let i = 0; i < EVENT_RUNS; i++) for (const [k, v] of versions.entries()) await eventLatency(v, i, events[k]);
    console.log(`\n5. custom event written -> received by a client (${EVENT_RUNS} runs of 20 events)  | ${loadAverages()}`);
    for (const [k, v] of versions.entries()) {
      const { cross, same } = events[k];
      if (cross.length) console.log(`   ${label(v)}client of another process:       ${fmt(quantiles(cross))}  (${cross.length} events)`);
      if (same.length) console.log(`   ${label(v)}client of the executing process: ${fmt(quantiles(same))}  (${same.length} events)`);
    }
    console.log(`end: ${loadAverages()}`);
  } finally {
    await Promise.all(versions.flatMap((v) => v.servers.map((s) => s.stop())));
    await Promise.all(versions.map((v) => v.sql.end()));
  }
}
