/**
 * The server of bench/stream.ts, in its own process (started with --expose-gc): it answers the
 * parent's IPC requests for its heap after a full GC, so the parent measures the server alone.
 *
 *   parent -> "heap"  child -> {heapUsed, rss, channels}   (channels: broker channels held)
 *   parent -> "stop"  child closes the server and exits
 */
import { fileURLToPath } from "node:url";
import { setImmediate as nextTurn } from "node:timers/promises";
import { pino } from "pino";
import type { LocalRunEventBroker } from "../src/runtime/runs/local-broker.js";
import type { ComposedRunEngine } from "../src/runtime/runs/run-engine.js";
import { startServer } from "../src/server.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("start with node --expose-gc");

const server = await startServer({
  configPath: fileURLToPath(new URL("./graphs/stream.json", import.meta.url)),
  port: 0,
  host: "127.0.0.1",
  dataDir: process.env.BENCH_STREAM_DATA_DIR!,
  // with DATABASE_URI: PostgreSQL storage, events through run_events and LISTEN/NOTIFY
  ...(process.env.DATABASE_URI ? { databaseUri: process.env.DATABASE_URI } : {}),
  mode: "serve",
  logger: pino({ level: "warn" }),
  runs: { resumableRetentionMs: Number(process.env.BENCH_STREAM_RETENTION_MS ?? 2000) },
});
process.send!({ url: server.url });

process.on("message", async (message) => {
  if (message === "heap") {
    // a few rounds: finalizers and weak references free more on the next pass
    for (let i = 0; i < 4; i++) {
      gc();
      await nextTurn();
    }
    const { heapUsed, rss } = process.memoryUsage();
    const channels = ((server.services.runs as ComposedRunEngine).broker as LocalRunEventBroker).size;
    process.send!({ heapUsed, rss, channels });
  } else if (message === "stop") {
    await server.close();
    process.exit(0);
  }
});
