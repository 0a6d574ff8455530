/**
 * What the benchmarks share: starting the server in a child process (`lgts serve`, or
 * bench/server-child.ts, which also reports on itself), latency quantiles, the machine's load.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BuildOptions } from "esbuild";
import { Client } from "@langchain/langgraph-sdk";

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function quantiles(samples: number[]): Quantiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}

export const formatQuantiles = (q: Quantiles, digits = 1) =>
  `p50 ${q.p50.toFixed(digits)} ms  p90 ${q.p90.toFixed(digits)} ms  p99 ${q.p99.toFixed(digits)} ms  max ${q.max.toFixed(digits)} ms`;

export interface ChildServer {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `lgts serve` (as deployed: its JSON log on stdout, which is drained here, into the file
 * BENCH_SERVER_LOG names if set) and resolves once it listens. `args` come after `serve --port 0`.
 * `bin`: another checkout's bin/lgts.js (to compare two versions in one run).
 */
export async function serveChild(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  bin = fileURLToPath(new URL("../bin/lgts.js", import.meta.url)),
): Promise<ChildServer> {
  const child = spawn(process.execPath, [bin, "serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"], env });
  for await (const line of createInterface({ input: child.stdout })) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "listening" && entry.url) {
      // keep draining the log so the child never blocks on a full pipe (into BENCH_SERVER_LOG if set)
      if (process.env.BENCH_SERVER_LOG) child.stdout.pipe(createWriteStream(process.env.BENCH_SERVER_LOG));
      else child.stdout.resume();
      return { child, url: entry.url, stop: () => stopChild(child) };
    }
  }
  throw new Error("the server exited before listening");
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

/** The median of some figures (each round's ratio, say): what one noisy round cannot move. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The load averages (1, 5, 15 min): the machine is shared, every figure is printed with them. */
export const loadAverages = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")}`;

export interface ServerHeap {
  heapUsed: number;
  rss: number;
  // the rest are absent from the server-child of an older checkout
  heapTotal?: number;
  /** Memory of Buffers and other objects held outside V8's heap. */
  external?: number;
  /** V8's young generation (new space), committed. */
  youngGeneration?: number;
  /** RSS before the full GCs of the others. */
  rssBeforeGc?: number;
  /** The C allocator's main arena, resident (`[heap]` in /proc/<pid>/smaps). */
  mallocArena?: number;
  /** Broker channels held. */
  channels: number;
}

export interface ServerStats {
  /** CPU time of the server process so far. */
  cpuMs: number;
  /** Commit log lines (mutations) and flushes (one fsync each) so far; 0 on PostgreSQL. */
  logAppends: number;
  logFlushes: number;
}

export interface ServerSettings {
  config: string;
  dataDir: string;
  /** Engine slots (default: the server's). */
  concurrency?: number;
  resumableRetentionMs?: number;
  /** Another checkout whose bench/server-child.ts to run (to compare two versions in one run). */
  checkout?: string;
  /** PostgreSQL storage on this database (else DATABASE_URI of the environment, if set). */
  databaseUri?: string;
}

/**
 * bench/server-child.ts of a checkout, run as its bin/lgts.js runs the server: bundled like
 * bin/server-build.js bundles src/ (into dist/bench/) where the checkout has that build, else
 * compiled by tsx as it loads (older checkouts: tsx's loader thread is then part of the figures,
 * as it is of their `lgts serve`).
 */
async function serverChildEntry(checkout: string): Promise<{ script: string; execArgv: string[] }> {
  const source = path.join(checkout, "bench/server-child.ts");
  const serverBuild = path.join(checkout, "bin/server-build.js");
  if (!existsSync(serverBuild)) return { script: source, execArgv: ["--import", "tsx"] };
  const { SERVER_BUNDLE_OPTIONS } = (await import(pathToFileURL(serverBuild).href)) as { SERVER_BUNDLE_OPTIONS: BuildOptions };
  const { build } = await import("esbuild");
  const outdir = path.join(checkout, "dist/bench");
  await build({ ...SERVER_BUNDLE_OPTIONS, absWorkingDir: checkout, entryPoints: [source], outdir, logLevel: "warning" });
  return { script: path.join(outdir, "server-child.js"), execArgv: [] };
}

/**
 * bench/server-child.ts in its own process, answering for its heap and its costs.
 * Its heap is sized as bin/lgts.js leaves it: V8's defaults (see there).
 * With BENCH_SERVER_PROFILE=<dir>, the server writes its CPU profile there when it stops.
 */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(settings: ServerSettings): Promise<ServerProcess> {
    const { script, execArgv } = await serverChildEntry(settings.checkout ?? fileURLToPath(new URL("..", import.meta.url)));
    const child = fork(script, {
      execArgv: [
        "--expose-gc", // the server-child of an older checkout collects with gc()
        ...execArgv,
        ...(process.env.BENCH_SERVER_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_SERVER_PROFILE}`] : []),
      ],
      env: {
        ...process.env,
        BENCH_SERVER_CONFIG: settings.config,
        BENCH_SERVER_DATA_DIR: settings.dataDir,
        ...(settings.concurrency ? { BENCH_SERVER_CONCURRENCY: String(settings.concurrency) } : {}),
        ...(settings.resumableRetentionMs ? { BENCH_SERVER_RETENTION_MS: String(settings.resumableRetentionMs) } : {}),
        ...(settings.databaseUri ? { DATABASE_URI: settings.databaseUri } : {}),
      },
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    child.stdout!.resume(); // its log: drained so it never blocks
    const [message] = (await once(child, "message")) as [{ url: string }];
    return new ServerProcess(child, message.url);
  }

  async heap(): Promise<ServerHeap> {
    return this.#ask<ServerHeap>("heap");
  }

  async stats(): Promise<ServerStats> {
    return this.#ask<ServerStats>("stats");
  }

  async stop(): Promise<void> {
    this.child.send("stop");
    await once(this.child, "exit");
  }

  async #ask<T>(request: string): Promise<T> {
    this.child.send(request);
    const [message] = (await once(this.child, "message")) as [T];
    return message;
  }
}

/**
 * The SDK client the benches drive servers with. The SDK queues a Client's requests beyond 4 at a
 * time by default (`callerOptions.maxConcurrency`), which would quietly turn "50 clients" into 4.
 */
export const benchClient = (apiUrl: string): Client => new Client({ apiUrl, callerOptions: { maxConcurrency: Infinity } });
