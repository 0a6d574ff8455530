/**
 * StorageCheckpointSaver against the BaseCheckpointSaver contract (in the spirit of LangGraph's
 * checkpoint conformance suite): put/getTuple/list/putWrites semantics and serialization.
 */
import { AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { emptyCheckpoint, uuid6, type Checkpoint, type CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { Send } from "@langchain/langgraph";
import type { RunnableConfig } from "@langchain/core/runnables";
import { describe, expect, it } from "vitest";
import { StorageCheckpointSaver } from "../../src/runtime/checkpointer.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const openStorage = tempStoragePerTest();

async function open() {
  const opened = await openStorage();
  return { ...opened, saver: new StorageCheckpointSaver(opened.storage.checkpoints) };
}

function newCheckpoint(values: Record<string, unknown> = {}): Checkpoint {
  return { ...emptyCheckpoint(), id: uuid6(0), channel_values: values, channel_versions: Object.fromEntries(Object.keys(values).map((k) => [k, 1])) };
}

const meta = (step: number, extra: Record<string, unknown> = {}): CheckpointMetadata => ({
  source: step % 2 ? "loop" : "input",
  step,
  parents: {},
  ...extra,
});

const cfg = (threadId: string, configurable: Record<string, unknown> = {}, extra: RunnableConfig = {}): RunnableConfig => ({
  ...extra,
  configurable: { thread_id: threadId, checkpoint_ns: "", ...configurable },
});

/** A chain of `n` checkpoints on a thread; returns the configs put() answered. */
async function chain(saver: StorageCheckpointSaver, threadId: string, n: number, ns = ""): Promise<RunnableConfig[]> {
  const stored: RunnableConfig[] = [];
  for (let i = 0; i < n; i++) {
    const parent = stored.at(-1)?.configurable?.checkpoint_id;
    stored.push(
      await saver.put(cfg(threadId, { checkpoint_ns: ns, ...(parent ? { checkpoint_id: parent } : {}) }), newCheckpoint({ i }), meta(i), {}),
    );
  }
  return stored;
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("StorageCheckpointSaver", () => {
  it("puts and gets tuples: config, parent, metadata, latest by default", async () => {
    const { saver } = await open();
    const t = crypto.randomUUID();
    const [first, second] = await chain(saver, t, 2);
    expect(second).toEqual({ configurable: { thread_id: t, checkpoint_ns: "", checkpoint_id: expect.any(String) } });

    const latest = await saver.getTuple(cfg(t));
    expect(latest!.config).toEqual(second);
    expect(latest!.parentConfig).toEqual(first);
    expect(latest!.checkpoint.channel_values).toEqual({ i: 1 });
    expect(latest!.metadata).toMatchObject({ source: "loop", step: 1 });
    expect(latest!.pendingWrites).toEqual([]);

    const older = await saver.getTuple(cfg(t, { checkpoint_id: first.configurable!.checkpoint_id }));
    expect(older!.checkpoint.channel_values).toEqual({ i: 0 });
    expect(older!.parentConfig).toBeUndefined();
    expect(await saver.getTuple(cfg(t, { checkpoint_id: uuid6(0) }))).toBeUndefined();
    expect(await saver.getTuple(cfg(crypto.randomUUID()))).toBeUndefined();
    expect(await saver.getTuple({ configurable: {} })).toBeUndefined();
  });

  it("keeps namespaces apart", async () => {
    const { saver } = await open();
    const t = crypto.randomUUID();
    await chain(saver, t, 2);
    await chain(saver, t, 1, "child:1");
    expect(await all(saver.list(cfg(t)))).toHaveLength(2);
    expect(await all(saver.list(cfg(t, { checkpoint_ns: "child:1" })))).toHaveLength(1);
    expect(await all(saver.list({ configurable: { thread_id: t } }))).toHaveLength(3);
    expect((await saver.getTuple(cfg(t, { checkpoint_ns: "child:1" })))!.checkpoint.channel_values).toEqual({ i: 0 });
  });

  it("lists newest first with before, limit and metadata filters", async () => {
    const { saver } = await open();
    const t = crypto.randomUUID();
    const stored = await chain(saver, t, 4);
    const idsOf = (xs: { config: RunnableConfig }[]) => xs.map((x) => x.config.configurable!.checkpoint_id);
    const want = stored.map((c) => c.configurable!.checkpoint_id).reverse();

    expect(idsOf(await all(saver.list(cfg(t))))).toEqual(want);
    expect(idsOf(await all(saver.list(cfg(t), { limit: 2 })))).toEqual(want.slice(0, 2));
    expect(idsOf(await all(saver.list(cfg(t), { before: stored[2], limit: 1 })))).toEqual([want[2]]);
    expect(idsOf(await all(saver.list(cfg(t), { filter: { source: "loop" } })))).toEqual([want[0], want[2]]);
    expect(idsOf(await all(saver.list(cfg(t), { filter: { source: "input", step: 2 } })))).toEqual([want[1]]);
    expect(await all(saver.list(cfg(t), { filter: { source: "update", step: 99 } }))).toEqual([]);
    await expect(all(saver.list({ configurable: {} }))).rejects.toThrow(/thread_id/);
  });

  it("stores the run's scalar config metadata and configurable values with the checkpoint", async () => {
    const { saver } = await open();
    const t = crypto.randomUUID();
    await saver.put(
      cfg(
        t,
        { run_id: "r1", user_setting: 3, __pregel_internal: "x", nested: { no: 1 } },
        {
          metadata: { graph_id: "agent", step: 99, langgraph_node: "n", checkpoint_ns: "x" },
        },
      ),
      newCheckpoint(),
      meta(0),
      {},
    );
    const tuple = await saver.getTuple(cfg(t));
    expect(tuple!.metadata).toEqual({ source: "input", step: 0, parents: {}, graph_id: "agent", run_id: "r1", user_setting: 3 });
    expect(await all(saver.list(cfg(t), { filter: { run_id: "r1" } }))).toHaveLength(1);
  });

  it("returns pending writes in task order, idempotent for retries, special channels replaced", async () => {
    const { saver } = await open();
    const t = crypto.randomUUID();
    const [stored] = await chain(saver, t, 1);
    await saver.putWrites(
      stored,
      [
        ["b", 1],
        ["c", 2],
      ],
      "task-2",
      "~__pregel_pull, two",
    );
    await saver.putWrites(stored, [["a", 0]], "task-1", "~__pregel_pull, one");
    await saver.putWrites(stored, [["a", "retried"]], "task-1", "~__pregel_pull, one");
    await saver.putWrites(stored, [["__interrupt__", { v: 1 }]], "task-3");
    await saver.putWrites(stored, [["__interrupt__", { v: 2 }]], "task-3");
    const tuple = await saver.getTuple(stored);
    expect(tuple!.pendingWrites).toEqual([
      ["task-3", "__interrupt__", { v: 2 }],
      ["task-1", "a", 0],
      ["task-2", "b", 1],
      ["task-2", "c", 2],
    ]);
    // Writes belong to their checkpoint only.
    const [next] = await chain(saver, crypto.randomUUID(), 1);
    expect((await saver.getTuple(next))!.pendingWrites).toEqual([]);
    await expect(saver.putWrites(cfg(t), [["a", 1]], "x")).rejects.toThrow(/checkpoint_id/);
  });

  it("round-trips LangChain messages, Send, interrupts, errors, sets, maps and bytes", async () => {
    const { saver, storage, reopen } = await open();
    const t = crypto.randomUUID();
    const values = {
      messages: [new HumanMessage({ content: "hi", id: "h1" }), new AIMessageChunk({ content: "yo", id: "a1" })],
      send: new Send("node", { x: 1 }),
      set: new Set([1, 2]),
      map: new Map([["k", 1]]),
      when: undefined,
    };
    const stored = await saver.put(cfg(t), newCheckpoint(values), meta(0), {});
    await saver.putWrites(
      stored,
      [
        ["__interrupt__", [{ id: "i1", value: { question: "ok?" } }]],
        ["__error__", new Error("boom")],
        ["blob", new Uint8Array([0, 1, 255])],
      ],
      "task",
    );
    await storage.close();

    const reopened = await reopen();
    try {
      const tuple = await new StorageCheckpointSaver(reopened.checkpoints).getTuple(cfg(t));
      const got = tuple!.checkpoint.channel_values as typeof values;
      expect(got.messages[0]).toBeInstanceOf(HumanMessage);
      expect(got.messages[0].content).toBe("hi");
      expect(got.messages[1]).toBeInstanceOf(AIMessageChunk);
      expect(got.messages[1].id).toBe("a1");
      expect(got.send).toMatchObject({ node: "node", args: { x: 1 } });
      expect(got.set).toEqual(new Set([1, 2]));
      expect(got.map).toEqual(new Map([["k", 1]]));
      const writes = Object.fromEntries(tuple!.pendingWrites!.map(([, channel, value]) => [channel, value]));
      expect(writes.__interrupt__).toEqual([{ id: "i1", value: { question: "ok?" } }]);
      expect(writes.__error__).toBeInstanceOf(Error);
      expect((writes.__error__ as Error).message).toBe("boom");
      expect(writes.blob).toEqual(new Uint8Array([0, 1, 255]));
    } finally {
      await reopened.close();
    }
  });

  it("deletes, copies and rolls back threads", async () => {
    const { saver } = await open();
    const t = crypto.randomUUID();
    const [first] = await chain(saver, t, 1);
    const run = await saver.put(
      cfg(t, { checkpoint_id: first.configurable!.checkpoint_id }, { metadata: { run_id: "r9" } }),
      newCheckpoint(),
      meta(1),
      {},
    );
    await saver.putWrites(cfg(t, { checkpoint_id: first.configurable!.checkpoint_id, run_id: "r9" }), [["x", 1]], "task");

    const copy = crypto.randomUUID();
    await saver.copyThread(t, copy);
    expect(await all(saver.list(cfg(copy)))).toHaveLength(2);

    expect(await saver.deleteRun(t, "r9")).toBe(1);
    const left = await all(saver.list(cfg(t)));
    expect(left.map((x) => x.config)).toEqual([first]);
    expect(left[0].pendingWrites).toEqual([]);
    expect(await saver.getTuple(run)).toBeUndefined();

    await saver.deleteThread(copy);
    expect(await all(saver.list(cfg(copy)))).toEqual([]);
  });
});
