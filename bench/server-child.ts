/**
 * The server of bench/runs.ts and bench/stream.ts, in its own process (started with --expose-gc):
 * it answers the parent's IPC requests about itself, so the parent measures the server alone.
 *
 *   parent -> "heap"   child -> {heapUsed, rss, channels}   (after a full GC; channels: broker channels held)
 *   parent -> "stats"  child -> {cpuMs, logAppends, logFlushes}   (CPU time of this process so far;
 *                      commit log lines and flushes, each flush one fsync; zeros on PostgreSQL)
 *   parent -> "stop"   child closes the server and exits
 *
 * Env: BENCH_SERVER_CONFIG (langgraph.json), BENCH_SERVER_DATA_DIR, BENCH_SERVER_RETENTION_MS,
 * BENCH_SERVER_CONCURRENCY (engine slots; default the server's), BENCH_SERVER_LOG=info to log
 * each request as deployed (default warn). With DATABASE_URI: PostgreSQL storage, events through
 * run_events and LISTEN/NOTIFY.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { pino } from "pino";
import type { LocalRunEventBroker } from "../src/runtime/runs/local-broker.js";
import type { ComposedRunEngine } from "../src/runtime/runs/run-engine.js";
import { startServer } from "../src/server.js";
import { LowdbStorage } from "../src/storage/lowdb/storage.js";

const exposedGc = (globalThis as { gc?: () => void }).gc;
if (!exposedGc) throw new Error("start with node --expose-gc");
const gc: () => void = exposedGc;

const env = process.env;
const server = await startServer({
  configPath: env.BENCH_SERVER_CONFIG!,
  port: 0,
  host: "127.0.0.1",
  dataDir: env.BENCH_SERVER_DATA_DIR!,
  ...(env.DATABASE_URI ? { databaseUri: env.DATABASE_URI } : {}),
  mode: "serve",
  // as deployed: asynchronous JSON lines on stdout (the parent drains them)
  logger: pino({ level: env.BENCH_SERVER_LOG ?? "warn" }, pino.destination({ sync: false })),
  runs: {
    ...(env.BENCH_SERVER_RETENTION_MS ? { resumableRetentionMs: Number(env.BENCH_SERVER_RETENTION_MS) } : {}),
    ...(env.BENCH_SERVER_CONCURRENCY ? { concurrency: Number(env.BENCH_SERVER_CONCURRENCY) } : {}),
  },
});
process.send!({ url: server.url });

async function onMessage(message: unknown): Promise<void> {
  if (message === "heap") {
    // a few rounds: finalizers and weak references free more on the next pass
    for (let i = 0; i < 4; i++) {
      gc();
      await nextTurn();
    }
    const { heapUsed, rss } = process.memoryUsage();
    const channels = ((server.services.runs as ComposedRunEngine).broker as LocalRunEventBroker).size;
    process.send!({ heapUsed, rss, channels });
  } else if (message === "stats") {
    const { user, system } = process.cpuUsage();
    const storage = server.services.storage;
    const log = storage instanceof LowdbStorage ? storage.logStats : { appends: 0, flushes: 0 };
    process.send!({ cpuMs: (user + system) / 1000, logAppends: log.appends, logFlushes: log.flushes });
  } else if (message === "stop") {
    await server.close();
    process.exit(0);
  }
}

// a failed request of the bench ends the child: the bench sees it exit
process.on("message", (message) => {
  onMessage(message).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
