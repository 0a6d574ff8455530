/**
 * The embedded checkpoints collection is lazy (src/storage/lowdb/collection.ts): its shards leave
 * memory when idle and are read back when a thread of theirs is used, and a checkpoint of the
 * commit log reads them back to rewrite them. None of that may lose, revive or duplicate a
 * record. A seeded random mix of saves, deletions, copies and reads, many at once, with shards
 * dropped, the log checkpointed every few KiB, reopens and crash copies in between, is compared
 * with a plain model of what it stored.
 */
import { appendFile, copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Collection, shardFileName } from "../../src/storage/lowdb/collection.js";
import { shardOf } from "../../src/storage/lowdb/hash.js";
import { Shard } from "../../src/storage/lowdb/shard.js";
import { nodeFileIO, type FileIO } from "../../src/storage/lowdb/durable-file.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import type { CheckpointWrite, Storage } from "../../src/storage/types.js";
import { pendingWrite, tempDir } from "./storage-helpers.js";

interface ModelCheckpoint {
  ns: string;
  runId: string;
}
interface ModelThread {
  checkpoints: Map<string, ModelCheckpoint>;
  /** checkpoint id -> slot (task id, idx) -> value */
  writes: Map<string, Map<string, { value: string; runId: string }>>;
}

/** Deterministic PRNG (mulberry32): a failure reruns the same. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SHARDS = { assistants: 1, threads: 2, checkpoints: 3, runs: 2, crons: 1, storeItems: 1, webhooks: 1 };
const open = (dataDir: string, io?: FileIO) =>
  LowdbStorage.open({ dataDir, shards: SHARDS, checkpointLogBytes: 3000, shardIdleMs: 0, ...(io ? { io } : {}) });

/**
 * File calls that wait while `closed`: a copy of the directory made then is what a crash at that
 * moment leaves (a checkpoint in the background writes no shard meanwhile; the old logs it may
 * still delete are in its shards already).
 */
function gatedIO() {
  let opened: Promise<void> = Promise.resolve();
  let reopen = () => {};
  const gated =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await opened;
      return call(...args);
    };
  const io: FileIO = { open: gated(nodeFileIO.open), rename: gated(nodeFileIO.rename) };
  return {
    io,
    async whileClosed(work: () => Promise<void>) {
      opened = new Promise((resolve) => (reopen = resolve));
      try {
        await work();
      } finally {
        reopen();
      }
    },
  };
}

/** Copies a data directory file by file; a log deleted or a temporary file renamed meanwhile is left out (see gatedIO). */
async function copyDir(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) await copyDir(source, path.join(to, entry.name));
    else
      await copyFile(source, path.join(to, entry.name)).catch((err: NodeJS.ErrnoException) => {
        // a shard's temporary file renamed over it meanwhile (its rename began before the gate
        // closed): the copy is what a crash just before that rename leaves
        if (!(err.code === "ENOENT" && (entry.name.startsWith("log-") || entry.name.endsWith(".tmp")))) throw err;
      });
  }
}

/** What the storage holds, from its archive snapshot (every record, whichever shards are in memory). */
async function stored(storage: Storage): Promise<string[]> {
  return storage.archive.snapshot(async (view) => {
    const lines: string[] = [];
    for await (const batch of view.records("checkpoint", 100)) {
      for (const c of batch) lines.push(`c ${c.thread_id} ${c.checkpoint_id} ${c.checkpoint_ns} ${String(c.metadata.run_id)}`);
    }
    for await (const batch of view.records("checkpoint_writes", 100)) {
      for (const w of batch) {
        for (const write of w.writes)
          lines.push(`w ${w.thread_id} ${w.checkpoint_id} ${write.task_id}/${write.idx} ${write.value.data} ${write.run_id}`);
      }
    }
    return lines.sort();
  });
}

function modelLines(model: Map<string, ModelThread>): string[] {
  const lines: string[] = [];
  for (const [threadId, thread] of model) {
    for (const [id, c] of thread.checkpoints) lines.push(`c ${threadId} ${id} ${c.ns} ${c.runId}`);
    for (const [id, slots] of thread.writes) for (const [slot, w] of slots) lines.push(`w ${threadId} ${id} ${slot} ${w.value} ${w.runId}`);
  }
  return lines.sort();
}

/** A thread's history as reads return it (newest first), and what the model says it is. */
async function history(storage: Storage, threadId: string): Promise<string[]> {
  const rows = await storage.checkpoints.list({ thread_id: threadId });
  return rows.map((r) => `${r.checkpoint_id} ${r.writes.map((w) => `${w.task_id}/${w.idx}=${w.value.data}`).join(",")}`);
}
function modelHistory(thread: ModelThread | undefined): string[] {
  if (!thread) return [];
  return [...thread.checkpoints.keys()]
    .sort()
    .reverse()
    .map((id) => {
      const slots = thread.writes.get(id) ?? new Map<string, { value: string }>();
      return `${id} ${[...slots].map(([slot, w]) => `${slot}=${w.value}`).join(",")}`;
    });
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

describe("lazily loaded checkpoint shards", () => {
  it.each([20, 21, 22])(
    "lose, revive and duplicate nothing through eviction, read-back, log checkpoints, reopens and crashes (seed %i)",
    async (seed) => {
      const temp = await tempDir("lgts-lazy-");
      cleanups.push(temp.cleanup);
      const gate = gatedIO();
      let storage = await open(temp.dir, gate.io);
      cleanups.push(() => storage.close());
      const next = random(seed);
      const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
      const model = new Map<string, ModelThread>();
      const threads = Array.from({ length: 9 }, (_, i) => `thread-${i}`);
      let clock = 0;
      let copies = 0;
      const stamp = () => String(++clock).padStart(6, "0");
      /** Per thread, checkpoint ids given writes before their put (LangGraph may record writes first), and their times. */
      const early = new Map<string, Array<{ id: string; at: number }>>();
      const thread = (id: string) => {
        let t = model.get(id);
        if (!t) model.set(id, (t = { checkpoints: new Map(), writes: new Map() }));
        return t;
      };

      /** Starts one random operation; the model applies it in call order, as the storage must. */
      const operation = (): Promise<unknown> => {
        const threadId = pick(threads);
        const known = [...(model.get(threadId)?.checkpoints.keys() ?? [])];
        const roll = next();
        if (roll < 0.05) {
          // writes of a checkpoint not saved yet: its put comes later, maybe behind newer ones
          const id = `cp-${stamp()}`;
          early.set(threadId, [...(early.get(threadId) ?? []), { id, at: clock }]);
          const slots = thread(threadId).writes.get(id) ?? new Map<string, { value: string; runId: string }>();
          const value = stamp();
          if (!slots.has("early/0")) slots.set("early/0", { value, runId: "run-early" });
          thread(threadId).writes.set(id, slots);
          return storage.checkpoints.putWrites({ thread_id: threadId, checkpoint_ns: "", checkpoint_id: id }, [
            { task_id: "early", idx: 0, channel: "value", value: { type: "json", data: value }, task_path: "", run_id: "run-early" },
          ]);
        }
        if (roll < 0.4 || known.length === 0) {
          const reserved = next() < 0.5 ? early.get(threadId)?.shift() : undefined;
          const id = reserved?.id ?? `cp-${stamp()}`;
          const at = reserved?.at ?? clock;
          const runId = `run-${Math.floor(next() * 4)}`;
          thread(threadId).checkpoints.set(id, { ns: "", runId });
          return storage.checkpoints.put({
            thread_id: threadId,
            checkpoint_ns: "",
            checkpoint_id: id,
            parent_checkpoint_id: known.at(-1) ?? null,
            checkpoint: { type: "json", data: `{"id":"${id}"}` },
            metadata: { run_id: runId, step: known.length },
            created_at: new Date(1_700_000_000_000 + at).toISOString(),
          });
        }
        if (roll < 0.7) {
          const checkpointId = pick(known);
          const runId = `run-${Math.floor(next() * 4)}`;
          const writes: CheckpointWrite[] = Array.from({ length: 1 + Math.floor(next() * 2) }, (_, i) => ({
            task_id: `task-${Math.floor(next() * 2)}`,
            idx: next() < 0.2 ? -1 : i,
            channel: "value",
            value: { type: "json", data: stamp() },
            task_path: "",
            run_id: runId,
          }));
          const slots = thread(threadId).writes.get(checkpointId) ?? new Map<string, { value: string; runId: string }>();
          for (const w of writes) {
            const slot = `${w.task_id}/${w.idx}`;
            if (w.idx >= 0 && slots.has(slot)) continue;
            slots.set(slot, { value: w.value.data, runId });
          }
          thread(threadId).writes.set(checkpointId, slots);
          return storage.checkpoints.putWrites({ thread_id: threadId, checkpoint_ns: "", checkpoint_id: checkpointId }, writes);
        }
        if (roll < 0.8) {
          const runId = `run-${Math.floor(next() * 4)}`;
          const t = thread(threadId);
          for (const [id, c] of [...t.checkpoints]) {
            if (c.runId !== runId) continue;
            t.checkpoints.delete(id);
            t.writes.delete(id);
          }
          for (const [id, slots] of [...t.writes]) {
            for (const [slot, w] of [...slots]) if (w.runId === runId) slots.delete(slot);
            if (slots.size === 0) t.writes.delete(id);
          }
          return storage.checkpoints.deleteRun(threadId, runId);
        }
        if (roll < 0.88) {
          model.delete(threadId);
          return storage.checkpoints.deleteThread(threadId);
        }
        if (roll < 0.93) {
          // a copy's target is a new thread, used once the copy is done (as the API's thread copy does)
          const target = `thread-${++copies}-copy`;
          const source = model.get(threadId);
          if (source) {
            model.set(target, {
              checkpoints: new Map(source.checkpoints),
              writes: new Map([...source.writes].map(([id, slots]) => [id, new Map(slots)])),
            });
          }
          return storage.checkpoints.copyThread(threadId, target).then(() => threads.push(target));
        }
        if (next() < 0.5) {
          // the latest checkpoint, as a run starting on the thread reads it (kept as records come and go)
          const expected = modelHistory(model.get(threadId))[0]?.split(" ")[0];
          return storage.checkpoints
            .get({ thread_id: threadId, checkpoint_ns: "" })
            .then((latest) => expect(latest?.checkpoint_id, `latest of ${threadId}`).toBe(expected));
        }
        const expected = modelHistory(model.get(threadId));
        return history(storage, threadId).then((seen) => expect(seen, `history of ${threadId}`).toEqual(expected));
      };

      for (let round = 0; round < 60; round++) {
        const batch: Promise<unknown>[] = [];
        for (let i = 0; i < 12; i++) {
          batch.push(operation());
          // shards in use stay; the others go, with or without changes their files lack
          if (next() < 0.3) storage.evictIdle(0);
          if (next() < 0.2) await new Promise((resolve) => setImmediate(resolve));
        }
        await Promise.all(batch);
        if (next() < 0.5) storage.evictIdle(0);
        if (round % 10 === 9) {
          // what a crash at this point leaves on disk (every write above is acknowledged)
          const crashed = await tempDir("lgts-lazy-crash-");
          cleanups.push(crashed.cleanup);
          await gate.whileClosed(() => copyDir(temp.dir, crashed.dir));
          const recovered = await open(crashed.dir);
          expect(await stored(recovered), `after a crash in round ${round}`).toEqual(modelLines(model));
          await recovered.close();
        }
        if (round % 15 === 14) {
          await storage.close();
          storage = await open(temp.dir, gate.io);
        }
        // an archive reads every shard back, one after the other: none may leave meanwhile
        const snapshot = stored(storage);
        for (let turn = 0; turn < 4; turn++) {
          await new Promise((resolve) => setImmediate(resolve));
          storage.evictIdle(0);
        }
        expect(await snapshot, `round ${round}`).toEqual(modelLines(model));
      }
      for (const threadId of threads) {
        expect(await history(storage, threadId)).toEqual(modelHistory(model.get(threadId)));
        const latest = await storage.checkpoints.get({ thread_id: threadId, checkpoint_ns: "" });
        expect(latest?.checkpoint_id).toBe(modelHistory(model.get(threadId))[0]?.split(" ")[0]);
      }
    },
  );
});

/** Saves checkpoint `cp-<i>` (numbered to sort by `i`) on thread "t", from run `runId`. */
const putCheckpoint = (storage: Storage, i: number, runId = "r") =>
  storage.checkpoints.put({
    thread_id: "t",
    checkpoint_ns: "",
    checkpoint_id: `cp-${String(i).padStart(4, "0")}`,
    parent_checkpoint_id: null,
    checkpoint: { type: "json", data: `{"i":${i}}` },
    metadata: { step: i, run_id: runId },
    created_at: new Date(1_700_000_000_000 + i).toISOString(),
  });

/** Counts the records of each `Shard.appendRecords` call (restore with `appended.mockRestore()`). */
function countAppends() {
  const append = Shard.prototype.appendRecords;
  const counts: number[] = [];
  const appended = vi.spyOn(Shard.prototype, "appendRecords").mockImplementation(function (this: Shard<unknown>, records) {
    const list = [...records];
    counts.push(list.length);
    return append.call(this, list);
  });
  return { counts, appended };
}

describe("a thread's latest checkpoint", () => {
  it("is found without walking the thread's history (a run on a thread with many runs starts from it)", async () => {
    const temp = await tempDir("lgts-latest-");
    cleanups.push(temp.cleanup);
    const storage = await open(temp.dir);
    cleanups.push(() => storage.close());
    for (let i = 0; i < 500; i++) await putCheckpoint(storage, i, i === 499 ? "last" : "earlier");
    const reads = vi.spyOn(Collection.prototype, "get");
    try {
      const latest = await storage.checkpoints.get({ thread_id: "t", checkpoint_ns: "" });
      expect(latest?.checkpoint_id).toBe("cp-0499");
      expect(reads.mock.calls.length).toBeLessThan(10);
    } finally {
      reads.mockRestore();
    }
    // the latest deleted (a rollback): the next read finds the one before
    await storage.checkpoints.deleteRun("t", "last");
    expect((await storage.checkpoints.get({ thread_id: "t", checkpoint_ns: "" }))?.checkpoint_id).toBe("cp-0498");
  });
});

/**
 * Thread "t" with `count` checkpoints (and, given `pending`, writes of one of them) in its shard's
 * file, and a storage opened on the directory again (closed at cleanup): the shard out of memory.
 */
async function reopenedThread(count: number, pending?: { on: number; data: string }): Promise<{ dir: string; storage: LowdbStorage }> {
  const temp = await tempDir("lgts-thread-");
  cleanups.push(temp.cleanup);
  const first = await LowdbStorage.open({ dataDir: temp.dir, shards: SHARDS, shardIdleMs: 0 });
  for (let i = 0; i < count; i++) await putCheckpoint(first, i);
  if (pending) {
    const checkpointId = `cp-${String(pending.on).padStart(4, "0")}`;
    await first.checkpoints.putWrites({ thread_id: "t", checkpoint_ns: "", checkpoint_id: checkpointId }, [write("pending", 0, pending.data)]);
  }
  await first.close();
  const storage = await LowdbStorage.open({ dataDir: temp.dir, shards: SHARDS, shardIdleMs: 0 });
  cleanups.push(() => storage.close());
  return { dir: temp.dir, storage };
}

describe("a used thread's new checkpoints", () => {
  it("are appended to its shard's file at a log checkpoint, without serializing the thread's history again", async () => {
    const reopened = await reopenedThread(20);
    let storage = reopened.storage;
    // a run on the thread: its latest checkpoint read (the shard back in memory), then new ones
    expect((await storage.checkpoints.get({ thread_id: "t", checkpoint_ns: "" }))?.checkpoint_id).toBe("cp-0019");
    await putCheckpoint(storage, 20);
    await putCheckpoint(storage, 21);
    const { counts, appended } = countAppends();
    const serialized = vi.spyOn(Shard.prototype, "commit");
    try {
      await storage.close(); // its last log checkpoint rewrites the changed shards
      expect(counts).toEqual([2]);
      expect(serialized).not.toHaveBeenCalled();
    } finally {
      appended.mockRestore();
      serialized.mockRestore();
    }
    storage = await LowdbStorage.open({ dataDir: reopened.dir, shards: SHARDS, shardIdleMs: 0 });
    cleanups.push(() => storage.close());
    const ids = (await storage.checkpoints.list({ thread_id: "t" })).map((c) => c.checkpoint_id);
    expect(ids).toEqual(Array.from({ length: 22 }, (_, i) => `cp-${String(21 - i).padStart(4, "0")}`));
  });
});

describe("new checkpoints saved while their shard is serialized", () => {
  it("are appended at the next log checkpoint once that serialization is taken (a busy thread's shard is not serialized at every one)", async () => {
    const temp = await tempDir("lgts-append-busy-");
    cleanups.push(temp.cleanup);
    let storage = await LowdbStorage.open({ dataDir: temp.dir, shards: SHARDS, shardIdleMs: 0 });
    for (let i = 0; i < 20; i++) await putCheckpoint(storage, i, i === 19 ? "rolled-back" : "r");
    await storage.close();
    // every log flush starts a log checkpoint; the shard's serialized text waits at its file's opening
    const gate = gatedIO();
    storage = await LowdbStorage.open({ dataDir: temp.dir, shards: SHARDS, shardIdleMs: 0, checkpointLogBytes: 1, io: gate.io });
    cleanups.push(() => storage.close());
    expect((await storage.checkpoints.get({ thread_id: "t", checkpoint_ns: "" }))?.checkpoint_id).toBe("cp-0019");
    const { counts, appended } = countAppends();
    const serialize = Shard.prototype.startFlush;
    let serialized!: () => void;
    const snapshot = new Promise<void>((resolve) => (serialized = resolve));
    const flushes = vi.spyOn(Shard.prototype, "startFlush").mockImplementation(function (this: Shard<unknown>) {
      serialize.call(this);
      serialized();
    });
    try {
      // a deletion: the next log checkpoint serializes the shard
      await storage.checkpoints.deleteRun("t", "rolled-back");
      let saved!: Promise<unknown>;
      await gate.whileClosed(async () => {
        await snapshot;
        // taken: what is saved now is not in that text
        saved = Promise.all([putCheckpoint(storage, 20), putCheckpoint(storage, 21)]);
        await new Promise((resolve) => setImmediate(resolve));
      });
      await saved;
      await storage.close();
      expect(counts).toContain(2);
    } finally {
      appended.mockRestore();
      flushes.mockRestore();
    }
    storage = await LowdbStorage.open({ dataDir: temp.dir, shards: SHARDS, shardIdleMs: 0 });
    const ids = (await storage.checkpoints.list({ thread_id: "t" })).map((c) => c.checkpoint_id);
    expect(ids).toEqual([21, 20, ...Array.from({ length: 19 }, (_, i) => 18 - i)].map((i) => `cp-${String(i).padStart(4, "0")}`));
  });
});

describe("a run on a thread whose shard left memory", () => {
  it("reads the latest checkpoint and saves the next ones without reading the thread's history back", async () => {
    const evicted = await reopenedThread(20, { on: 19, data: "w19" });
    let storage = evicted.storage;
    expect(storage.stats().checkpoints.records).toBe(2); // the latest and its writes

    const readBack = vi.spyOn(Shard.prototype, "readRecords");
    const { counts, appended } = countAppends();
    try {
      // as a run does: the latest with its writes, more writes to it, the next checkpoints and theirs
      const latest = await storage.checkpoints.get({ thread_id: "t", checkpoint_ns: "" });
      expect(latest?.checkpoint_id).toBe("cp-0019");
      expect(latest?.writes.map((w) => w.value.data)).toEqual(["w19"]);
      await storage.checkpoints.putWrites({ thread_id: "t", checkpoint_ns: "", checkpoint_id: "cp-0019" }, [write("resume", 0, "r19")]);
      await putCheckpoint(storage, 20);
      await storage.checkpoints.putWrites({ thread_id: "t", checkpoint_ns: "", checkpoint_id: "cp-0020" }, [write("a", 0, "w20")]);
      await putCheckpoint(storage, 21);
      const last = await storage.checkpoints.get({ thread_id: "t", checkpoint_ns: "" }, { ownWrites: true });
      expect(last?.checkpoint_id).toBe("cp-0021");
      await storage.close(); // its log checkpoint: the four changes added to the file's text
      expect(readBack).not.toHaveBeenCalled();
      expect(counts).toEqual([4]);
    } finally {
      readBack.mockRestore();
      appended.mockRestore();
    }
    storage = await LowdbStorage.open({ dataDir: evicted.dir, shards: SHARDS, shardIdleMs: 0 });
    cleanups.push(() => storage.close());
    const history = await storage.checkpoints.list({ thread_id: "t" });
    expect(history.map((c) => c.checkpoint_id)).toEqual(Array.from({ length: 22 }, (_, i) => `cp-${String(21 - i).padStart(4, "0")}`));
    // the writes record replaced in the file's text (its older entry first) is read back as replaced
    expect(history.find((c) => c.checkpoint_id === "cp-0019")?.writes.map((w) => w.value.data)).toEqual(["w19", "r19"]);
    expect(history.find((c) => c.checkpoint_id === "cp-0020")?.writes.map((w) => w.value.data)).toEqual(["w20"]);
  });

  it("reads it back for what its heads do not hold: an older checkpoint's writes", async () => {
    const { storage } = await reopenedThread(3, { on: 1, data: "old" });
    await storage.checkpoints.putWrites({ thread_id: "t", checkpoint_ns: "", checkpoint_id: "cp-0001" }, [write("b", 0, "new")]);
    const [older] = await storage.checkpoints.list({ thread_id: "t", checkpoint_id: "cp-0001" });
    expect(older.writes.map((w) => w.value.data)).toEqual(["old", "new"]);
  });
});

describe("a segment appended to a shard's file", () => {
  it("is left out when a crash tore it (the commit log still holds its records), and the file is rewritten whole", async () => {
    const reopened = await reopenedThread(3);
    let storage = reopened.storage;
    await putCheckpoint(storage, 3);
    await putCheckpoint(storage, 4);
    // a crash now: cp-0003 and cp-0004 are in the commit log only; their segment half written
    const crashed = await tempDir("lgts-torn-crash-");
    cleanups.push(crashed.cleanup);
    await copyDir(reopened.dir, crashed.dir);
    await storage.close();
    const shardFile = path.join(crashed.dir, "checkpoints", shardFileName(shardOf("t", SHARDS.checkpoints)));
    const whole = await readFile(shardFile, "utf8");
    await appendFile(shardFile, '\n{"records":{"[\\"checkpoint\\",\\"t\\",\\"\\",\\"cp-0003\\"]":{"kind":"checkp');

    storage = await LowdbStorage.open({ dataDir: crashed.dir, shards: SHARDS, shardIdleMs: 0 });
    const ids = async () => (await storage.checkpoints.list({ thread_id: "t" })).map((c) => c.checkpoint_id);
    expect(await ids()).toEqual(["cp-0004", "cp-0003", "cp-0002", "cp-0001", "cp-0000"]);
    // rewritten whole at the open's log checkpoint: one line, no torn segment left to append after
    const rewritten = await readFile(shardFile, "utf8");
    expect(rewritten.split("\n")).toHaveLength(1);
    expect(rewritten).not.toBe(whole);
    await putCheckpoint(storage, 5);
    await storage.close();
    storage = await LowdbStorage.open({ dataDir: crashed.dir, shards: SHARDS, shardIdleMs: 0 });
    cleanups.push(() => storage.close());
    expect(await ids()).toEqual(["cp-0005", "cp-0004", "cp-0003", "cp-0002", "cp-0001", "cp-0000"]);
    expect((await readFile(shardFile, "utf8")).split("\n")).toHaveLength(2); // cp-0005 appended
  });

  it("that does not parse, when not the file's last, is refused as corrupt", async () => {
    const temp = await tempDir("lgts-torn-mid-");
    cleanups.push(temp.cleanup);
    const storage = await LowdbStorage.open({ dataDir: temp.dir, shards: { ...SHARDS, checkpoints: 1 }, shardIdleMs: 0 });
    await putCheckpoint(storage, 0);
    await storage.close();
    const file = path.join(temp.dir, "checkpoints", "000.json");
    await appendFile(file, '\n{"records":{"x\n{"records":{}}');
    await expect(LowdbStorage.open({ dataDir: temp.dir, shards: { ...SHARDS, checkpoints: 1 } })).rejects.toThrow(/corrupt store file/);
  });
});

describe("threads' heads kept in memory", () => {
  it("are those of the 1024 threads used last: a thread past them reads its shard back and finds its latest", async () => {
    const temp = await tempDir("lgts-heads-lru-");
    cleanups.push(temp.cleanup);
    let storage = await LowdbStorage.open({ dataDir: temp.dir, shards: SHARDS, shardIdleMs: 0 });
    const threadIds = Array.from({ length: 1100 }, (_, i) => `t-${i}`);
    for (const [i, threadId] of threadIds.entries()) {
      await storage.checkpoints.put({
        thread_id: threadId,
        checkpoint_ns: "",
        checkpoint_id: `cp-${i}`,
        parent_checkpoint_id: null,
        checkpoint: { type: "json", data: "{}" },
        metadata: {},
        created_at: new Date(1_700_000_000_000 + i).toISOString(),
      });
    }
    await storage.close();
    storage = await LowdbStorage.open({ dataDir: temp.dir, shards: SHARDS, shardIdleMs: 0 });
    cleanups.push(() => storage.close());
    expect(storage.stats().checkpoints.records).toBe(1024);
    const readBack = vi.spyOn(Shard.prototype, "readRecords");
    try {
      const latest = await Promise.all(threadIds.map((threadId) => storage.checkpoints.get({ thread_id: threadId, checkpoint_ns: "" })));
      expect(latest.map((c) => c?.checkpoint_id)).toEqual(threadIds.map((_, i) => `cp-${i}`));
      expect(readBack).toHaveBeenCalled();
    } finally {
      readBack.mockRestore();
    }
  });
});

const write = pendingWrite;
