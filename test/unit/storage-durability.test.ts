/**
 * Power-loss safety cannot be seen through the page cache or by SIGKILL (the kernel keeps
 * unsynced data), so these tests watch the file calls a write makes through the `FileIO` seam:
 * the data and the directory entry must both be fsynced before the write is acknowledged.
 */
import { cp, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DurableJsonFile, nodeFileIO, type FileIO, type SyncableFile } from "../../src/storage/lowdb/durable-file.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { logText, tempDir, TEST_SHARDS } from "./storage-helpers.js";
import { NotFoundError, StorageUnavailableError } from "../../src/storage/errors.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { putCheckpointChain } from "./archive-fill.js";
import { shardOf } from "../../src/storage/lowdb/hash.js";
import { eventually } from "../support/runs.js";

type Op = "write" | "sync" | "datasync" | "close" | "rename";
interface Event {
  op: Op;
  phase: "start" | "end";
  file: string;
}
/** A file by its path, or any file whose path matches (e.g. every commit-log file). */
type FileMatch = string | RegExp;
const matches = (match: FileMatch, file: string) => (typeof match === "string" ? match === file : match.test(file));

/** Node's file calls, logged; `hold(op, file)` keeps the next such call pending until released. */
function recordingIO() {
  const log: Event[] = [];
  const holds: { op: Op; file: FileMatch; started: () => void; released: Promise<void> }[] = [];
  async function step<T>(op: Op, file: string, call: () => Promise<T>): Promise<T> {
    log.push({ op, phase: "start", file });
    const at = holds.findIndex((hold) => hold.op === op && matches(hold.file, file));
    if (at >= 0) {
      const [hold] = holds.splice(at, 1);
      hold.started();
      await hold.released;
    }
    const result = await call();
    log.push({ op, phase: "end", file });
    return result;
  }
  const io: FileIO = {
    async open(file, flags) {
      const fh = await nodeFileIO.open(file, flags);
      const recorded: SyncableFile = {
        writeFile: (text, encoding) => step("write", file, () => fh.writeFile(text, encoding)),
        write: (buffer, offset, length, position) => step("write", file, () => fh.write(buffer, offset, length, position)),
        sync: () => step("sync", file, () => fh.sync()),
        datasync: () => step("datasync", file, () => fh.datasync()),
        close: () => step("close", file, () => fh.close()),
      };
      return recorded;
    },
    rename: (from, to) => step("rename", from, () => nodeFileIO.rename(from, to)),
  };
  return {
    io,
    log,
    /** Holds the next `op` on `file`; resolves `started` when it begins. */
    hold(op: Op, file: FileMatch) {
      let release!: () => void;
      let started!: () => void;
      const startedPromise = new Promise<void>((resolve) => (started = resolve));
      holds.push({ op, file, started, released: new Promise<void>((resolve) => (release = resolve)) });
      return { started: startedPromise, release };
    },
    indexOf(op: Op, phase: "start" | "end", file: FileMatch): number {
      return log.findIndex((e) => e.op === op && e.phase === phase && matches(file, e.file));
    },
  };
}

/** Every commit-log file (a generation's first file, or one prepared ahead). */
const LOG_FILE = /log-\d+\.ndjson$/;

/** Waits until the held call has begun; fails at once if `write` settles first (it skipped the call). */
async function untilHeld(held: { started: Promise<void> }, write: Promise<unknown>): Promise<void> {
  const skipped = write.then(
    () => Promise.reject(new Error("acknowledged without making the held call")),
    (err: unknown) => Promise.reject(err as Error),
  );
  await Promise.race([held.started, skipped]);
}

/** Whether `promise` is still pending after the event loop has had several turns to settle it. */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
async function dir(): Promise<string> {
  const temp = await tempDir("lgts-durable-");
  cleanups.push(temp.cleanup);
  return temp.dir;
}

describe("DurableJsonFile write", () => {
  it("syncs the data before the rename and the directory after it", async () => {
    const folder = await dir();
    const file = path.join(folder, "data.json");
    const rec = recordingIO();
    await new DurableJsonFile<{ n: number }>(file, rec.io).write({ n: 1 });

    const temp = file + ".tmp";
    const dataWritten = rec.indexOf("write", "end", temp);
    const dataSynced = rec.indexOf("sync", "end", temp);
    const renamed = rec.indexOf("rename", "start", temp);
    const renameDone = rec.indexOf("rename", "end", temp);
    const dirSyncStart = rec.indexOf("sync", "start", folder);
    const dirSynced = rec.indexOf("sync", "end", folder);
    expect(dataWritten).toBeGreaterThanOrEqual(0);
    expect(dataSynced).toBeGreaterThan(dataWritten);
    expect(renamed).toBeGreaterThan(dataSynced);
    expect(dirSyncStart).toBeGreaterThan(renameDone);
    expect(dirSynced).toBeGreaterThan(dirSyncStart);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ n: 1 });
  });

  it("is not acknowledged until the data is synced", async () => {
    const folder = await dir();
    const file = path.join(folder, "data.json");
    const rec = recordingIO();
    const held = rec.hold("sync", file + ".tmp");
    const write = new DurableJsonFile(file, rec.io).write({ n: 1 });
    await untilHeld(held, write);
    expect(await stillPending(write)).toBe(true);
    expect(rec.indexOf("rename", "start", file + ".tmp")).toBe(-1);
    held.release();
    await write;
  });

  it("is not acknowledged until the directory entry is synced", async () => {
    const folder = await dir();
    const file = path.join(folder, "data.json");
    const rec = recordingIO();
    const held = rec.hold("sync", folder);
    const write = new DurableJsonFile(file, rec.io).write({ n: 1 });
    await untilHeld(held, write);
    expect(await stillPending(write)).toBe(true);
    held.release();
    await write;
    expect(rec.indexOf("sync", "end", folder)).toBeGreaterThan(rec.indexOf("rename", "end", file + ".tmp"));
  });
});

describe("DurableJsonFile appendText", () => {
  it("writes at the file's end in place and is acknowledged once fdatasync returns", async () => {
    const folder = await dir();
    const file = path.join(folder, "data.json");
    await new DurableJsonFile<unknown>(file).writeText('{"n":1}');
    const rec = recordingIO();
    const held = rec.hold("datasync", file);
    const append = new DurableJsonFile<unknown>(file, rec.io).appendText(7, '\n{"n":2}');
    await untilHeld(held, append);
    expect(await stillPending(append)).toBe(true);
    held.release();
    await append;
    expect(rec.indexOf("datasync", "end", file)).toBeGreaterThan(rec.indexOf("write", "end", file));
    expect(rec.indexOf("rename", "start", file + ".tmp")).toBe(-1);
    expect(await readFile(file, "utf8")).toBe('{"n":1}\n{"n":2}');
  });
});

describe("LowdbStorage acknowledgements", () => {
  it("acknowledges a create only after its commit log line is synced, and the new log's directory entry", async () => {
    const dataDir = await dir();
    const rec = recordingIO();
    const storage = await LowdbStorage.open({ dataDir, io: rec.io });
    cleanups.unshift(() => storage.close());
    const log = path.join(dataDir, "log-00000001.ndjson");

    // the first flush creates the log file: its entry in the data directory must be durable too
    const heldDir = rec.hold("sync", dataDir);
    const create = storage.threads.create({ metadata: { k: 1 } });
    await untilHeld(heldDir, create);
    expect(await stillPending(create)).toBe(true);

    const heldData = rec.hold("datasync", log);
    heldDir.release();
    await untilHeld(heldData, create);
    expect(await stillPending(create)).toBe(true);
    heldData.release();
    const thread = await create;
    expect(rec.indexOf("datasync", "end", log)).toBeGreaterThan(rec.indexOf("write", "end", log));
    expect(await readFile(log, "utf8")).toContain(thread.thread_id);
  });

  it("rewrites a changed shard durably at close, through the same file calls", async () => {
    const dataDir = await dir();
    const rec = recordingIO();
    const storage = await LowdbStorage.open({ dataDir, io: rec.io, shards: { ...TEST_SHARDS, threads: 1 } });
    const thread = await storage.threads.create({ metadata: { k: 1 } });
    await storage.close();
    const shardTemp = path.join(dataDir, "threads", "000.json.tmp");
    expect(rec.indexOf("sync", "end", shardTemp)).toBeGreaterThanOrEqual(0);
    const threadsDir = path.join(dataDir, "threads");
    const lastDirSync = rec.log.findLastIndex((e) => e.op === "sync" && e.phase === "end" && e.file === threadsDir);
    expect(lastDirSync).toBeGreaterThan(rec.indexOf("rename", "end", shardTemp));
    const stored = JSON.parse(await readFile(path.join(dataDir, "threads", "000.json"), "utf8"));
    expect(stored.records[thread.thread_id].metadata).toEqual({ k: 1 });
  });

  it("syncs a new collection's metadata and its entry in the data directory", async () => {
    const dataDir = await dir();
    const rec = recordingIO();
    const storage = await LowdbStorage.open({ dataDir, io: rec.io, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());
    for (const collection of ["assistants", "threads", "checkpoints", "runs", "crons", "store"]) {
      const meta = path.join(dataDir, collection, "meta.json.tmp");
      expect(rec.indexOf("sync", "end", meta), collection).toBeGreaterThanOrEqual(0);
      expect(rec.indexOf("sync", "end", path.join(dataDir, collection)), collection).toBeGreaterThanOrEqual(0);
    }
    // the collection folders themselves are entries of the data directory
    expect(rec.indexOf("sync", "end", dataDir)).toBeGreaterThanOrEqual(0);
  });
});

describe("LowdbStorage after a failed write", () => {
  it("reports no change a failed log write left unsaved: its reads fail until a flush carries it, then it is durable", async () => {
    const dataDir = await dir();
    const disk = { full: false };
    const io: FileIO = {
      rename: nodeFileIO.rename,
      async open(file, flags) {
        const fh = await nodeFileIO.open(file, flags);
        const isLog = /log-\d+\.ndjson$/.test(file);
        return {
          writeFile: (text, encoding) =>
            isLog && disk.full
              ? Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }))
              : fh.writeFile(text, encoding),
          write: (buffer, offset, length, position) =>
            isLog && disk.full
              ? Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }))
              : fh.write(buffer, offset, length, position),
          sync: () => fh.sync(),
          datasync: () => fh.datasync(),
          close: () => fh.close(),
        };
      },
    };
    const storage = await LowdbStorage.open({ dataDir, io, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());
    const thread = await storage.threads.create();
    disk.full = true;
    await expect(storage.threads.patch(thread.thread_id, { metadata: { k: 1 } })).rejects.toBeInstanceOf(StorageUnavailableError);
    // memory holds the change, the disk does not: a read must not report it (a crash takes it back)
    await expect(storage.threads.get(thread.thread_id)).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(storage.threads.get(thread.thread_id)).rejects.toBeInstanceOf(StorageUnavailableError);

    disk.full = false;
    expect((await storage.threads.get(thread.thread_id)).metadata).toEqual({ k: 1 });
    // the read flushed it: a crash now (no close) keeps it
    const reopened = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    expect((await reopened.threads.get(thread.thread_id)).metadata).toEqual({ k: 1 });
    await reopened.close();
  });
});

describe("LowdbStorage check", () => {
  it("passes with a durable write, and fails once the data directory is gone or the storage closed", async () => {
    const dataDir = await dir();
    const rec = recordingIO();
    const storage = await LowdbStorage.open({ dataDir, io: rec.io, shards: { ...TEST_SHARDS, threads: 1 } });
    await storage.check();
    expect(rec.indexOf("sync", "end", path.join(dataDir, "health.json.tmp"))).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(await readFile(path.join(dataDir, "health.json"), "utf8")).checked_at).toEqual(expect.any(String));

    await rm(dataDir, { recursive: true, force: true });
    await expect(storage.check()).rejects.toMatchObject({ name: "StorageUnavailableError", kind: "unavailable" });
    await storage.close();
    await expect(storage.check()).rejects.toMatchObject({ name: "StorageUnavailableError", message: "storage is closed" });
  });
});

describe("LowdbStorage deferred thread creation (a stateless run's thread)", () => {
  it("applies the thread without waiting for its flush; the run created on it next carries it to disk, so a crash then keeps both", async () => {
    const dataDir = await dir();
    const rec = recordingIO();
    const storage = await LowdbStorage.open({ dataDir, io: rec.io, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());
    await storage.threads.create(); // the log file exists: later flushes sync only it
    const held = rec.hold("datasync", LOG_FILE);
    let applied = false;
    const creatingThread = storage.threads.create({ metadata: { temporary: true } }, undefined, { deferred: true });
    const waitedForFlush = held.started.then(() => {
      if (applied) return; // the run's flush below, held as it should be
      held.release();
      throw new Error("the deferred creation waited for its flush");
    });
    waitedForFlush.catch(() => undefined);
    const thread = await Promise.race([creatingThread, waitedForFlush.then(() => creatingThread)]);
    applied = true;

    const creatingRun = storage.runs.create({
      thread_id: thread.thread_id,
      assistant_id: "trivial",
      kwargs: parseRunRequest({ assistant_id: "trivial" }, { stateless: true }).kwargs,
      multitask_strategy: "reject",
      not_before: null,
    });
    await untilHeld(held, creatingRun);
    expect(await stillPending(creatingRun)).toBe(true);
    held.release();
    const { run } = await creatingRun;

    // a crash now (no close): the log holds the thread and the run
    const reopened = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    expect((await reopened.threads.get(thread.thread_id)).metadata).toEqual({ temporary: true });
    expect((await reopened.runs.get(run.run_id)).thread_id).toBe(thread.thread_id);
    await reopened.close();
  });
});

describe("LowdbStorage thread deletion", () => {
  // reopened: the thread's checkpoints are in their shard's file only (it left memory), and are read back first
  it.each([
    ["in memory", false],
    ["only in their file", true],
  ])("deletes a thread with its checkpoints (%s), runs and crons in one commit-log record, which a crash keeps whole", async (_, reopen) => {
    const dataDir = await dir();
    let storage = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());
    const thread = await storage.threads.create();
    const other = await storage.threads.create();
    const t = thread.thread_id;
    await putCheckpointChain(storage, t, 3);
    const kwargs = parseRunRequest({ assistant_id: "trivial" }, { stateless: false }).kwargs;
    const { run } = await storage.runs.create({ thread_id: t, assistant_id: "trivial", kwargs, multitask_strategy: "enqueue", not_before: null });
    await storage.runs.end(run.run_id, { update: { status: "success" } });
    const cron = await storage.crons.create({
      assistant_id: "trivial",
      thread_id: t,
      schedule: "*/5 * * * *",
      timezone: null,
      end_time: null,
      payload: {},
      next_run_date: "2030-01-01T00:05:00.000Z",
    });
    if (reopen) {
      await storage.close();
      storage = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
      // of the thread's three checkpoints only its latest (its head: see Collection.withHeads)
      expect(storage.stats().checkpoints.records).toBe(1);
    }

    const before = storage.logStats;
    await storage.threads.delete(t);
    expect({ appends: storage.logStats.appends - before.appends, flushes: storage.logStats.flushes - before.flushes }).toEqual({
      appends: 1,
      flushes: 1,
    });

    // a crash now (no close): nothing of the thread is left, the other thread is untouched
    const reopened = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    await expect(reopened.threads.get(t)).rejects.toBeInstanceOf(NotFoundError);
    await expect(reopened.runs.get(run.run_id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(reopened.crons.get(cron.cron_id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await reopened.checkpoints.list({ thread_id: t })).toEqual([]);
    expect((await reopened.threads.get(other.thread_id)).thread_id).toBe(other.thread_id);
    await reopened.close();
  });
});

describe("LowdbStorage temporary threads (a stateless run's)", () => {
  const statelessKwargs = parseRunRequest({ assistant_id: "trivial" }, { stateless: true }).kwargs;

  /** A thread's first checkpoint (cp-0), as a run saves it; resolves once durable. */
  const putFirstCheckpoint = (storage: LowdbStorage, threadId: string) =>
    storage.checkpoints.put({
      thread_id: threadId,
      checkpoint_ns: "",
      checkpoint_id: "cp-0",
      parent_checkpoint_id: null,
      checkpoint: { type: "json", data: "{}" },
      metadata: { step: 0 },
      created_at: new Date().toISOString(),
    });

  /**
   * A stateless run's records as its execution leaves them before its thread's deletion: the
   * thread, its run, a checkpoint and the run's end, none awaited (each promise resolves once durable).
   */
  async function temporaryRun(storage: LowdbStorage, webhook?: string) {
    const thread = await storage.threads.create({ metadata: { temporary: true } }, undefined, { deferred: true, temporary: true });
    const t = thread.thread_id;
    let runId = "";
    const created = storage.runs.create(
      { thread_id: t, assistant_id: "trivial", kwargs: statelessKwargs, multitask_strategy: "reject", not_before: null },
      undefined,
      (insert) => {
        runId = insert.run.run_id;
      },
    );
    const checkpoint = putFirstCheckpoint(storage, t);
    const ended = storage.runs.end(runId, {
      update: { status: "success" },
      ...(webhook ? { webhook: { url: webhook, payload: () => ({ n: 1 }) } } : {}),
    });
    return { threadId: t, runId, written: Promise.all([created, checkpoint, ended]) };
  }

  /** What a crash now (no close) leaves of the thread and its run. */
  async function afterCrash(dataDir: string, threadId: string, runId: string) {
    const reopened = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    try {
      const thread = await reopened.threads.get(threadId).then(
        () => true,
        () => false,
      );
      const run = await reopened.runs.get(runId).then(
        () => true,
        () => false,
      );
      const checkpoints = (await reopened.checkpoints.list({ thread_id: threadId })).length;
      const deliveries = (await reopened.webhooks.claim("p", 10, 30_000)).length;
      return { thread, run, checkpoints, deliveries };
    } finally {
      await reopened.close();
    }
  }

  it("deleted before any of its lines left for the disk, it writes nothing, and a crash finds nothing of it", async () => {
    const dataDir = await dir();
    const storage = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());
    await storage.threads.create(); // the log file exists
    const before = storage.logStats;

    const { threadId, runId, written } = await temporaryRun(storage);
    await storage.threads.delete(threadId);
    await written; // acknowledged: nothing of it is left to make durable
    expect(storage.logFlushes - before.flushes).toBe(0);
    // nor does memory keep anything of its checkpoints (no deletion for the shard's file to catch up with)
    expect(storage.stats().checkpoints).toMatchObject({ records: 0, unwritten: 0 });
    await expect(storage.threads.get(threadId)).rejects.toBeInstanceOf(NotFoundError);
    expect(await afterCrash(dataDir, threadId, runId)).toEqual({ thread: false, run: false, checkpoints: 0, deliveries: 0 });
  });

  it("once one of its lines left for the disk, its deletion is written, and a crash keeps that", async () => {
    const dataDir = await dir();
    const storage = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());

    const { threadId, runId, written } = await temporaryRun(storage);
    await written; // flushed: the disk holds the thread and its run
    const before = storage.logStats;
    await storage.threads.delete(threadId);
    expect({ appends: storage.logStats.appends - before.appends, flushes: storage.logStats.flushes - before.flushes }).toEqual({
      appends: 1,
      flushes: 1,
    });
    expect(await afterCrash(dataDir, threadId, runId)).toEqual({ thread: false, run: false, checkpoints: 0, deliveries: 0 });
  });

  it("once some of its lines left for the disk, withdraws the others: only the records the disk holds get a deletion", async () => {
    const dataDir = await dir();
    const storage = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());
    await storage.threads.create(); // the log file exists
    const thread = await storage.threads.create({ metadata: { temporary: true } }, undefined, { deferred: true, temporary: true });
    const t = thread.thread_id;
    const { run } = await storage.runs.create({
      thread_id: t,
      assistant_id: "trivial",
      kwargs: statelessKwargs,
      multitask_strategy: "reject",
      not_before: null,
    });
    const flushed = (await logText(dataDir)).length; // the thread and its run are on disk
    const checkpoint = putFirstCheckpoint(storage, t);
    const ended = storage.runs.end(run.run_id, { update: { status: "success" } });
    const before = storage.logStats;
    await storage.threads.delete(t);
    await Promise.all([checkpoint, ended]);
    expect({ appends: storage.logStats.appends - before.appends, flushes: storage.logStats.flushes - before.flushes }).toEqual({
      appends: 1,
      flushes: 1,
    });
    // one line: the deletions of the thread and its run; the checkpoint and the run's end never written
    const written = (await logText(dataDir)).slice(flushed).trim().split("\n");
    expect(written).toHaveLength(1);
    expect(written[0]).toContain(`"d":"${t}"`);
    expect(written[0]).toContain(`"d":"${run.run_id}"`);
    expect(written[0]).not.toContain("cp-0");
    expect(await afterCrash(dataDir, t, run.run_id)).toEqual({ thread: false, run: false, checkpoints: 0, deliveries: 0 });
  });

  it("once its lines left for the disk, deleted before the next log checkpoint, it leaves its shards' files as they were", async () => {
    const dataDir = await dir();
    const shards = { ...TEST_SHARDS, threads: 1, runs: 1, checkpoints: 1 };
    let storage = await LowdbStorage.open({ dataDir, shards });
    const kept = await temporaryRun(storage); // a thread, run and checkpoint the files hold (never deleted)
    await kept.written;
    await storage.close();
    const files = ["threads", "runs", "checkpoints"].map((name) => path.join(dataDir, name, "000.json"));
    const before = await Promise.all(files.map(async (file) => ({ text: await readFile(file, "utf8"), inode: (await stat(file)).ino })));

    storage = await LowdbStorage.open({ dataDir, shards });
    const { threadId, runId, written } = await temporaryRun(storage);
    await written; // its lines are on disk
    await storage.threads.delete(threadId);
    await storage.close(); // a log checkpoint: nothing of it for the shards, not even a deletion
    const after = await Promise.all(files.map(async (file) => ({ text: await readFile(file, "utf8"), inode: (await stat(file)).ino })));
    expect(after).toEqual(before);
    expect(await afterCrash(dataDir, threadId, runId)).toEqual({ thread: false, run: false, checkpoints: 0, deliveries: 0 });
    expect(await afterCrash(dataDir, kept.threadId, kept.runId)).toEqual({ thread: true, run: true, checkpoints: 1, deliveries: 0 });
  });

  it("with a webhook delivery owed by its run's end, its deletion is written and the delivery kept", async () => {
    const dataDir = await dir();
    const storage = await LowdbStorage.open({ dataDir, shards: TEST_SHARDS });
    cleanups.unshift(() => storage.close());

    const { threadId, runId, written } = await temporaryRun(storage, "http://127.0.0.1:9/hook");
    await storage.threads.delete(threadId);
    await written;
    expect(await afterCrash(dataDir, threadId, runId)).toEqual({ thread: false, run: false, checkpoints: 0, deliveries: 1 });
  });

  it("when a checkpoint rewrites the shards while its lines wait for a flush, its deletion is written", async () => {
    const dataDir = await dir();
    const rec = recordingIO();
    // every flush is followed by a checkpoint
    const storage = await LowdbStorage.open({ dataDir, io: rec.io, shards: TEST_SHARDS, checkpointLogBytes: 1 });
    cleanups.unshift(() => storage.close());
    // A flush of many lines whose fsync takes long: the next flush waits a few ms for more
    // lines (CommitLog.#flushAfterFlush), while the checkpoint after it rewrites the shards.
    const sync = rec.hold("datasync", LOG_FILE);
    const many = Promise.all(Array.from({ length: 10 }, () => storage.threads.create()));
    await untilHeld(sync, many);
    const { threadId, runId, written } = await temporaryRun(storage);
    const threadShard = path.join(dataDir, "threads", `${String(shardOf(threadId, TEST_SHARDS.threads)).padStart(3, "0")}.json.tmp`);
    const shardWrite = rec.hold("write", threadShard);
    await new Promise((resolve) => setTimeout(resolve, 20));
    sync.release();
    await many;
    await shardWrite.started; // the shard's new content, with the thread, is written
    await storage.threads.delete(threadId);
    shardWrite.release();
    await written;
    // a crash once the shard holding the thread is in place: the files as they are then
    await eventually(async () => (rec.indexOf("rename", "end", threadShard) >= 0 ? true : undefined), 10_000, "the shard's rename");
    const crashed = await dir();
    await cp(dataDir, crashed, { recursive: true });
    expect(await afterCrash(crashed, threadId, runId)).toEqual({ thread: false, run: false, checkpoints: 0, deliveries: 0 });
  });
});

describe("LowdbStorage log checkpoints of collections held whole", () => {
  const shards = { ...TEST_SHARDS, runs: 1 };
  const kwargs = parseRunRequest({ assistant_id: "trivial" }, { stateless: false }).kwargs;

  /** A data directory whose one runs shard holds a thread's first run, written at a close; `create` adds one to the storage `reopen` opened last. */
  async function runsShardWithOneRun() {
    const dataDir = await dir();
    let current = await LowdbStorage.open({ dataDir, shards });
    const thread = await current.threads.create();
    const create = async () =>
      (await current.runs.create({ thread_id: thread.thread_id, assistant_id: "trivial", kwargs, multitask_strategy: "enqueue", not_before: null }))
        .run.run_id;
    const first = await create();
    await current.close();
    const file = path.join(dataDir, "runs", "000.json");
    const reopen = async () => (current = await LowdbStorage.open({ dataDir, shards }));
    return { first, file, written: await readFile(file, "utf8"), create, reopen };
  }

  it("append a thread's new and updated runs to its runs shard, and write it whole when a deletion is among them", async () => {
    const { first, file, written, create, reopen } = await runsShardWithOneRun();
    expect(written.split("\n")).toHaveLength(1);

    let storage = await reopen();
    await storage.runs.end(first, { update: { status: "success" } });
    const second = await create();
    await storage.close(); // its log checkpoint: the two runs appended, the shard's text kept
    const appended = await readFile(file, "utf8");
    expect(appended.startsWith(written)).toBe(true);
    expect(appended.split("\n")).toHaveLength(2);
    expect(appended.split("\n")[1]).toContain(first);
    expect(appended.split("\n")[1]).toContain(second);

    storage = await reopen();
    expect((await storage.runs.get(first)).status).toBe("success"); // the appended record replaces the first
    await storage.runs.delete(second);
    await storage.close();
    expect((await readFile(file, "utf8")).split("\n")).toHaveLength(1);
    storage = await reopen();
    cleanups.unshift(() => storage.close());
    expect((await storage.runs.get(first)).status).toBe("success");
    await expect(storage.runs.get(second)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("write a shard whole once the segments appended to it hold more than its whole text and 64 KiB", async () => {
    const dataDir = await dir();
    // every flush followed by a log checkpoint
    const storage = await LowdbStorage.open({ dataDir, shards: { ...TEST_SHARDS, threads: 1 }, checkpointLogBytes: 1 });
    cleanups.unshift(() => storage.close());
    const thread = await storage.threads.create();
    const file = path.join(dataDir, "threads", "000.json");
    /** The file's text once it holds `content`. */
    const holding = (content: string) =>
      eventually(async () => {
        const text = await readFile(file, "utf8").catch(() => "");
        return text.includes(content) ? text : undefined;
      });
    await holding(thread.thread_id);
    const lines: number[] = [];
    for (let i = 0; i < 6; i++) {
      const blob = String(i).repeat(20_000); // a record of about 20 KB, updated again and again
      await storage.threads.update(thread.thread_id, { metadata: { blob } });
      lines.push((await holding(blob)).split("\n").length);
    }
    // appended while their 20, 40, 60 KB stay within 64 KiB, the 80 KB past it: written whole, then appended again
    expect(lines).toEqual([2, 3, 4, 5, 1, 2]);
  });

  it("leave a run created and deleted between two checkpoints out of its shard, without a whole rewrite", async () => {
    const { first: kept, file, written, create, reopen } = await runsShardWithOneRun();

    let storage = await reopen();
    const gone = await create(); // durable in the commit log, never in the shard's file
    await storage.runs.delete(gone);
    const added = await create();
    await storage.close(); // its log checkpoint appends the new run; the deleted one leaves nothing
    const text = await readFile(file, "utf8");
    expect(text.startsWith(written)).toBe(true);
    expect(text.split("\n")).toHaveLength(2);
    expect(text).toContain(added);
    expect(text).not.toContain(gone);

    storage = await reopen();
    cleanups.unshift(() => storage.close());
    expect((await storage.runs.get(kept)).run_id).toBe(kept);
    expect((await storage.runs.get(added)).run_id).toBe(added);
    await expect(storage.runs.get(gone)).rejects.toBeInstanceOf(NotFoundError);
  });
});
