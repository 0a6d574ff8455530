/**
 * HTTP path benchmark (`npm run bench:http`): our server (`lgts serve` in a child process, as
 * deployed: JSON log on stdout, embedded durable storage in a temp dir) against a bare Express 5
 * app serving the same JSON from a Map in its own process (bench/bare-express.ts), the limit for
 * this design. autocannon drives both from this process with BENCH_HTTP_CONNECTIONS connections.
 *
 * Interleaved: each route runs BENCH_HTTP_ROUNDS rounds, each against ours and then the bare app
 * (the order swaps each round), BENCH_HTTP_SECONDS each, so both see the same machine load.
 * Printed per route and server: the median over rounds of requests/s, of p99 and of the server
 * process's CPU time per request (user + system, from /proc), and of the cores it kept busy (its
 * CPU seconds per second: below the bare app's while ours answers fewer requests, ours waits rather
 * than works, e.g. on the commit log's fsync); then ours as a ratio of bare:
 * - `req/s ratio`: the median of the rounds' ratios (and the lowest and highest round). This is
 *   the issue's measure; on a shared machine one round can be starved, hence the median.
 * - `CPU ratio`: bare's CPU per request over ours (median of the rounds). It is what the req/s
 *   ratio converges to when both servers are CPU-bound, and it barely moves with other load on the
 *   machine, so it is the figure to compare optimisations by.
 * The load average is printed before and after.
 *
 * The thread routes also run against a third server, ours with the example Auth
 * (examples/auth: an HS256 JWT verified per request, owner filters), interleaved the same way:
 * its ratios to bare, and its cost against ours without Auth.
 *
 * BENCH_HTTP_BARE_SHARED_MAPS=1 makes the bare app's server as ours is made (requests born with the
 * app's prototypes, src/http/express-server.ts), which plain Express apps are not: the limit of the
 * design once that advantage is taken from the comparison.
 *
 * With BENCH_HTTP_BASELINE=<another checkout> (e.g. `git worktree add /tmp/old main`, with its
 * node_modules), that checkout's server runs interleaved too, as "base": each route then also
 * prints ours against it, which is how an optimisation's gain is shown in one run.
 *
 * Options (env): BENCH_HTTP_SECONDS=2  BENCH_HTTP_ROUNDS=6  BENCH_HTTP_CONNECTIONS=50
 *   BENCH_HTTP_THREADS=1000 (threads created on both before measuring)  BENCH_DATA_DIR=<dir>
 *   BENCH_HTTP_ROUTES=get,search,ok,post (a subset, by short name)  BENCH_HTTP_AUTH=0 (no Auth server)
 *   BENCH_HTTP_BASELINE=<checkout dir>  BENCH_HTTP_BARE_SHARED_MAPS=1
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
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
const WITH_AUTH = process.env.BENCH_HTTP_AUTH !== "0";
const BASELINE = process.env.BENCH_HTTP_BASELINE;

interface Route {
  /** For BENCH_HTTP_ROUTES. */
  short: string;
  name: string;
  method: "GET" | "POST";
  path: (threadId: string) => string;
  body?: unknown;
  /** Issue 20's target: ours at least this share of bare Express (GET 90%, durable POST 80%). */
  target?: number;
  /** Also measured against ours with the example Auth. */
  withAuth?: boolean;
}

// POST /threads goes last so that every other route sees the same THREADS threads on both servers
const ALL_ROUTES: Route[] = [
  { short: "get", name: "GET /threads/{id}", method: "GET", path: (id) => `/threads/${id}`, target: 0.9, withAuth: true },
  { short: "search", name: "POST /threads/search", method: "POST", path: () => "/threads/search", body: { limit: 10 } },
  { short: "ok", name: "GET /ok", method: "GET", path: () => "/ok" },
  {
    short: "post",
    name: "POST /threads",
    method: "POST",
    path: () => "/threads",
    body: { metadata: { bench: "http" } },
    target: 0.8,
    withAuth: true,
  },
];
const chosen = process.env.BENCH_HTTP_ROUTES?.split(",").map((name) => name.trim());
const ROUTES = chosen ? ALL_ROUTES.filter((route) => chosen.includes(route.short)) : ALL_ROUTES;

interface Target {
  name: "ours" | "bare" | "auth" | "base";
  url: string;
  child: ChildProcess;
  threadId: string;
  headers: Record<string, string>;
}

async function startBare(): Promise<ChildServer> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./bare-express.ts", import.meta.url))], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, BARE_SHARED_MAPS: process.env.BENCH_HTTP_BARE_SHARED_MAPS === "1" ? "1" : "0" },
  });
  for await (const line of createInterface({ input: child.stdout })) {
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
    first ||= created[0].thread_id;
  }
  return first;
}

/** CPU seconds (user + system) a process has used, from /proc (NaN where there is none). */
function cpuSeconds(child: ChildProcess): number {
  try {
    // the fields after the parenthesised command name; utime and stime are the 12th and 13th
    const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100; // USER_HZ, 100 on Linux

interface Sample {
  rate: number;
  p99: number;
  /** Server CPU microseconds per answered request. */
  cpuPerRequest: number;
  /** Server CPU seconds per second of the round: the cores it kept busy. */
  cores: number;
  failed: number;
}

async function load(target: Target, route: Route): Promise<Sample> {
  const cpuBefore = cpuSeconds(target.child);
  const result = await autocannon({
    url: target.url + route.path(target.threadId),
    method: route.method,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: route.body === undefined ? target.headers : { ...target.headers, "content-type": "application/json" },
    ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
  });
  const cpu = cpuSeconds(target.child) - cpuBefore;
  return {
    rate: result.requests.total / result.duration,
    p99: result.latency.p99,
    cpuPerRequest: (cpu * 1e6) / result.requests.total,
    cores: cpu / result.duration,
    failed: result.errors + result.timeouts + result.non2xx,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const load1 = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

/** Ratios of `mine` to `theirs`, round by round: throughput, and CPU per request (inverted). */
function ratios(mine: Sample[], theirs: Sample[]) {
  const rate = mine.map((s, i) => s.rate / theirs[i].rate);
  const cpu = mine.map((s, i) => theirs[i].cpuPerRequest / s.cpuPerRequest);
  return {
    rate: median(rate),
    rateSpread: `(${Math.min(...rate).toFixed(2)}-${Math.max(...rate).toFixed(2)})`,
    cpu: median(cpu),
  };
}

const cells = (samples: Sample[]) =>
  `${median(samples.map((s) => s.rate))
    .toFixed(0)
    .padStart(7)} ${`${median(samples.map((s) => s.p99))}`.padStart(5)} ` +
  `${median(samples.map((s) => s.cpuPerRequest))
    .toFixed(0)
    .padStart(5)} ${median(samples.map((s) => s.cores))
    .toFixed(2)
    .padStart(5)}`;

async function main() {
  const dataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-http-"));
  const authDataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-http-auth-"));
  const ours = await serveChild(["--config", fileURLToPath(new URL("./graphs/langgraph.json", import.meta.url)), "--data-dir", dataDir]);
  const withAuth = WITH_AUTH
    ? await serveChild(["--config", fileURLToPath(new URL("../examples/auth/langgraph.json", import.meta.url)), "--data-dir", authDataDir])
    : undefined;
  const baseDataDir = BASELINE ? await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-http-base-")) : undefined;
  const base = BASELINE
    ? await serveChild(
        ["--config", path.join(BASELINE, "bench/graphs/langgraph.json"), "--data-dir", baseDataDir!],
        process.env,
        path.join(BASELINE, "bin/lgts.js"),
      )
    : undefined;
  const bare = await startBare();
  try {
    const token = { authorization: `Bearer ${await makeToken("bench-user")}` };
    const targets: Target[] = [
      { name: "ours", url: ours.url, child: ours.child, threadId: await seed(ours.url), headers: {} },
      { name: "bare", url: bare.url, child: bare.child, threadId: await seed(bare.url), headers: {} },
    ];
    if (withAuth) {
      targets.push({ name: "auth", url: withAuth.url, child: withAuth.child, threadId: await seed(withAuth.url, token), headers: token });
    }
    if (base) targets.push({ name: "base", url: base.url, child: base.child, threadId: await seed(base.url), headers: {} });
    console.log(
      `ours ${ours.url} (data in ${dataDir})${withAuth ? `, ours with the example Auth ${withAuth.url}` : ""}, bare Express${process.env.BENCH_HTTP_BARE_SHARED_MAPS === "1" ? " (requests born with the app's prototypes, as ours)" : ""} ${bare.url}; ` +
        `${base ? `baseline ${BASELINE} ${base.url}; ` : ""}${THREADS} threads each; ${CONNECTIONS} connections, ${ROUNDS} rounds x ${SECONDS} s per route and server, interleaved`,
    );
    console.log(`load average (1, 5, 15 min) before: ${load1()}`);
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
    console.log(`load average (1, 5, 15 min) after:  ${load1()}`);

    console.log(
      `\nmedians over ${ROUNDS} rounds: req/s, p99 (ms), server CPU per request (us), cores the server kept busy; ratios of ours to bare\n` +
        `${"route".padEnd(22)} ${"ours: req/s   p99   CPU cores".padEnd(30)} ${"bare: req/s   p99   CPU cores".padEnd(30)}` +
        ` ${"req/s ratio (rounds)".padEnd(22)} CPU ratio   target`,
    );
    for (const route of ROUTES) {
      const mine = samples.get(`${route.name}|ours`)!;
      const theirs = samples.get(`${route.name}|bare`)!;
      const ratio = ratios(mine, theirs);
      const failed = [...mine, ...theirs].reduce((n, s) => n + s.failed, 0);
      const verdict =
        route.target === undefined
          ? ""
          : `>= ${route.target.toFixed(2)}: ${ratio.rate >= route.target ? "met" : "MISSED"} (by CPU ratio: ${ratio.cpu >= route.target ? "met" : "missed"})`;
      console.log(
        `${route.name.padEnd(22)}      ${cells(mine)}       ${cells(theirs)}  ` +
          `${`${ratio.rate.toFixed(2)} ${ratio.rateSpread}`.padEnd(22)} ${ratio.cpu.toFixed(2).padEnd(11)} ${verdict}` +
          (failed ? `  (${failed} failed requests!)` : ""),
      );
    }
    if (base) {
      console.log(`\nbaseline (${BASELINE}): req/s, p99 (ms), CPU per request (us), cores; ours against it`);
      for (const route of ROUTES) {
        const theirs = samples.get(`${route.name}|base`)!;
        const ratio = ratios(samples.get(`${route.name}|ours`)!, theirs);
        console.log(
          `${route.name.padEnd(22)}      ${cells(theirs)}   ours/base: req/s ${ratio.rate.toFixed(2)} ${ratio.rateSpread}, CPU ratio ${ratio.cpu.toFixed(2)}` +
            ` (base's CPU per request over ours)`,
        );
      }
    }
    if (!withAuth) return;
    console.log("\nwith the example Auth (JWT verified per request, owner filters): req/s, p99 (ms), CPU per request (us), cores");
    for (const route of ROUTES.filter((r) => r.withAuth)) {
      const authed = samples.get(`${route.name}|auth`)!;
      const toBare = ratios(authed, samples.get(`${route.name}|bare`)!);
      const toOurs = ratios(authed, samples.get(`${route.name}|ours`)!);
      const failed = authed.reduce((n, s) => n + s.failed, 0);
      console.log(
        `${route.name.padEnd(22)}      ${cells(authed)}   ` +
          `to bare: req/s ratio ${toBare.rate.toFixed(2)} ${toBare.rateSpread}, CPU ratio ${toBare.cpu.toFixed(2)}; ` +
          `to ours without Auth: req/s ${toOurs.rate.toFixed(2)}, CPU ${toOurs.cpu.toFixed(2)}` +
          (failed ? `  (${failed} failed requests!)` : ""),
      );
    }
  } finally {
    await Promise.all([ours.stop(), withAuth?.stop(), base?.stop(), bare.stop()]);
    await rm(dataDir, { recursive: true, force: true });
    await rm(authDataDir, { recursive: true, force: true });
    if (baseDataDir) await rm(baseDataDir, { recursive: true, force: true });
  }
}

await main();
