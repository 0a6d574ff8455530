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
 * The thread routes also run against a third server, ours with the example Auth
 * (examples/auth: an HS256 JWT verified per request, owner filters), interleaved the same way:
 * its ratio to bare, and its cost against ours without Auth.
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
import { makeToken } from "../examples/auth/make-token.js";
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
  /** Also measured against ours with the example Auth. */
  withAuth?: boolean;
}

// POST /threads goes last so that every other route sees the same THREADS threads on both servers
const ROUTES: Route[] = [
  { name: "GET /threads/{id}", method: "GET", path: (id) => `/threads/${id}`, target: 0.8, withAuth: true },
  { name: "POST /threads/search", method: "POST", path: () => "/threads/search", body: { limit: 10 } },
  { name: "GET /ok", method: "GET", path: () => "/ok" },
  { name: "POST /threads", method: "POST", path: () => "/threads", body: { metadata: { bench: "http" } }, target: 0.6, withAuth: true },
];

interface Target {
  name: "ours" | "bare" | "auth";
  url: string;
  threadId: string;
  headers: Record<string, string>;
}

async function startBare(): Promise<ChildServer> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./bare-express.ts", import.meta.url))], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    return { child, url: line.trim(), stop: () => stopChild(child) };
  }
  throw new Error("the bare Express app exited before listening");
}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<{ thread_id: string }> {
  const res = await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { thread_id: string };
}

/** Creates THREADS threads, 50 at a time; returns one of them to read back. */
async function seed(url: string, headers: Record<string, string> = {}): Promise<string> {
  let first = "";
  for (let i = 0; i < THREADS; i += 50) {
    const batch = Array.from({ length: Math.min(50, THREADS - i) }, (_, j) => post(`${url}/threads`, { metadata: { seed: i + j } }, headers));
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

async function load(target: Target, route: Route): Promise<Sample> {
  const result = await autocannon({
    url: target.url + route.path(target.threadId),
    method: route.method,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: route.body === undefined ? target.headers : { ...target.headers, "content-type": "application/json" },
    ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
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
  const authDataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-http-auth-"));
  const ours = await serveChild(["--config", fileURLToPath(new URL("./graphs/langgraph.json", import.meta.url)), "--data-dir", dataDir]);
  const withAuth = await serveChild(["--config", fileURLToPath(new URL("../examples/auth/langgraph.json", import.meta.url)), "--data-dir", authDataDir]);
  const bare = await startBare();
  try {
    const token = { authorization: `Bearer ${await makeToken("bench-user")}` };
    const targets: Target[] = [
      { name: "ours", url: ours.url, threadId: await seed(ours.url), headers: {} },
      { name: "bare", url: bare.url, threadId: await seed(bare.url), headers: {} },
      { name: "auth", url: withAuth.url, threadId: await seed(withAuth.url, token), headers: token },
    ];
    console.log(
      `ours ${ours.url} (data in ${dataDir}), ours with the example Auth ${withAuth.url}, bare Express ${bare.url}; ` +
        `${THREADS} threads each; ${CONNECTIONS} connections, ${ROUNDS} rounds x ${SECONDS} s per route and server, interleaved`,
    );
    const samples = new Map<string, Sample[]>();
    for (const route of ROUTES) {
      const measured = targets.filter((t) => t.name !== "auth" || route.withAuth);
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? measured : [...measured].reverse();
        for (const target of order) {
          const key = `${route.name}|${target.name}`;
          samples.set(key, [...(samples.get(key) ?? []), await load(target, route)]);
        }
      }
    }

    console.log(`\n${"route".padEnd(22)} ${"ours req/s".padStart(11)} ${"p99".padStart(7)}   ${"bare req/s".padStart(11)} ${"p99".padStart(7)}   ratio (rounds)        target`);
    for (const route of ROUTES) {
      const mine = samples.get(`${route.name}|ours`)!;
      const theirs = samples.get(`${route.name}|bare`)!;
      const ratio = rate(mine) / rate(theirs);
      const failed = [...mine, ...theirs].reduce((n, s) => n + s.failed, 0);
      const verdict = route.target === undefined ? "" : `>= ${route.target.toFixed(2)}: ${ratio >= route.target ? "met" : "MISSED"}`;
      console.log(
        `${route.name.padEnd(22)} ${rate(mine).toFixed(0).padStart(11)} ${`${median(mine.map((s) => s.p99))}ms`.padStart(7)}   ` +
          `${rate(theirs).toFixed(0).padStart(11)} ${`${median(theirs.map((s) => s.p99))}ms`.padStart(7)}   ` +
          `${ratio.toFixed(2)} ${spread(mine, theirs)}`.padEnd(22) +
          verdict +
          (failed ? `  (${failed} failed requests!)` : ""),
      );
    }
    console.log("\nwith the example Auth (JWT verified per request, owner filters):");
    for (const route of ROUTES.filter((r) => r.withAuth)) {
      const authed = samples.get(`${route.name}|auth`)!;
      const mine = samples.get(`${route.name}|ours`)!;
      const theirs = samples.get(`${route.name}|bare`)!;
      const failed = authed.reduce((n, s) => n + s.failed, 0);
      console.log(
        `${route.name.padEnd(22)} ${rate(authed).toFixed(0).padStart(11)} ${`${median(authed.map((s) => s.p99))}ms`.padStart(7)}   ` +
          `ratio to bare ${(rate(authed) / rate(theirs)).toFixed(2)} ${spread(authed, theirs)}, ` +
          `to ours without Auth ${(rate(authed) / rate(mine)).toFixed(2)}` +
          (failed ? `  (${failed} failed requests!)` : ""),
      );
    }
  } finally {
    await Promise.all([ours.stop(), withAuth.stop(), bare.stop()]);
    await rm(dataDir, { recursive: true, force: true });
    await rm(authDataDir, { recursive: true, force: true });
  }
}

/** The lowest and highest per-round ratio. */
function spread(mine: Sample[], theirs: Sample[]): string {
  const perRound = mine.map((s, i) => s.requests / s.seconds / (theirs[i]!.requests / theirs[i]!.seconds));
  return `(${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})`;
}

await main();
