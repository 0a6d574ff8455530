/**
 * HTTP path benchmark (`npm run bench:http`): our server (`lgts serve` in a child process, as
 * deployed: JSON log on stdout, embedded durable storage in a temp dir) against a bare Express 5
 * app serving the same JSON from a Map in its own process (bench/bare-express.ts), the limit for
 * this design. autocannon drives both from this process with BENCH_HTTP_CONNECTIONS connections.
 *
 * Interleaved: each route runs BENCH_HTTP_ROUNDS rounds, each against ours and then the bare app
 * (the order swaps each round), BENCH_HTTP_SECONDS each, so both see the same machine load. Printed per route:
 * requests/s over all rounds, the median of the rounds' p99, and ours as a ratio of bare (over all
 * rounds, and the lowest and highest round).
 *
 * Options (env): BENCH_HTTP_SECONDS=2  BENCH_HTTP_ROUNDS=6  BENCH_HTTP_CONNECTIONS=50
 *   BENCH_HTTP_THREADS=1000 (threads created on both before measuring)  BENCH_DATA_DIR=<dir>
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { serveChild, stopChild, type ChildServer } from "./support.js";

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 50);
const THREADS = Number(process.env.BENCH_HTTP_THREADS ?? 1000);

interface Route {
  name: string;
  method: "GET" | "POST";
  path: (threadId: string) => string;
  body?: unknown;
  /** The issue's target: ours at least this share of bare Express. */
  target?: number;
}

// POST /threads goes last so that every other route sees the same THREADS threads on both servers
const ROUTES: Route[] = [
  { name: "GET /threads/{id}", method: "GET", path: (id) => `/threads/${id}`, target: 0.8 },
  { name: "POST /threads/search", method: "POST", path: () => "/threads/search", body: { limit: 10 } },
  { name: "GET /ok", method: "GET", path: () => "/ok" },
  { name: "POST /threads", method: "POST", path: () => "/threads", body: { metadata: { bench: "http" } }, target: 0.6 },
];

async function startBare(): Promise<ChildServer> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./bare-express.ts", import.meta.url))], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    return { child, url: line.trim(), stop: () => stopChild(child) };
  }
  throw new Error("the bare Express app exited before listening");
}

async function post(url: string, body: unknown): Promise<{ thread_id: string }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { thread_id: string };
}

/** Creates THREADS threads, 50 at a time; returns one of them to read back. */
async function seed(url: string): Promise<string> {
  let first = "";
  for (let i = 0; i < THREADS; i += 50) {
    const batch = Array.from({ length: Math.min(50, THREADS - i) }, (_, j) => post(`${url}/threads`, { metadata: { seed: i + j } }));
    const created = await Promise.all(batch);
    first ||= created[0]!.thread_id;
  }
  return first;
}

interface Sample {
  requests: number;
  seconds: number;
  p99: number;
  failed: number;
}

async function load(url: string, route: Route, threadId: string): Promise<Sample> {
  const result = await autocannon({
    url: url + route.path(threadId),
    method: route.method,
    connections: CONNECTIONS,
    duration: SECONDS,
    ...(route.body === undefined
      ? {}
      : { body: JSON.stringify(route.body), headers: { "content-type": "application/json" } }),
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p99: result.latency.p99,
    failed: result.errors + result.timeouts + result.non2xx,
  };
}

const rate = (samples: Sample[]) =>
  samples.reduce((n, s) => n + s.requests, 0) / samples.reduce((n, s) => n + s.seconds, 0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const dataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-http-"));
  const ours = await serveChild([
    "--config",
    fileURLToPath(new URL("./graphs/langgraph.json", import.meta.url)),
    "--data-dir",
    dataDir,
  ]);
  const bare = await startBare();
  try {
    const targets = [
      { name: "ours", url: ours.url, threadId: await seed(ours.url) },
      { name: "bare", url: bare.url, threadId: await seed(bare.url) },
    ];
    console.log(
      `ours ${ours.url} (data in ${dataDir}), bare Express ${bare.url}; ${THREADS} threads each; ` +
        `${CONNECTIONS} connections, ${ROUNDS} rounds x ${SECONDS} s per route and server, interleaved`,
    );
    const samples = new Map<string, Sample[]>();
    for (const route of ROUTES) {
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const key = `${route.name}|${target.name}`;
          const sample = await load(target.url, route, target.threadId);
          samples.set(key, [...(samples.get(key) ?? []), sample]);
        }
      }
    }

    console.log(`\n${"route".padEnd(22)} ${"ours req/s".padStart(11)} ${"p99".padStart(7)}   ${"bare req/s".padStart(11)} ${"p99".padStart(7)}   ratio (rounds)        target`);
    for (const route of ROUTES) {
      const mine = samples.get(`${route.name}|ours`)!;
      const theirs = samples.get(`${route.name}|bare`)!;
      const ratio = rate(mine) / rate(theirs);
      const perRound = mine.map((s, i) => s.requests / s.seconds / (theirs[i]!.requests / theirs[i]!.seconds));
      const failed = [...mine, ...theirs].reduce((n, s) => n + s.failed, 0);
      const verdict = route.target === undefined ? "" : `>= ${route.target.toFixed(2)}: ${ratio >= route.target ? "met" : "MISSED"}`;
      console.log(
        `${route.name.padEnd(22)} ${rate(mine).toFixed(0).padStart(11)} ${`${median(mine.map((s) => s.p99))}ms`.padStart(7)}   ` +
          `${rate(theirs).toFixed(0).padStart(11)} ${`${median(theirs.map((s) => s.p99))}ms`.padStart(7)}   ` +
          `${ratio.toFixed(2)} (${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})`.padEnd(22) +
          verdict +
          (failed ? `  (${failed} failed requests!)` : ""),
      );
    }
  } finally {
    await Promise.all([ours.stop(), bare.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
