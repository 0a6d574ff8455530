/**
 * The commit log of the embedded store: group commit across collections, replay after a crash,
 * checkpoints that leave no log behind.
 */
import { cp, open, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { CommitLog, replayLogs } from "../../src/storage/lowdb/commit-log.js";
import { nodeFileIO, type FileIO, type SyncableFile } from "../../src/storage/lowdb/durable-file.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { eventually } from "../support/runs.js";
import { logText, tempDir } from "./storage-helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function dataDir(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  return dir;
}

const logFiles = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith(".ndjson"));

/**
 * Writes `text` where the log's next line would go: after the text of the last log file holding
 * any (before its zeros, when it was prepared ahead).
 */
async function appendToLog(dir: string, text: string): Promise<void> {
  const names = (await logFiles(dir)).sort();
  let name = names[0];
  for (const candidate of names) if ((await logText(dir, candidate)) !== "") name = candidate;
  const file = await open(path.join(dir, name), "r+");
  try {
    await file.write(text, Buffer.byteLength(await logText(dir, name)));
  } finally {
    await file.close();
  }
}

/** File calls that record the log's writes (lines each) and fsyncs, and hold its first write until released. */
function heldFirstWrite() {
  let releaseWrite!: () => void;
  const writeHeld = new Promise<void>((resolve) => (releaseWrite = resolve));
  let writeStarted!: () => void;
  const started = new Promise<void>((resolve) => (writeStarted = resolve));
  const calls: string[] = [];
  const io: FileIO = {
    rename: nodeFileIO.rename,
    async open(file, flags) {
      const fh = await nodeFileIO.open(file, flags);
      if (!file.endsWith(".ndjson")) return fh;
      let writes = 0;
      return {
        writeFile: () => Promise.reject(new Error("the commit log writes at its offset")),
        async write(buffer, offset, length, position) {
          calls.push(
            `write ${
              buffer
                .toString("utf8", offset, offset + length)
                .trim()
                .split("\n").length
            }`,
          );
          if (writes++ === 0) {
            writeStarted();
            await writeHeld;
          }
          return fh.write(buffer, offset, length, position);
        },
        sync: () => (calls.push("sync"), fh.sync()),
        datasync: () => (calls.push("datasync"), fh.datasync()),
        close: () => fh.close(),
      };
    },
  };
  return { io, calls, started, releaseWrite };
}

describe("lowdb commit log", () => {
  it("acknowledges concurrent mutations of several collections with one flush", async () => {
    const dir = await dataDir();
    const storage = await LowdbStorage.open({ dataDir: dir });
    cleanups.unshift(() => storage.close());
    const before = storage.logFlushes;
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => storage.threads.create({ metadata: { i } })),
      ...Array.from({ length: 10 }, (_, i) =>
        storage.crons.create({ assistant_id: "a", schedule: "* * * * *", payload: {}, metadata: { i } } as never),
      ),
    ]);
    expect(storage.logFlushes - before).toBe(1);
  });

  it("after a flush of many writers, waits for them to come back rather than flushing the first few alone", async () => {
    const dir = await dataDir();
    const storage = await LowdbStorage.open({ dataDir: dir });
    cleanups.unshift(() => storage.close());
    const before = storage.logFlushes;
    const create = (n: number) => Array.from({ length: n }, (_, i) => storage.threads.create({ metadata: { i } }));
    const first = Promise.all(create(40));
    // the first flush is on its way: these five wait for the next one
    await new Promise((resolve) => setImmediate(resolve));
    const early = create(5);
    await first;
    // the 40 writers come back in a later turn, as clients in other processes do
    const back = await new Promise<Promise<unknown>[]>((resolve) => setImmediate(() => resolve(create(40))));
    await Promise.all([...early, ...back]);
    expect(storage.logFlushes - before).toBe(2);
  });

  it("writes lines appended during a flush's write behind it, before its fsync: one fsync for both", async () => {
    const dir = await dataDir();
    const { io, calls, started, releaseWrite } = heldFirstWrite();
    const log = new CommitLog(dir, 1, 1 << 20, () => {}, io);
    const first = log.append({ c: "t", r: { n: 1 } });
    await started;
    const late = [log.append({ c: "t", r: { n: 2 } }), log.append({ c: "t", r: { n: 3 } })];
    releaseWrite();
    await Promise.all([first, ...late]);
    expect(calls).toEqual(["write 1", "write 2", "datasync"]);
    const replayed: unknown[] = [];
    await replayLogs(dir, (entry) => replayed.push(entry));
    expect(replayed).toEqual([1, 2, 3].map((n) => ({ c: "t", r: { n } })));
    await log.close();
  });

  it("rotates under a steady load: the flush that follows each flush does not hold a checkpoint back", async () => {
    const dir = await dataDir();
    const log = new CommitLog(dir, 1, 1 << 20, () => {});
    // writers that append again as soon as their line is on disk: every flush ends with another pending
    const writer = async () => {
      for (let n = 0; n < 50; n++) await log.append({ c: "t", r: { n } });
    };
    const writers = [writer(), writer(), writer()];
    await new Promise((resolve) => setImmediate(resolve));
    let flushesAtRotation = -1;
    const rotated = log.rotate().then((previous) => {
      flushesAtRotation = log.flushes;
      return previous;
    });
    await Promise.all(writers);
    expect(await rotated).toBe(1);
    // rotated while the writers were still writing, not once they stopped
    expect(flushesAtRotation).toBeGreaterThan(0);
    expect(flushesAtRotation).toBeLessThan(log.flushes - 10);
    await log.close();
  });

  it("still acknowledges a flush's lines when the write of the lines that came during it fails; those wait for the next flush", async () => {
    const dir = await dataDir();
    let releaseWrite!: () => void;
    const writeHeld = new Promise<void>((resolve) => (releaseWrite = resolve));
    let writeStarted!: () => void;
    const started = new Promise<void>((resolve) => (writeStarted = resolve));
    let full = false;
    let writes = 0;
    const io: FileIO = {
      rename: nodeFileIO.rename,
      async open(file, flags) {
        const fh = await nodeFileIO.open(file, flags);
        if (!file.endsWith(".ndjson")) return fh;
        return {
          writeFile: () => Promise.reject(new Error("the commit log writes at its offset")),
          async write(buffer, offset, length, position) {
            if (writes++ === 0) {
              writeStarted();
              await writeHeld;
            } else if (full) {
              throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
            }
            return fh.write(buffer, offset, length, position);
          },
          sync: () => fh.sync(),
          datasync: () => fh.datasync(),
          close: () => fh.close(),
        };
      },
    };
    const log = new CommitLog(dir, 1, 1 << 20, () => {}, io);
    const first = log.append({ c: "t", r: { n: 1 } });
    await started;
    const late = log.append({ c: "t", r: { n: 2 } });
    full = true;
    releaseWrite();
    await first;
    await expect(late).rejects.toThrow(/write to the commit log failed/);
    await expect(log.durable()).rejects.toThrow(/write to the commit log failed/);
    full = false;
    await log.durable();
    const replayed: unknown[] = [];
    await replayLogs(dir, (entry) => replayed.push(entry));
    expect(replayed).toEqual([1, 2].map((n) => ({ c: "t", r: { n } })));
    await log.close();
  });

  it("gives back every acknowledged mutation after a crash that left only the log", async () => {
    const dir = await dataDir();
    const crashed = await LowdbStorage.open({ dataDir: dir });
    const kept = await crashed.threads.create({ metadata: { kept: true } });
    const patched = await crashed.threads.create({ metadata: { n: 0 } });
    await crashed.threads.patch(patched.thread_id, { metadata: { n: 1 } });
    const gone = await crashed.threads.create({});
    await crashed.threads.delete(gone.thread_id);
    // no close: the process "dies" here, before any checkpoint rewrote the shards
    expect(await logText(dir)).toContain(kept.thread_id);
    const shardText = (await Promise.all((await readdir(path.join(dir, "threads"))).map((f) => readFile(path.join(dir, "threads", f), "utf8")))).join(
      "",
    );
    expect(shardText).not.toContain(kept.thread_id);

    const reopened = await LowdbStorage.open({ dataDir: dir });
    cleanups.unshift(() => reopened.close());
    expect((await reopened.threads.get(kept.thread_id)).metadata).toEqual({ kept: true });
    expect((await reopened.threads.get(patched.thread_id)).metadata).toEqual({ n: 1 });
    await expect(reopened.threads.get(gone.thread_id)).rejects.toThrow(/not found/);
    // the replayed log is in the shards now, and gone
    expect(await logFiles(dir)).toEqual([]);
  });

  it("ignores a torn last line and refuses a corrupt one elsewhere", async () => {
    const dir = await dataDir();
    const crashed = await LowdbStorage.open({ dataDir: dir });
    const thread = await crashed.threads.create({});
    await appendToLog(dir, '{"c":"threads","r":{"thread_id":"tor');
    const reopened = await LowdbStorage.open({ dataDir: dir });
    expect((await reopened.threads.get(thread.thread_id)).thread_id).toBe(thread.thread_id);
    await reopened.close();

    const again = await LowdbStorage.open({ dataDir: dir });
    cleanups.unshift(() => again.close());
    await again.threads.create({});
    await appendToLog(dir, "garbage\n" + (await logText(dir)));
    await expect(LowdbStorage.open({ dataDir: dir })).rejects.toThrow(/corrupt commit log/);
  });

  it("keeps a run's end and the webhook delivery it owes together when a power loss tears the log between them", async () => {
    const dir = await dataDir();
    const crashed = await LowdbStorage.open({ dataDir: dir });
    const thread = await crashed.threads.create();
    const kwargs = parseRunRequest({ assistant_id: "a", input: {}, webhook: "http://127.0.0.1:9/hook" }, { stateless: false }).kwargs;
    const { run } = await crashed.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
    await crashed.runs.update(run.run_id, { status: "running", attempt: 1 });
    await crashed.runs.end(run.run_id, { update: { status: "success" }, webhook: { url: "http://127.0.0.1:9/hook", payload: () => ({ n: 1 }) } });
    // no close: the power goes while the end's bytes are written, at any point of them; the file
    // keeps its size (prepared ahead, or grown by the write's metadata) and zeros past the cut
    let file = "";
    let after = "";
    for (const name of await logFiles(dir)) {
      const text = await logText(dir, name);
      if (text.includes('"status":"success"')) [file, after] = [name, text];
    }
    expect(file).not.toBe("");
    const before = after.lastIndexOf("\n", after.indexOf('"status":"success"')) + 1;
    const cuts = new Set<number>();
    for (let at = before; at <= after.length; at++) if (at === before || after[at - 1] === "\n" || (at - before) % 97 === 0) cuts.add(at);
    expect(cuts.size).toBeGreaterThan(3);
    for (const cut of cuts) {
      const copy = await dataDir();
      await cp(dir, copy, { recursive: true });
      const bytes = await readFile(path.join(copy, file));
      bytes.fill(0, Buffer.byteLength(after.slice(0, cut)), Buffer.byteLength(after));
      await writeFile(path.join(copy, file), bytes);
      const reopened = await LowdbStorage.open({ dataDir: copy });
      const status = (await reopened.runs.get(run.run_id)).status;
      const deliveries = await reopened.webhooks.claim("p", 10, 30_000);
      await reopened.close();
      // both or neither: the run ended with its delivery owed, or still running and owing nothing
      expect({ cut: cut - before, status, deliveries: deliveries.length }).toEqual({
        cut: cut - before,
        status: cut === after.length ? "success" : "running",
        deliveries: cut === after.length ? 1 : 0,
      });
    }
  });

  it("leaves no log after a clean close; the shards hold everything", async () => {
    const dir = await dataDir();
    const storage = await LowdbStorage.open({ dataDir: dir });
    const thread = await storage.threads.create({ metadata: { a: 1 } });
    await storage.close();
    // the file prepared ahead too
    expect((await readdir(dir)).filter((name) => name.startsWith("log-"))).toEqual([]);
    const reopened = await LowdbStorage.open({ dataDir: dir });
    cleanups.unshift(() => reopened.close());
    expect((await reopened.threads.get(thread.thread_id)).metadata).toEqual({ a: 1 });
  });

  it("checkpoints as the log grows: shards catch up, old logs go, nothing is lost", async () => {
    const dir = await dataDir();
    const storage = await LowdbStorage.open({ dataDir: dir, checkpointLogBytes: 4096 });
    const ids: string[] = [];
    for (let round = 0; round < 20; round++) {
      const created = await Promise.all(Array.from({ length: 10 }, () => storage.threads.create({ metadata: { round } })));
      ids.push(...created.map((t) => t.thread_id));
    }
    // checkpoints run in the background: wait until the oldest generations are gone (one look at
    // the directory: a checkpoint or a file prepared ahead may add a generation right after)
    const deadline = Date.now() + 10_000;
    let files = await logFiles(dir);
    while (files.length > 2 && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      files = await logFiles(dir);
    }
    expect(files.length).toBeLessThanOrEqual(2);
    expect(storage.stats().threads.writes).toBeGreaterThan(0);
    // a crash now (no close): shards plus the logs still present hold every thread
    const reopened = await LowdbStorage.open({ dataDir: dir });
    cleanups.unshift(() => reopened.close());
    for (const id of ids) expect((await reopened.threads.get(id)).thread_id).toBe(id);
  });
});

describe("lowdb commit log files prepared ahead", () => {
  /** File calls that log the log's writes, syncs and opens; `holdPreparing()` holds the next prepared file's sync. */
  function preparedIO() {
    const calls: string[] = [];
    let gate: Promise<void> | null = null;
    let release: () => void = () => {};
    let held: () => void = () => {};
    const io: FileIO = {
      rename: (from, to) => (calls.push(`rename ${path.basename(from)} ${path.basename(to)}`), nodeFileIO.rename(from, to)),
      async open(file, flags) {
        const fh = await nodeFileIO.open(file, flags);
        const name = path.basename(file);
        if (!name.startsWith("log-")) return fh;
        calls.push(`open ${name} ${flags}`);
        return {
          writeFile: () => Promise.reject(new Error("the commit log writes at its offset")),
          async write(buffer, offset, length, position) {
            if (name.endsWith(".ndjson")) calls.push(`write ${name} ${position} ${length}`);
            return fh.write(buffer, offset, length, position);
          },
          async sync() {
            calls.push(`sync ${name}`);
            if (name === "log-next.tmp" && gate) {
              held();
              await gate;
            }
            return fh.sync();
          },
          datasync: () => (calls.push(`datasync ${name}`), fh.datasync()),
          close: () => fh.close(),
        };
      },
    };
    return {
      io,
      calls,
      holdPreparing() {
        const started = new Promise<void>((resolve) => (held = resolve));
        gate = new Promise<void>((resolve) => (release = resolve));
        return { started, release: () => ((gate = null), release()) };
      },
    };
  }

  const entry = (n: number) => ({ c: "t", r: { n, pad: "x".repeat(900) } });
  const bytes = (n: number) => Buffer.byteLength(JSON.stringify(entry(n)) + "\n");
  const replayed = async (dir: string) => {
    const entries: unknown[] = [];
    await replayLogs(dir, (e) => entries.push(e));
    return entries;
  };
  const sizeOf = async (dir: string, name: string) => (await stat(path.join(dir, name))).size;

  it("writes into zeros prepared and synced ahead, at the running offset, and acknowledges after the file's fdatasync", async () => {
    const dir = await dataDir();
    const { io, calls } = preparedIO();
    const log = new CommitLog(dir, 1, 1 << 20, () => {}, io, { min: 4096, max: 4096 });
    await log.append(entry(0)); // a generation's first file, created as it is written
    // the next one is prepared meanwhile: zeros, synced, renamed to a log's name, directory synced
    await eventually(async () => (calls.includes("open log-00000002.ndjson r+") ? true : undefined), 10_000, "the prepared file");
    expect(calls.filter((call) => /log-next|log-00000002/.test(call))).toEqual([
      "open log-next.tmp w",
      "sync log-next.tmp",
      "rename log-next.tmp log-00000002.ndjson",
      "open log-00000002.ndjson r+",
    ]);
    expect(await sizeOf(dir, "log-00000002.ndjson")).toBe(4096);
    calls.length = 0;
    // the next flush moves to it (the first file grows with every write)
    for (let n = 1; n <= 3; n++) await log.append(entry(n));
    const writes = calls.filter((call) => call.startsWith("write log-00000002"));
    expect(writes).toEqual([
      `write log-00000002.ndjson 0 ${bytes(1)}`,
      `write log-00000002.ndjson ${bytes(1)} ${bytes(2)}`,
      `write log-00000002.ndjson ${bytes(1) + bytes(2)} ${bytes(3)}`,
    ]);
    // every acknowledgement followed its file's fdatasync; the log never fsyncs its files
    expect(calls.filter((call) => call.startsWith("datasync")).length).toBe(3);
    expect(calls.filter((call) => call.startsWith("sync log-0"))).toEqual([]);
    expect(await sizeOf(dir, "log-00000002.ndjson")).toBe(4096);
    expect(await replayed(dir)).toEqual([0, 1, 2, 3].map(entry));
    await log.close();
  });

  it("grows the current file when writes outrun the preparation, without waiting for it, and moves on once it is ready", async () => {
    const dir = await dataDir();
    const prepared = preparedIO();
    const held = prepared.holdPreparing();
    const log = new CommitLog(dir, 1, 1 << 20, () => {}, prepared.io, { min: 4096, max: 4096 });
    await log.append(entry(0));
    await held.started; // the next file's zeros wait for their sync
    for (let n = 1; n <= 10; n++) await log.append(entry(n)); // acknowledged all the same
    const grown = [...Array(11).keys()].reduce((sum, n) => sum + bytes(n), 0);
    expect(await sizeOf(dir, "log-00000001.ndjson")).toBe(grown);
    held.release();
    await eventually(async () => (prepared.calls.includes("open log-00000002.ndjson r+") ? true : undefined), 10_000, "the prepared file");
    for (let n = 11; n <= 14; n++) await log.append(entry(n));
    // the first file stopped growing; the prepared one took the lines
    expect(await sizeOf(dir, "log-00000001.ndjson")).toBe(grown);
    expect(prepared.calls).toContain(`write log-00000002.ndjson 0 ${bytes(11)}`);
    expect(await replayed(dir)).toEqual(Array.from({ length: 15 }, (_, n) => entry(n)));
    await log.close();
  });

  it("moves to the next prepared file when one fills up; the sizes double up to the largest", async () => {
    const dir = await dataDir();
    const log = new CommitLog(dir, 1, 1 << 30, () => {}, nodeFileIO, { min: 4096, max: 16384 });
    for (let n = 0; n < 120; n++) {
      await log.append(entry(n));
      await new Promise((resolve) => setTimeout(resolve, 2)); // time to prepare the next file
    }
    const sizes = await Promise.all((await logFiles(dir)).sort().map((name) => sizeOf(dir, name)));
    expect(sizes.length).toBeGreaterThan(4);
    expect(sizes).toContain(4096);
    expect(sizes).toContain(8192);
    expect(sizes).toContain(16384);
    expect(await replayed(dir)).toEqual(Array.from({ length: 120 }, (_, n) => entry(n)));
    await log.close();
  });

  it("on a full disk, fails a preparation without a trace or a retry at every flush; files grow until one succeeds", async () => {
    const dir = await dataDir();
    const disk = { full: true, preparations: 0 };
    const io: FileIO = {
      rename: nodeFileIO.rename,
      async open(file, flags) {
        const fh = await nodeFileIO.open(file, flags);
        if (path.basename(file) !== "log-next.tmp") return fh;
        disk.preparations++;
        return Object.assign(Object.create(fh) as SyncableFile, {
          write: (buffer: Buffer, offset: number, length: number, position: number) =>
            disk.full
              ? Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }))
              : fh.write(buffer, offset, length, position),
          sync: () => fh.sync(),
          close: () => fh.close(),
        });
      },
    };
    const log = new CommitLog(dir, 1, 1 << 30, () => {}, io, { min: 4096, max: 4096 });
    for (let n = 0; n < 20; n++) await log.append(entry(n));
    expect(disk.preparations).toBe(1);
    expect(log.grown).toBe(20);
    expect(await readdir(dir)).toEqual(["log-00000001.ndjson"]);
    disk.full = false;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // tried again at the next flush; once ready, a flush writes into it without growing a file
    let n = 20;
    await eventually(
      async () => {
        const grown = log.grown;
        await log.append(entry(n++));
        return log.grown === grown ? true : undefined;
      },
      10_000,
      "a flush into a prepared file",
    );
    expect(await replayed(dir)).toEqual(Array.from({ length: n }, (_, i) => entry(i)));
    await log.close();
  });

  it("drops a file whose preparation ends after the log moved past its generation: lines stay in order", async () => {
    const dir = await dataDir();
    let renameHeld!: () => void;
    const renameStarted = new Promise<void>((resolve) => (renameHeld = resolve));
    let releaseRename!: () => void;
    const renameGate = new Promise<void>((resolve) => (releaseRename = resolve));
    const io: FileIO = {
      open: nodeFileIO.open,
      async rename(from, to) {
        if (path.basename(from) === "log-next.tmp") {
          renameHeld();
          await renameGate;
        }
        return nodeFileIO.rename(from, to);
      },
    };
    const log = new CommitLog(dir, 1, 1 << 30, () => {}, io, { min: 4096, max: 4096 });
    await log.append(entry(0));
    await renameStarted; // prepared as generation 2, not renamed yet
    expect(await log.rotate()).toBe(1); // nothing ready: generation 3, created by the next flush
    await log.append(entry(1));
    releaseRename();
    // renamed to generation 2's name, then deleted: older than generation 3, which holds a line
    await eventually(
      async () => ((await readdir(dir)).some((name) => name === "log-next.tmp" || name === "log-00000002.ndjson") ? undefined : true),
      5000,
      "the file prepared as generation 2 to go",
    );
    // had generation 2 been taken, these would replay before entry 1
    for (let n = 2; n < 10; n++) await log.append(entry(n));
    expect(await replayed(dir)).toEqual(Array.from({ length: 10 }, (_, n) => entry(n)));
    await log.close();
  });

  it("ignores and deletes a file a crash left half prepared, or prepared and never written to", async () => {
    const dir = await dataDir();
    const storage = await LowdbStorage.open({ dataDir: dir });
    const thread = await storage.threads.create({ metadata: { kept: true } });
    // no close: the process dies while preparing a file (whatever it holds is never read), with
    // another one prepared
    await writeFile(path.join(dir, "log-next.tmp"), JSON.stringify({ c: "threads", d: thread.thread_id }) + "\n");
    await writeFile(path.join(dir, "log-00000099.ndjson"), Buffer.alloc(8192));
    const reopened = await LowdbStorage.open({ dataDir: dir });
    cleanups.unshift(() => reopened.close());
    expect((await reopened.threads.get(thread.thread_id)).metadata).toEqual({ kept: true });
    expect((await readdir(dir)).filter((name) => name.startsWith("log-"))).toEqual([]);
  });
});
