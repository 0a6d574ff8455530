/**
 * The server of bench/runs.ts, bench/stream.ts and bench/memory.ts, in its own process:
 * it answers the parent's IPC requests about itself, so the parent measures the server alone.
 *
 *   parent -> "heap"   child -> {heapUsed, heapTotal, external, youngGeneration, rss, rssBeforeGc, channels, mallocArena}
 *                      (after a compacting full GC but rssBeforeGc; youngGeneration: V8's new space committed;
 *                      channels: local broker channels held, 0 on PostgreSQL; mallocArena: `[heap]` in smaps)
 *   parent -> "stats"  child -> {cpuMs, logAppends, logFlushes}   (CPU time of this process so far;
 *                      commit log lines and flushes, each flush one fsync; zeros on PostgreSQL)
 *   parent -> "stop"   child closes the server and exits
 *
 * Env: BENCH_SERVER_CONFIG (langgraph.json), BENCH_SERVER_DATA_DIR, BENCH_SERVER_RETENTION_MS,
 * BENCH_SERVER_CONCURRENCY (engine slots; default the server's), BENCH_SERVER_LOG=info to log
 * each request as deployed (default warn). With DATABASE_URI: PostgreSQL storage, events through
 * run_events and LISTEN/NOTIFY.
 */
import { readFile } from "node:fs/promises";
import v8 from "node:v8";
import { pino } from "pino";
import { LocalRunEventBroker } from "../src/runtime/runs/local-broker.js";
import type { ComposedRunEngine } from "../src/runtime/runs/run-engine.js";
import { startServer } from "../src/server.js";
import { releaseMemory } from "../src/release-memory.js";
import { LowdbStorage } from "../src/storage/lowdb/storage.js";

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
// as lgts serve does once it listens (src/cli.ts)
await releaseMemory();
process.send!({ url: server.url });

/** Resident bytes of the C allocator's main arena (`[heap]` in /proc/self/smaps; 0 where there is none). */
async function mallocArena(): Promise<number> {
  const smaps = await readFile("/proc/self/smaps", "utf8").catch(() => "");
  const rss = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(smaps);
  return rss ? Number(rss[1]) * 1024 : 0;
}

async function onMessage(message: unknown): Promise<void> {
  if (message === "heap") {
    const rssBeforeGc = process.memoryUsage.rss();
    // what the process retains: a collection that compacts the heap and shrinks it (several
    // rounds inside, for finalizers and weak references), rather than gc(), which leaves
    // fragmented pages and the young generation committed
    await releaseMemory();
    const { heapUsed, heapTotal, external, rss } = process.memoryUsage();
    const youngGeneration = v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.physical_space_size ?? 0;
    // on PostgreSQL, events go through run_events: there is no local broker
    const broker = (server.services.runs as ComposedRunEngine).broker;
    const channels = broker instanceof LocalRunEventBroker ? broker.size : 0;
    process.send!({ heapUsed, heapTotal, external, youngGeneration, rss, rssBeforeGc, channels, mallocArena: await mallocArena() });
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
