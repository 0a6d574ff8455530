/**
 * `npm run bench:runs` with DATABASE_URI set: the same server (`lgts serve`, child processes) on
 * PostgreSQL, one process and then three sharing the database, driven by the official SDK.
 *
 *  1. sequential `runs.wait` (trivial graph, a new thread each) on one process: p50/p99;
 *  2. pickup: request -> first graph step (stamped graph), and run stored -> first graph step
 *     (the claim woken by NOTIFY; target p50 < 10 ms);
 *  3. runs per second, BENCH_CLIENTS concurrent clients on distinct threads, with 1 process and
 *     with 3 (clients spread over them), and the ratio;
 *  4. cross-process events: a run's custom events stamped when written, read by a client of
 *     another process than the one executing the run (joined before the run starts), vs. a client
 *     of the executing process.
 *
 * The database should be empty or hold only benchmark data (its runs are not cleaned up).
 * Options (env): BENCH_RUNS=200  BENCH_SECONDS=10  BENCH_CLIENTS=50  BENCH_EVENT_RUNS=30
 */
import { fileURLToPath } from "node:url";
import pg from "pg";
import { benchClient, formatQuantiles, loadAverages, quantiles, serveChild, type ChildServer, type Quantiles } from "./support.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const EVENT_RUNS = Number(process.env.BENCH_EVENT_RUNS ?? 30);
const TARGET_PICKUP_MS = 10;

const nowMs = () => performance.timeOrigin + performance.now();

const fmt = (q: Quantiles) => formatQuantiles(q);

const serve = (uri: string): Promise<ChildServer> =>
  serveChild(["--config", fileURLToPath(new URL("./graphs/langgraph.json", import.meta.url))], { ...process.env, DATABASE_URI: uri });

/** Runs per second with `CLIENTS` clients looping runs.wait, spread over the servers. */
async function throughput(servers: ChildServer[]): Promise<number> {
  const clients = servers.map((s) => benchClient(s.url));
  const pick = (i: number) => clients[i % clients.length]!;
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

/** Latency of custom events from the executing process to a client of another one (and of the same one). */
async function eventLatency(servers: ChildServer[], sql: pg.Pool): Promise<{ cross: number[]; same: number[] }> {
  const cross: number[] = [];
  const same: number[] = [];
  for (let i = 0; i < EVENT_RUNS; i++) {
    const reader = servers[i % servers.length]!;
    const client = benchClient(reader.url);
    const thread = await client.threads.create();
    // delayed start: the join is open before the first event, so every event arrives live
    const run = await client.runs.create(thread.thread_id, "ticker", { input: { count: 20, interval_ms: 5 }, streamMode: ["custom"], afterSeconds: 1 });
    const samples: number[] = [];
    for await (const part of client.runs.joinStream(thread.thread_id, run.run_id, { streamMode: ["custom"] })) {
      if (part.event === "custom") samples.push(nowMs() - (part.data as { at: number }).at);
    }
    const { rows } = await sql.query<{ lease_owner: string }>("SELECT lease_owner FROM runs WHERE run_id = $1", [run.run_id]);
    const executor = rows[0]?.lease_owner?.split(":")[1];
    (executor === String(reader.child.pid) ? same : cross).push(...samples);
  }
  return { cross, same };
}

export async function benchRunsPostgres(uri: string): Promise<void> {
  const sql = new pg.Pool({ connectionString: uri, max: 2 });
  const first = await serve(uri);
  const servers = [first];
  console.log(`PostgreSQL ${new URL(uri).host}${new URL(uri).pathname}; server ${first.url}; start: ${loadAverages()}`);
  try {
    const client = benchClient(first.url);
    const thread = async () => (await client.threads.create()).thread_id;
    for (let i = 0; i < 30; i++) await client.runs.wait(await thread(), "trivial", { input: { value: i } });

    const latencies: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const threadId = await thread();
      const started = performance.now();
      await client.runs.wait(threadId, "trivial", { input: { value: 1 } });
      latencies.push(performance.now() - started);
    }
    console.log(`\n1. sequential runs.wait, one process (trivial graph, ${RUNS} runs, a new thread each): ${fmt(quantiles(latencies))}`);

    const pickup: number[] = [];
    const claim: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 200); i++) {
      const threadId = await thread();
      const sent = nowMs();
      const run = await client.runs.create(threadId, "stamped", { input: { value: 0 } });
      const result = (await client.runs.join(threadId, run.run_id)) as { started_at: number };
      pickup.push(result.started_at - sent);
      claim.push(result.started_at - Date.parse(run.created_at));
    }
    const claimQ = quantiles(claim);
    console.log(`\n2. request -> first graph step:            ${fmt(quantiles(pickup))}`);
    console.log(`   run stored -> first graph step (pickup): ${fmt(claimQ)}  (created_at has ms resolution)`);
    console.log(`   target pickup p50 < ${TARGET_PICKUP_MS} ms: ${claimQ.p50 < TARGET_PICKUP_MS ? "met" : "MISSED"} (${claimQ.p50.toFixed(1)} ms)`);

    const one = await throughput(servers);
    servers.push(await serve(uri), await serve(uri));
    const three = await throughput(servers);
    console.log(`\n3. runs/s, ${CLIENTS} clients on distinct threads, ${SECONDS} s each:`);
    console.log(`   1 process: ${one.toFixed(1)} runs/s   3 processes: ${three.toFixed(1)} runs/s   ratio ${(three / one).toFixed(2)}`);
    console.log(`   (all processes, the database and the clients share this machine's cores)`);

    const { cross, same } = await eventLatency(servers, sql);
    console.log(`\n4. custom event written -> received by a client (${EVENT_RUNS} runs of 20 events)`);
    if (cross.length) console.log(`   client of another process:       ${fmt(quantiles(cross))}  (${cross.length} events)`);
    if (same.length) console.log(`   client of the executing process: ${fmt(quantiles(same))}  (${same.length} events)`);
    console.log(`end: ${loadAverages()}`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await sql.end();
  }
}
