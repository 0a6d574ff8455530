/**
 * Archive benchmark (`npm run bench:archive`): memory and time of export and import at growing
 * sizes, to show they stream (memory flat in the data's size).
 *
 * For each size (threads; each with a ~1 KB checkpoint, and a store item per 10 threads):
 *  1. seed an embedded data directory (not measured);
 *  2. in a fresh child process each: export the data directory to an archive, and (with
 *     DATABASE_URI) import that archive into a new PostgreSQL database, export it from there, and
 *     move the data directory into another database (lgts migrate's copy);
 *  3. print each step's time, the child's RSS before it and its peak during it (sampled every
 *     10 ms), and the live heap (in use after a full collection, every 500 ms) before and at
 *     most during it.
 * The embedded store holds its data in memory, so opening it costs memory in proportion: what
 * must stay flat is the live heap's growth during the step. (RSS growth is printed too; V8 lets
 * garbage grow with the live heap before collecting, so with a large store open it says little.)
 *
 * The forced collections slow the steps down (a full collection of a large store's heap each
 * 500 ms): their times are upper bounds.
 *
 * Measured (2 shared cores; 10k -> 100k threads, live heap growth during the step): export of
 * the embedded store +1 -> +2.6 MB, import into PostgreSQL +1.8 -> +2.2 MB, export of PostgreSQL
 * +2.7 -> +3.2 MB, migrate embedded -> PostgreSQL +1.3 -> +2.9 MB; the embedded snapshot took
 * 7 ms at 100k threads.
 *
 * Options (env): BENCH_SIZES=10000,100000  DATABASE_URI=postgres://... (a server the bench may
 * create databases on)  BENCH_KEEP=1. Exits 1 when a step's live heap growth at the largest size
 * is more than 3x the smallest's plus 16 MB.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { copyStorage } from "../src/storage/archive/copy.js";
import { exportToFile } from "../src/storage/archive/export.js";
import { importArchive, openArchiveFile } from "../src/storage/archive/import.js";
import { openStorage, type Storage } from "../src/storage/index.js";
import { LowdbStorage } from "../src/storage/lowdb/storage.js";

const SIZES = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const MB = 1024 * 1024;

type Step = {
  step: string;
  ms: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  growthMb: number;
  /** Heap in use after a full collection, most seen during the step minus before it. */
  liveGrowthMb: number;
};

/** Heap still in use after a full collection (what the step keeps alive). */
function liveHeap(): number {
  global.gc!();
  return process.memoryUsage().heapUsed;
}

async function measure(step: string, work: () => Promise<void>): Promise<Step> {
  const liveBefore = liveHeap();
  let livePeak = liveBefore;
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  // a full collection now and then: V8 lets garbage pile up in proportion to the live heap
  // (a large embedded store), which RSS alone cannot tell from memory kept alive
  const liveSampler = setInterval(() => (livePeak = Math.max(livePeak, liveHeap())), 500);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  clearInterval(sampler);
  clearInterval(liveSampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return {
    step,
    ms: Math.round(ms),
    rssBeforeMb: round(before / MB),
    rssPeakMb: round(peak / MB),
    growthMb: round((peak - before) / MB),
    liveGrowthMb: round((livePeak - liveBefore) / MB),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

async function seed(dataDir: string, threads: number): Promise<void> {
  const storage = await LowdbStorage.open({ dataDir });
  const at = new Date().toISOString();
  const batch = 1000;
  for (let start = 0; start < threads; start += batch) {
    const ids = Array.from({ length: Math.min(batch, threads - start) }, (_, i) => `thread-${String(start + i).padStart(7, "0")}`);
    await storage.archive.restore(
      "thread",
      ids.map((thread_id, i) => ({
        thread_id,
        created_at: at,
        updated_at: at,
        state_updated_at: at,
        metadata: { owner: `user-${(start + i) % 100}`, graph_id: "agent" },
        status: "idle" as const,
        values: { messages: [{ type: "human", content: `hello ${start + i}` }] },
        interrupts: {},
        config: {},
        error: null,
      })),
    );
    await storage.archive.restore(
      "checkpoint",
      ids.map((thread_id) => ({
        thread_id,
        checkpoint_ns: "",
        checkpoint_id: "1ef00000-0000-6000-8000-000000000001",
        parent_checkpoint_id: null,
        checkpoint: { type: "json", data: JSON.stringify({ v: 4, channel_values: { messages: "x".repeat(900) } }) },
        metadata: { source: "loop", step: 1 },
        created_at: at,
      })),
    );
    await storage.archive.restore(
      "store_item",
      ids
        .filter((_, i) => i % 10 === 0)
        .map((id) => ({
          namespace: ["memories", id],
          key: "profile",
          value: { text: `notes about ${id}` },
          created_at: at,
          updated_at: at,
          ttl_minutes: null,
          expires_at: null,
          vectors: [{ field: "text", vector: Array.from({ length: 64 }, (_, k) => Math.sin(k)) }],
        })),
    );
  }
  await storage.close();
}

/** One step in this (child) process: prints its Step as JSON. */
async function child(step: string, args: string[]): Promise<void> {
  const open = (where: string): Promise<Storage> =>
    where.startsWith("postgres") ? openStorage({ backend: "postgres", uri: where }) : openStorage({ backend: "lowdb", dataDir: where });
  const [from, to] = args as [string, string];
  let result: Step;
  if (step === "export") {
    const storage = await open(from);
    if (storage.backend === "lowdb") {
      const started = performance.now();
      await storage.archive.snapshot(async () => undefined);
      console.error(`  embedded snapshot taken in ${round(performance.now() - started)} ms`);
    }
    result = await measure(`export ${from.startsWith("postgres") ? "postgres" : "embedded"}`, async () => void (await exportToFile(storage, to)));
    await storage.close();
  } else if (step === "import") {
    const storage = await open(to);
    result = await measure(
      `import into ${to.startsWith("postgres") ? "postgres" : "embedded"}`,
      async () => void (await importArchive(storage, await openArchiveFile(from))),
    );
    await storage.close();
  } else {
    const [source, target] = [await open(from), await open(to)];
    result = await measure("migrate embedded -> postgres", async () => void (await copyStorage(source, target)));
    await Promise.all([source.close(), target.close()]);
  }
  console.log(JSON.stringify(result));
}

function runChild(step: string, ...args: string[]): Promise<Step> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "child", step, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
    proc.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!) as Step) : reject(new Error(`${step} exited ${code}`)),
    );
  });
}

async function withDatabase<T>(serverUri: string, work: (uri: string) => Promise<T>): Promise<T> {
  const name = `lgts_bench_archive_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUri });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(serverUri);
    url.pathname = `/${name}`;
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const serverUri = process.env.DATABASE_URI;
  const results = new Map<number, Step[]>();
  for (const size of SIZES) {
    const dir = await mkdtemp(path.join(tmpdir(), "lgts-bench-archive-"));
    try {
      const dataDir = path.join(dir, "data");
      const archive = path.join(dir, "archive.jsonl.gz");
      const seeded = performance.now();
      await seed(dataDir, size);
      console.log(`${size} threads seeded in ${Math.round(performance.now() - seeded)} ms`);
      const steps = [await runChild("export", dataDir, archive)];
      console.log(`  archive: ${round((await stat(archive)).size / MB)} MB`);
      if (serverUri) {
        await withDatabase(serverUri, async (uri) => {
          steps.push(await runChild("import", archive, uri));
          steps.push(await runChild("export", uri, path.join(dir, "from-postgres.jsonl.gz")));
        });
        await withDatabase(serverUri, async (uri) => void steps.push(await runChild("migrate", dataDir, uri)));
      }
      steps.push(await runChild("import", archive, path.join(dir, "imported")));
      for (const s of steps) {
        console.log(
          `  ${s.step.padEnd(30)} ${String(s.ms).padStart(7)} ms  rss ${s.rssBeforeMb} -> ${s.rssPeakMb} MB (+${s.growthMb}), live heap +${s.liveGrowthMb} MB`,
        );
      }
      results.set(size, steps);
    } finally {
      if (!process.env.BENCH_KEEP) await rm(dir, { recursive: true, force: true });
    }
  }
  const [smallest, largest] = [SIZES[0], SIZES.at(-1)!];
  let failed = false;
  console.log(`\ngrowth during each step, ${largest} vs ${smallest} threads (${largest / smallest}x the data):`);
  for (const [i, small] of results.get(smallest)!.entries()) {
    const large = results.get(largest)![i];
    // importing into the embedded store grows it by the data itself (it is held in memory)
    const holdsData = small.step === "import into embedded";
    const flat = holdsData || large.liveGrowthMb <= 3 * small.liveGrowthMb + 16;
    failed ||= !flat;
    console.log(
      `  ${small.step.padEnd(30)} live heap +${small.liveGrowthMb} MB -> +${large.liveGrowthMb} MB, rss +${small.growthMb} MB -> +${large.growthMb} MB${holdsData ? " (the store itself grows)" : flat ? "  flat" : "  NOT FLAT"}`,
    );
  }
  if (failed) process.exit(1);
}

if (process.argv[2] === "child") await child(process.argv[3], process.argv.slice(4));
else await main();
