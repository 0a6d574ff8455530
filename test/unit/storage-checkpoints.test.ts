import { describe, expect, it } from "vitest";
import type { CheckpointPut, CheckpointWrite } from "../../src/storage/types.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();

let clock = Date.parse("2026-01-01T00:00:00.000Z");
/** Checkpoints with increasing timestamps and ids, like LangGraph's uuid6 ids. */
function checkpoint(threadId: string, n: number, extra: Partial<CheckpointPut> = {}): CheckpointPut {
  clock += 1000;
  return {
    thread_id: threadId,
    checkpoint_ns: "",
    checkpoint_id: `cp-${String(n).padStart(3, "0")}`,
    parent_checkpoint_id: n > 0 ? `cp-${String(n - 1).padStart(3, "0")}` : null,
    checkpoint: { type: "json", data: JSON.stringify({ n }) },
    metadata: { step: n, source: n % 2 ? "loop" : "input" },
    created_at: new Date(clock).toISOString(),
    ...extra,
  };
}

const write = (taskId: string, idx: number, channel: string, value: unknown, extra: Partial<CheckpointWrite> = {}): CheckpointWrite => ({
  task_id: taskId,
  idx,
  channel,
  value: { type: "json", data: JSON.stringify(value) },
  task_path: "",
  run_id: null,
  ...extra,
});

const ids = (rows: { checkpoint_id: string }[]) => rows.map((r) => r.checkpoint_id);

describe("checkpoints repository", () => {
  it("gets the latest or a given checkpoint of a namespace, with its writes", async () => {
    const { storage } = await open();
    const t = crypto.randomUUID();
    for (let n = 0; n < 3; n++) await storage.checkpoints.put(checkpoint(t, n));
    await storage.checkpoints.put(checkpoint(t, 9, { checkpoint_ns: "child:1", parent_checkpoint_id: null }));
    await storage.checkpoints.putWrites({ thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-002" }, [write("a", 0, "x", 1)]);

    const latest = await storage.checkpoints.get({ thread_id: t, checkpoint_ns: "" });
    expect(latest).toMatchObject({ checkpoint_id: "cp-002", parent_checkpoint_id: "cp-001", metadata: { step: 2 } });
    expect(latest!.writes).toEqual([write("a", 0, "x", 1)]);
    expect((await storage.checkpoints.get({ thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-000" }))!.writes).toEqual([]);
    expect((await storage.checkpoints.get({ thread_id: t, checkpoint_ns: "child:1" }))!.checkpoint_id).toBe("cp-009");
    expect(await storage.checkpoints.get({ thread_id: t, checkpoint_ns: "", checkpoint_id: "nope" })).toBeUndefined();
    expect(await storage.checkpoints.get({ thread_id: crypto.randomUUID(), checkpoint_ns: "" })).toBeUndefined();
  });

  it("lists newest first (by timestamp, then id) with namespace, before, metadata and limit", async () => {
    const { storage } = await open();
    const t = crypto.randomUUID();
    for (let n = 0; n < 4; n++) await storage.checkpoints.put(checkpoint(t, n));
    // An id that sorts first but is the newest by timestamp.
    await storage.checkpoints.put(checkpoint(t, 4, { checkpoint_id: "a-newest" }));
    await storage.checkpoints.put(checkpoint(t, 5, { checkpoint_ns: "child:1" }));

    expect(ids(await storage.checkpoints.list({ thread_id: t, checkpoint_ns: "" }))).toEqual(["a-newest", "cp-003", "cp-002", "cp-001", "cp-000"]);
    expect(ids(await storage.checkpoints.list({ thread_id: t }))).toHaveLength(6);
    expect(ids(await storage.checkpoints.list({ thread_id: t, checkpoint_ns: "", before: "a-newest" }))).toEqual([
      "cp-003",
      "cp-002",
      "cp-001",
      "cp-000",
    ]);
    expect(ids(await storage.checkpoints.list({ thread_id: t, checkpoint_ns: "", before: "cp-002", limit: 1 }))).toEqual(["cp-001"]);
    // An unknown `before` compares ids (as strings).
    expect(ids(await storage.checkpoints.list({ thread_id: t, checkpoint_ns: "", before: "cp-0015" }))).toEqual(["a-newest", "cp-001", "cp-000"]);
    expect(ids(await storage.checkpoints.list({ thread_id: t, checkpoint_ns: "", metadata: { source: "loop" } }))).toEqual(["cp-003", "cp-001"]);
    expect(ids(await storage.checkpoints.list({ thread_id: t, metadata: { source: "input", step: 2 } }))).toEqual(["cp-002"]);
    expect(ids(await storage.checkpoints.list({ thread_id: t, checkpoint_id: "cp-001" }))).toEqual(["cp-001"]);
    expect(await storage.checkpoints.list({ thread_id: t, limit: 0 })).toEqual([]);
  });

  it("keeps retried writes, replaces special ones, and accepts writes before their checkpoint", async () => {
    const { storage } = await open();
    const key = { thread_id: crypto.randomUUID(), checkpoint_ns: "", checkpoint_id: "cp-000" };
    await storage.checkpoints.putWrites(key, [write("a", 0, "x", "first"), write("a", -3, "__interrupt__", "i1")]);
    await storage.checkpoints.putWrites(key, [write("a", 0, "x", "retry"), write("a", -3, "__interrupt__", "i2")]);
    await storage.checkpoints.putWrites(key, [write("b", 0, "x", "other task")]);
    await storage.checkpoints.put(checkpoint(key.thread_id, 0));
    const stored = await storage.checkpoints.get(key);
    expect(stored!.writes.map((w) => [w.task_id, w.idx, JSON.parse(w.value.data)])).toEqual([
      ["a", 0, "first"],
      ["a", -3, "i2"],
      ["b", 0, "other task"],
    ]);
  });

  it("returns copies", async () => {
    const { storage } = await open();
    const t = crypto.randomUUID();
    await storage.checkpoints.put(checkpoint(t, 0));
    const got = await storage.checkpoints.get({ thread_id: t, checkpoint_ns: "" });
    got!.metadata.step = 99;
    got!.checkpoint.data = "changed";
    expect(await storage.checkpoints.get({ thread_id: t, checkpoint_ns: "" })).toMatchObject({
      metadata: { step: 0 },
      checkpoint: { data: '{"n":0}' },
    });
  });

  it("patches metadata, and refuses an unknown checkpoint", async () => {
    const { storage } = await open();
    const t = crypto.randomUUID();
    await storage.checkpoints.put(checkpoint(t, 0));
    await storage.checkpoints.patchMetadata({ thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-000" }, { tag: "x" });
    expect((await storage.checkpoints.get({ thread_id: t, checkpoint_ns: "" }))!.metadata).toEqual({ step: 0, source: "input", tag: "x" });
    await expect(storage.checkpoints.patchMetadata({ thread_id: t, checkpoint_ns: "", checkpoint_id: "nope" }, {})).rejects.toMatchObject({
      kind: "not_found",
    });
  });

  it("deletes what a run saved: its checkpoints (all namespaces) and its writes elsewhere", async () => {
    const { storage } = await open();
    const t = crypto.randomUUID();
    await storage.checkpoints.put(checkpoint(t, 0, { metadata: { run_id: "r1" } }));
    await storage.checkpoints.put(checkpoint(t, 1, { metadata: { run_id: "r2" } }));
    await storage.checkpoints.put(checkpoint(t, 2, { metadata: { run_id: "r2" }, checkpoint_ns: "child:1" }));
    const first = { thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-000" };
    await storage.checkpoints.putWrites(first, [write("a", 0, "x", 1, { run_id: "r1" }), write("b", 0, "x", 2, { run_id: "r2" })]);

    expect(await storage.checkpoints.deleteRun(t, "r2")).toBe(2);
    const left = await storage.checkpoints.list({ thread_id: t });
    expect(ids(left)).toEqual(["cp-000"]);
    expect(left[0].writes.map((w) => w.task_id)).toEqual(["a"]);
    expect(await storage.checkpoints.deleteRun(t, "unknown")).toBe(0);
  });

  it("prunes to the latest checkpoint of each namespace, keeping its writes", async () => {
    const { storage } = await open();
    const t = crypto.randomUUID();
    for (let n = 0; n < 3; n++) {
      await storage.checkpoints.put(checkpoint(t, n));
      await storage.checkpoints.putWrites({ thread_id: t, checkpoint_ns: "", checkpoint_id: `cp-00${n}` }, [write("a", 0, "x", n)]);
    }
    for (let n = 5; n < 7; n++) await storage.checkpoints.put(checkpoint(t, n, { checkpoint_ns: "child:1" }));
    const other = crypto.randomUUID();
    await storage.checkpoints.put(checkpoint(other, 0));
    await storage.checkpoints.put(checkpoint(other, 1));

    await storage.checkpoints.pruneKeepLatest(t);
    const left = await storage.checkpoints.list({ thread_id: t });
    expect(left.map((r) => [r.checkpoint_ns, r.checkpoint_id])).toEqual([
      ["child:1", "cp-006"],
      ["", "cp-002"],
    ]);
    expect(left[1].writes).toHaveLength(1);
    expect(await storage.checkpoints.list({ thread_id: other })).toHaveLength(2);
    await storage.checkpoints.pruneKeepLatest(crypto.randomUUID());
  });

  it("follows thread deletion and copying", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const t = thread.thread_id;
    await storage.checkpoints.put(checkpoint(t, 0));
    await storage.checkpoints.put(checkpoint(t, 1, { checkpoint_ns: "child:1" }));
    await storage.checkpoints.putWrites({ thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-000" }, [write("a", 0, "x", 1)]);

    const copy = await storage.threads.copy(t);
    const copied = await storage.checkpoints.list({ thread_id: copy.thread_id });
    expect(copied.map((r) => [r.thread_id, r.checkpoint_ns, r.checkpoint_id])).toEqual([
      [copy.thread_id, "child:1", "cp-001"],
      [copy.thread_id, "", "cp-000"],
    ]);
    expect(copied[1].writes).toHaveLength(1);

    await storage.threads.delete(t);
    expect(await storage.checkpoints.list({ thread_id: t })).toEqual([]);
    expect(await storage.checkpoints.list({ thread_id: copy.thread_id })).toHaveLength(2);
  });

  it("is durable: a reopened storage has the checkpoints and writes", async () => {
    const { storage, reopen } = await open();
    const t = crypto.randomUUID();
    await storage.checkpoints.put(checkpoint(t, 0));
    await storage.checkpoints.putWrites({ thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-000" }, [write("a", 0, "x", 1)]);
    const before = await storage.checkpoints.list({ thread_id: t });
    await storage.close();

    const reopened = await reopen();
    try {
      expect(await reopened.checkpoints.list({ thread_id: t })).toEqual(before);
    } finally {
      await reopened.close();
    }
  });
});
