/**
 * Thread state over HTTP with the official SDK: state, updates (as a node, forks), checkpoint
 * metadata patches, history, select, subgraph states, copies, supersteps, keep_latest pruning and
 * restarts. Runs are not started over HTTP here: graphs are invoked in-process with the server's
 * own checkpointer (server.services) to produce run-made checkpoints.
 */
import path from "node:path";
import { Command } from "@langchain/langgraph";
import type { ThreadState } from "@langchain/langgraph-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/thread-state/langgraph.json");

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: CONFIG });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

/** Runs a graph of the server on a thread in-process, saving with the server's checkpointer. */
async function invoke(graphId: string, threadId: string, input: unknown) {
  const { graphs, checkpointer, store } = t.server.services;
  const graph = await graphs.resolveGraph(graphId, undefined, { checkpointer, store });
  return graph.invoke(input, { configurable: { thread_id: threadId } });
}

const newThread = async (graphId?: string) => (await t.client.threads.create(graphId ? { graphId } : {})).thread_id;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyState = ThreadState<any>;

describe("thread state", () => {
  it("is empty for a thread without a graph or without checkpoints", async () => {
    for (const threadId of [await newThread(), await newThread("trivial")]) {
      expect(await t.client.threads.getState(threadId)).toEqual({
        values: {},
        next: [],
        tasks: [],
        checkpoint: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: null },
        metadata: null,
        created_at: null,
        parent_checkpoint: null,
        interrupts: [],
      });
      expect(await t.client.threads.getHistory(threadId)).toEqual([]);
    }
    await expect(t.client.threads.getState(crypto.randomUUID())).rejects.toMatchObject({ status: 404 });
  });

  it("shows a run's state: values (messages as dicts), metadata, checkpoints, history", async () => {
    const threadId = await newThread("agent");
    await invoke("agent", threadId, { messages: [{ role: "user", content: "hello world" }] });

    const state = (await t.client.threads.getState(threadId)) as AnyState;
    expect(state.values.messages).toMatchObject([
      { type: "human", content: "hello world" },
      { type: "ai", content: "Echo: hello world" },
    ]);
    expect(state.next).toEqual([]);
    expect(state.metadata).toMatchObject({ source: "loop", step: 1 });
    expect(state.checkpoint).toMatchObject({ thread_id: threadId, checkpoint_ns: "", checkpoint_id: expect.any(String) });
    expect(Date.parse(state.created_at!)).not.toBeNaN();

    const history = (await t.client.threads.getHistory(threadId)) as AnyState[];
    expect(history.map((s) => s.metadata?.step)).toEqual([1, 0, -1]);
    expect(history[0].checkpoint).toEqual(state.checkpoint);
    expect(history[0].parent_checkpoint).toEqual(history[1].checkpoint);
    expect(history[1].next).toEqual(["call_model"]);
    expect(history[1].tasks).toMatchObject([{ name: "call_model", error: null, interrupts: [] }]);
  });

  it("reads the state at a checkpoint (GET by id, POST by reference), 404 for an unknown one", async () => {
    const threadId = await newThread("trivial");
    await invoke("trivial", threadId, { value: 1 });
    const history = await t.client.threads.getHistory(threadId);
    const afterA = history.find((s) => s.metadata?.step === 1)!;

    const byId = await t.client.threads.getState(threadId, afterA.checkpoint.checkpoint_id!);
    expect(byId).toEqual(afterA);
    const byRef = await t.client.threads.getState(threadId, afterA.checkpoint);
    expect(byRef).toEqual(afterA);
    expect(byId.values).toEqual({ value: 2 });
    expect(byId.next).toEqual(["b"]);

    await expect(t.client.threads.getState(threadId, "nope")).rejects.toMatchObject({ status: 404 });
    await expect(t.client.threads.getState(threadId, { ...afterA.checkpoint, thread_id: crypto.randomUUID() })).rejects.toMatchObject({
      status: 422,
    });
    await expect(t.client.threads.getState(threadId, { ...afterA.checkpoint, __pregel_read: "x" } as typeof afterA.checkpoint)).rejects.toMatchObject(
      { status: 422 },
    );
  });

  it("updates the state as a node, forks from a checkpoint, and keeps the thread record in step", async () => {
    const threadId = await newThread("trivial");
    const first = await t.client.threads.updateState(threadId, { values: { value: 5 }, asNode: "a" });
    expect(first).toEqual({
      checkpoint: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: expect.any(String) },
    });
    const state = await t.client.threads.getState(threadId);
    expect(state.values).toEqual({ value: 5 });
    expect(state.next).toEqual(["b"]);
    expect(state.metadata).toMatchObject({ source: "update" });
    expect(await t.client.threads.get(threadId)).toMatchObject({ values: { value: 5 }, status: "idle", interrupts: {} });

    // Continue the graph in-process, then fork from the first update.
    expect(await invoke("trivial", threadId, null)).toEqual({ value: 7 });
    const { checkpoint: forked } = (await t.client.threads.updateState(threadId, {
      values: { value: 50 },
      asNode: "a",
      checkpointId: (first as { checkpoint: { checkpoint_id: string } }).checkpoint.checkpoint_id,
    })) as unknown as { checkpoint: { checkpoint_id: string } };
    const latest = await t.client.threads.getState(threadId);
    expect(latest.checkpoint.checkpoint_id).toBe(forked.checkpoint_id);
    expect(latest.values).toEqual({ value: 50 });
    expect(latest.parent_checkpoint?.checkpoint_id).toBe((first as { checkpoint: { checkpoint_id: string } }).checkpoint.checkpoint_id);
    expect((await t.client.threads.get(threadId)).values).toEqual({ value: 50 });
  });

  it("refuses updates that cannot apply: no graph, unknown graph, unknown node, unknown checkpoint, busy thread", async () => {
    const orphan = await newThread();
    await expect(t.client.threads.updateState(orphan, { values: { value: 1 } })).rejects.toMatchObject({ status: 409 });

    const unknownGraph = (await t.client.threads.create({ graphId: "not-served" })).thread_id;
    await expect(t.client.threads.getState(unknownGraph)).rejects.toMatchObject({ status: 404 });
    await expect(t.client.threads.updateState(unknownGraph, { values: {} })).rejects.toMatchObject({ status: 404 });

    const broken = (await t.client.threads.create({ graphId: "broken_factory" })).thread_id;
    const res = await fetch(`${t.url}/threads/${broken}/state`);
    expect(res.status).toBe(422);
    expect((await json(res)).detail).toMatch(/cannot be built/);

    const threadId = await newThread("trivial");
    const unknownNode = await fetch(`${t.url}/threads/${threadId}/state`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ values: { value: 1 }, as_node: "nope" }),
    });
    expect(unknownNode.status).toBe(422);
    expect((await json(unknownNode)).detail).toMatch(/nope/);
    await expect(
      t.client.threads.updateState(threadId, { values: { value: 1 }, asNode: "a", checkpointId: crypto.randomUUID() }),
    ).rejects.toMatchObject({ status: 404 });

    await t.server.services.storage.threads.update(threadId, { status: "busy" });
    await expect(t.client.threads.updateState(threadId, { values: { value: 1 }, asNode: "a" })).rejects.toMatchObject({ status: 409 });
    expect(await t.client.threads.getHistory(threadId)).toEqual([]);
  });

  it("patches the metadata of the latest checkpoint without writing a new one", async () => {
    const threadId = await newThread("trivial");
    await expect(t.client.threads.patchState(threadId, { tag: "x" })).rejects.toMatchObject({ status: 404 });
    await t.client.threads.updateState(threadId, { values: { value: 1 }, asNode: "a" });
    await t.client.threads.patchState(threadId, { tag: "x", reviewed: true });
    await t.client.threads.patchState({ configurable: { thread_id: threadId } }, { tag: "y" });
    const history = await t.client.threads.getHistory(threadId);
    expect(history).toHaveLength(1);
    expect(history[0].metadata).toMatchObject({ source: "update", tag: "y", reviewed: true });
  });

  it("pages and filters history: limit, before (GET id or SDK config), metadata, namespace", async () => {
    const threadId = await newThread("trivial");
    await invoke("trivial", threadId, { value: 1 });
    const all = await t.client.threads.getHistory(threadId, { limit: 100 });
    expect(all.map((s) => s.metadata?.step)).toEqual([3, 2, 1, 0, -1]);

    const page = await t.client.threads.getHistory(threadId, {
      limit: 2,
      before: { configurable: { checkpoint_id: all[1].checkpoint.checkpoint_id } },
    });
    expect(page.map((s) => s.metadata?.step)).toEqual([1, 0]);
    expect((await t.client.threads.getHistory(threadId, { metadata: { source: "input" } })).map((s) => s.metadata?.step)).toEqual([-1]);
    expect(await t.client.threads.getHistory(threadId, { checkpoint: { checkpoint_ns: "elsewhere" } })).toEqual([]);

    const res = await fetch(`${t.url}/threads/${threadId}/history?limit=1&before=${all[0].checkpoint.checkpoint_id}`);
    expect(res.status).toBe(200);
    expect((await json(res)).map((s: AnyState) => s.metadata?.step)).toEqual([2]);

    const bad = await fetch(`${t.url}/threads/${threadId}/history`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ before: { configurable: {} } }),
    });
    expect(bad.status).toBe(422);
  });

  it("answers only the selected fields", async () => {
    const threadId = await newThread("agent");
    await invoke("agent", threadId, { messages: [{ role: "user", content: "hi" }] });
    const picked = await t.client.threads.getState(threadId, undefined, { select: ["values.messages", "next"] });
    expect(Object.keys(picked).sort()).toEqual(["next", "values"]);
    expect((picked.values as { messages: unknown[] }).messages).toHaveLength(2);
    const history = await t.client.threads.getHistory(threadId, { select: ["checkpoint"], limit: 2 });
    expect(history.map((s) => Object.keys(s))).toEqual([["checkpoint"], ["checkpoint"]]);
  });

  it("shows pending interrupts, and subgraph states with subgraphs=true", async () => {
    const threadId = await newThread("interrupt");
    await invoke("interrupt", threadId, { topic: "cats" });
    const paused = await t.client.threads.getState(threadId);
    expect(paused.next).toEqual(["ask_human"]);
    const interrupt = { id: expect.any(String), value: { question: "Approve the draft?", draft: "Draft about cats" } };
    expect(paused.tasks).toMatchObject([{ name: "ask_human", interrupts: [interrupt], state: null }]);
    expect((paused as AnyState & { interrupts: unknown[] }).interrupts).toEqual([interrupt]);

    const nested = await newThread("nested");
    await invoke("nested", nested, { text: "a" });
    const flat = await t.client.threads.getState(nested);
    expect(flat.tasks[0]).toMatchObject({ name: "child", state: null });
    // the subgraph's namespace, without a checkpoint id, as the LangGraph servers answer
    expect(flat.tasks[0].checkpoint).toEqual({ thread_id: nested, checkpoint_ns: expect.stringMatching(/^child:/) });
    const deep = await t.client.threads.getState(nested, undefined, { subgraphs: true });
    // with subgraphs, the subgraph's checkpoint is in its state
    expect(deep.tasks[0].checkpoint).toBeNull();
    const child = deep.tasks[0].state!;
    expect(child.values).toEqual({ text: "A" });
    expect(child.next).toEqual(["ask"]);
    expect(child.tasks[0].interrupts).toMatchObject([{ value: "more?" }]);
    expect(child.checkpoint.checkpoint_ns).toBe(flat.tasks[0].checkpoint!.checkpoint_ns);

    // The child's own state by reference; updating it leaves the parent paused on the interrupt.
    const childState = await t.client.threads.getState(nested, { checkpoint_ns: child.checkpoint.checkpoint_ns } as never);
    expect(childState.values).toEqual({ text: "A" });
    await t.client.threads.updateState(nested, {
      values: { text: "B" },
      checkpoint: { checkpoint_ns: child.checkpoint.checkpoint_ns } as never,
    });
    const record = await t.client.threads.get(nested);
    expect(record.status).toBe("interrupted");
    expect(Object.values(record.interrupts).flat()).toMatchObject([{ value: "more?" }]);
  });

  it("copies a thread with its whole history", async () => {
    const threadId = await newThread("trivial");
    await invoke("trivial", threadId, { value: 1 });
    const copy = await t.client.threads.copy(threadId);
    const [source, copied] = await Promise.all([t.client.threads.getHistory(threadId), t.client.threads.getHistory(copy.thread_id)]);
    expect(copied.map((s) => [s.checkpoint.checkpoint_id, s.values])).toEqual(source.map((s) => [s.checkpoint.checkpoint_id, s.values]));
    expect(copied.every((s) => s.checkpoint.thread_id === copy.thread_id)).toBe(true);
    // The copy goes on independently.
    await t.client.threads.updateState(copy.thread_id, { values: { value: 100 }, asNode: "c" });
    expect((await t.client.threads.getState(threadId)).values).toEqual({ value: 4 });
    await t.client.threads.delete(threadId);
    expect((await t.client.threads.getState(copy.thread_id)).values).toEqual({ value: 100 });
    expect(await t.server.services.storage.checkpoints.list({ thread_id: threadId })).toEqual([]);
  });

  it("creates a thread from supersteps, all or nothing", async () => {
    const thread = await t.client.threads.create({
      graphId: "trivial",
      supersteps: [
        { updates: [{ values: { value: 1 }, asNode: "a" }] },
        { updates: [{ values: { value: 10 }, asNode: "b" }] },
        { updates: [{ values: null, command: { update: { value: 20 } }, asNode: "c" }] },
      ],
    });
    expect(thread).toMatchObject({ values: { value: 20 }, status: "idle" });
    const history = await t.client.threads.getHistory(thread.thread_id);
    expect(history.map((s) => [s.values, s.next])).toEqual([
      [{ value: 20 }, []],
      [{ value: 10 }, ["c"]],
      [{ value: 1 }, ["b"]],
    ]);

    const same = await t.client.threads.create({
      threadId: thread.thread_id,
      ifExists: "do_nothing",
      graphId: "trivial",
      supersteps: [{ updates: [{ values: { value: 99 }, asNode: "a" }] }],
    });
    expect(same.values).toEqual({ value: 20 });

    const failed = crypto.randomUUID();
    await expect(
      t.client.threads.create({ threadId: failed, graphId: "trivial", supersteps: [{ updates: [{ values: { value: 1 }, asNode: "nope" }] }] }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(t.client.threads.get(failed)).rejects.toMatchObject({ status: 404 });
    await expect(t.client.threads.create({ supersteps: [{ updates: [{ values: { value: 1 }, asNode: "a" }] }] })).rejects.toMatchObject({
      status: 422,
    });
  });

  it("prunes threads to their latest checkpoint with keep_latest", async () => {
    const threadId = await newThread("trivial");
    await invoke("trivial", threadId, { value: 1 });
    const latest = await t.client.threads.getState(threadId);
    expect(await t.client.threads.prune([threadId, crypto.randomUUID()], { strategy: "keep_latest" })).toEqual({ pruned_count: 1 });
    const history = await t.client.threads.getHistory(threadId);
    expect(history.map((s) => s.checkpoint)).toEqual([latest.checkpoint]);
    expect((await t.client.threads.get(threadId)).thread_id).toBe(threadId);
  });

  it("a keep_latest TTL prunes the history of an expired thread and keeps the thread", async () => {
    const threadId = await newThread("trivial");
    await invoke("trivial", threadId, { value: 1 });
    const latest = await t.client.threads.getState(threadId);
    // The TTL counts from this update, after the run: nothing is pruned while it still writes.
    // (The SDK's types only know the "delete" strategy, so this goes by plain HTTP.)
    const patched = await fetch(`${t.url}/threads/${threadId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ttl: { ttl: 0.002, strategy: "keep_latest" } }),
    });
    expect(patched.status).toBe(200);
    const deadline = Date.now() + 10_000;
    let history = await t.client.threads.getHistory(threadId);
    while (history.length > 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      history = await t.client.threads.getHistory(threadId);
    }
    expect(history.map((s) => s.checkpoint)).toEqual([latest.checkpoint]);
    expect((await t.client.threads.get(threadId)).thread_id).toBe(threadId);
  });

  it("resumes an interrupted thread from state that survived a restart", async () => {
    const threadId = await newThread("interrupt");
    await invoke("interrupt", threadId, { topic: "dogs" });
    const before = await t.client.threads.getState(threadId);
    t = await t.restart();
    expect(await t.client.threads.getState(threadId)).toEqual(before);
    expect(await invoke("interrupt", threadId, new Command({ resume: "ok" }))).toMatchObject({ result: "Draft about dogs (ok)" });
    expect((await t.client.threads.getState(threadId)).next).toEqual([]);
  });
});
