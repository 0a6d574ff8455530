/** What the benchmarks share: starting `lgts serve` in a child process, and latency quantiles. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function quantiles(samples: number[]): Quantiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]! };
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
 */
export async function serveChild(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL("../bin/lgts.js", import.meta.url)), "serve", "--port", "0", ...args],
    { stdio: ["ignore", "pipe", "inherit"], env },
  );
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "listening" && entry.url) {
      // keep draining the log so the child never blocks on a full pipe (into BENCH_SERVER_LOG if set)
      if (process.env.BENCH_SERVER_LOG) child.stdout!.pipe(createWriteStream(process.env.BENCH_SERVER_LOG));
      else child.stdout!.resume();
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
