/**
 * The example graphs run with StorageCheckpointSaver: state survives closing and reopening the
 * storage, interrupts resume with a Command, and subgraph state is addressable by namespace.
 */
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { Annotation, Command, interrupt, StateGraph, type CompiledStateGraph } from "@langchain/langgraph";
import { afterEach, describe, expect, it } from "vitest";
import { graph as agent } from "../../examples/src/agent.js";
import { graph as custom } from "../../examples/src/custom.js";
import { graph as interruptGraph } from "../../examples/src/interrupt.js";
import { graph as slow } from "../../examples/src/slow.js";
import { graph as subgraph } from "../../examples/src/subgraph.js";
import { graph as trivial } from "../../examples/src/trivial.js";
import { StorageCheckpointSaver } from "../../src/runtime/checkpointer.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { tempDir, TEST_SHARDS } from "./storage-helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A data directory whose storage can be closed and reopened (a server restart). */
async function dataDir() {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  let storage: LowdbStorage | undefined;
  const reopen = async () => {
    await storage?.close();
    storage = await LowdbStorage.open({ dataDir: dir, shards: TEST_SHARDS });
    return new StorageCheckpointSaver(storage.checkpoints);
  };
  cleanups.push(async () => storage?.close());
  return { reopen };
}

/** The shared example graph, with our saver attached (on a copy, as the registry does). */
function withSaver<G extends { withConfig(config: object): unknown }>(graph: G, saver: StorageCheckpointSaver): G {
  const copy = graph.withConfig({}) as G & { checkpointer?: unknown };
  copy.checkpointer = saver;
  return copy;
}

const thread = () => ({ configurable: { thread_id: crypto.randomUUID() } });

describe("example graphs with the storage checkpointer", () => {
  it("trivial: state and history survive a restart, and the thread continues from them", async () => {
    const { reopen } = await dataDir();
    const config = thread();
    expect(await withSaver(trivial, await reopen()).invoke({ value: 1 }, config)).toEqual({ value: 4 });

    const g = withSaver(trivial, await reopen());
    const state = await g.getState(config);
    expect(state.values).toEqual({ value: 4 });
    expect(state.next).toEqual([]);
    const history = [];
    for await (const s of g.getStateHistory(config)) history.push(s);
    expect(history.map((s) => [s.metadata?.source, s.metadata?.step, s.values.value])).toEqual([
      ["loop", 3, 4],
      ["loop", 2, 3],
      ["loop", 1, 2],
      ["loop", 0, 1],
      ["input", -1, undefined],
    ]);
    expect(history[0].parentConfig?.configurable?.checkpoint_id).toBe(history[1].config.configurable?.checkpoint_id);

    expect(await g.invoke({ value: 10 }, config)).toEqual({ value: 13 });
  });

  it("agent: messages come back as LangChain messages after a restart", async () => {
    const { reopen } = await dataDir();
    const config = thread();
    await withSaver(agent, await reopen()).invoke({ messages: [{ role: "user", content: "hello world" }] }, config);
    const g = withSaver(agent, await reopen());
    const { values } = await g.getState(config);
    expect(values.messages).toHaveLength(2);
    expect(values.messages[0]).toBeInstanceOf(HumanMessage);
    expect(values.messages[1]).toBeInstanceOf(AIMessage);
    expect(values.messages[1].content).toBe("Echo: hello world");

    const next = await g.invoke({ messages: [{ role: "user", content: "again" }] }, config);
    expect(next.messages.map((m) => m.content)).toEqual(["hello world", "Echo: hello world", "again", "Echo: again"]);
  });

  it("interrupt: the pending interrupt survives a restart and a Command resumes it", async () => {
    const { reopen } = await dataDir();
    const config = thread();
    await withSaver(interruptGraph, await reopen()).invoke({ topic: "cats" }, config);

    const g = withSaver(interruptGraph, await reopen());
    const paused = await g.getState(config);
    expect(paused.next).toEqual(["ask_human"]);
    expect(paused.tasks[0].interrupts).toEqual([{ id: expect.any(String), value: { question: "Approve the draft?", draft: "Draft about cats" } }]);

    const resumed = withSaver(interruptGraph, await reopen());
    const result = await resumed.invoke(new Command({ resume: "approved" }), config);
    expect(result).toEqual({
      topic: "cats",
      draft: "Draft about cats",
      decision: "approved",
      result: "Draft about cats (approved)",
    });
    expect((await resumed.getState(config)).next).toEqual([]);
  });

  it("slow and custom: reducer-built and node-written channels survive a restart", async () => {
    const { reopen } = await dataDir();
    const slowThread = thread();
    const customThread = thread();
    let saver = await reopen();
    await withSaver(slow, saver).invoke({ steps: 2, delay_ms: 0 }, slowThread);
    await withSaver(custom, saver).invoke({ count: 2 }, customThread);

    saver = await reopen();
    const slowState = await withSaver(slow, saver).getState(slowThread);
    expect(slowState.values).toEqual({ steps: 2, delay_ms: 0, completed: 2, log: ["step 1", "step 2"] });
    // The log reducer goes on from the restored value.
    const again = await withSaver(slow, saver).invoke({ steps: 3, delay_ms: 0 }, slowThread);
    expect(again.log).toEqual(["step 1", "step 2", "step 3"]);
    expect((await withSaver(custom, saver).getState(customThread)).values).toEqual({ count: 2, result: "emitted 2 progress events" });
  });

  it("updateState forks from an older checkpoint and attributes writes to a node", async () => {
    const { reopen } = await dataDir();
    const g = withSaver(trivial, await reopen());
    const config = thread();
    await g.invoke({ value: 1 }, config);
    const history = [];
    for await (const s of g.getStateHistory(config)) history.push(s);
    const afterA = history.find((s) => s.metadata?.step === 1)!;

    const forked = await g.updateState(afterA.config, { value: 100 }, "a");
    const state = await g.getState(config);
    expect(state.config.configurable?.checkpoint_id).toBe(forked.configurable?.checkpoint_id);
    expect(state.values).toEqual({ value: 100 });
    expect(state.next).toEqual(["b"]);
    expect(state.parentConfig?.configurable?.checkpoint_id).toBe(afterA.config.configurable?.checkpoint_id);
    expect(await g.invoke(null, config)).toEqual({ value: 102 });
  });

  it("subgraph: the child saves under its own namespace, linked to the parent's checkpoint", async () => {
    const { reopen } = await dataDir();
    const config = thread();
    const saver = await reopen();
    expect(await withSaver(subgraph, saver).invoke({ text: " hi " }, config)).toMatchObject({ text: "HI!", result: "HI! (child ran 2 steps)" });

    const namespaces = new Set<string>();
    for await (const t of saver.list({ configurable: { thread_id: config.configurable.thread_id } })) {
      namespaces.add(t.config.configurable!.checkpoint_ns as string);
    }
    const child = [...namespaces].find((ns) => ns.startsWith("child:"));
    expect([...namespaces].sort()).toEqual(["", child]);
    const childState = await saver.getTuple({ configurable: { ...config.configurable, checkpoint_ns: child } });
    expect(childState!.checkpoint.channel_values).toMatchObject({ text: "HI!", child_trail: ["child_step_1", "child_step_2"] });
    expect(Object.keys(childState!.metadata!.parents)).toEqual([""]);
  });

  it("a subgraph interrupted mid-way: getState with subgraphs shows its state, resume finishes it", async () => {
    const { reopen } = await dataDir();
    const Child = Annotation.Root({ text: Annotation<string> });
    const child = new StateGraph(Child)
      .addNode("ask", (s) => ({ text: `${s.text}+${interrupt<string, string>("more?")}` }))
      .addEdge("__start__", "ask")
      .compile();
    const parent = new StateGraph(Child)
      .addNode("prep", (s) => ({ text: s.text.toUpperCase() }))
      .addNode("child", child)
      .addEdge("__start__", "prep")
      .addEdge("prep", "child")
      .compile() as unknown as CompiledStateGraph<{ text: string }, Partial<{ text: string }>, string>;
    const config = thread();
    await withSaver(parent, await reopen()).invoke({ text: "a" }, config);

    const g = withSaver(parent, await reopen());
    const state = await g.getState(config, { subgraphs: true });
    expect(state.next).toEqual(["child"]);
    const task = state.tasks[0];
    expect(task.interrupts.map((i) => i.value)).toEqual(["more?"]);
    const childState = task.state as Awaited<ReturnType<typeof g.getState>>;
    expect(childState.values).toEqual({ text: "A" });
    expect(childState.next).toEqual(["ask"]);
    expect(childState.config.configurable?.checkpoint_ns).toMatch(/^child:/);

    expect(await g.invoke(new Command({ resume: "yes" }), config)).toEqual({ text: "A+yes" });
  });
});
