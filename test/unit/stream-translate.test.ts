/** Raw LangGraph chunks -> API stream events (what the broker carries and SSE sends). */
import { AIMessage, AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { builder as agentBuilder } from "../../examples/src/agent.js";
import type { StreamChunk } from "../../src/runtime/runs/graph-stream.js";
import type { StreamMode } from "../../src/runtime/runs/request.js";
import { joinFilter, sseEventName, streamModeOf } from "../../src/runtime/streams/event-names.js";
import { LegacyMessages } from "../../src/runtime/streams/legacy-messages.js";
import { payload, streamCheckpoint, streamDebug, streamTask, streamToolEvent } from "../../src/runtime/streams/payloads.js";
import { RunStreamTranslator } from "../../src/runtime/streams/translate.js";

async function translateAgent(modes: StreamMode[], graphModes: string[]): Promise<StreamChunk[]> {
  const graph = agentBuilder.compile({ checkpointer: new MemorySaver() });
  const translator = new RunStreamTranslator(modes);
  const stream = await graph.stream(
    { messages: [{ role: "user", content: "hello world" }] },
    {
      configurable: { thread_id: "t" },
      streamMode: graphModes as never,
    },
  );
  const events: StreamChunk[] = [];
  for await (const [mode, data] of stream as AsyncIterable<[string, unknown]>) {
    events.push(...translator.translate({ mode, ns: [], data }));
  }
  return events;
}

describe("RunStreamTranslator", () => {
  it("makes the legacy messages events: metadata once per message, accumulated partials, completes once", async () => {
    const events = await translateAgent(["messages"], ["messages", "values"]);
    const names = events.map((e) => e.mode);
    expect(names).toEqual([
      "messages/complete", // the input's human message
      "messages/metadata",
      "messages/partial",
      "messages/partial",
      "messages/partial",
      "messages/complete",
    ]);
    const partials = events.filter((e) => e.mode === "messages/partial").map((e) => (e.data as Array<{ content: string }>)[0].content);
    expect(partials).toEqual(["Echo:", "Echo: hello", "Echo: hello world"]);
    const [human] = events[0].data as Array<Record<string, unknown>>;
    expect(human).toMatchObject({ type: "human", content: "hello world" });
    expect(human).not.toHaveProperty("lc");
    const [ai] = events.at(-1)!.data as Array<Record<string, unknown>>;
    expect(ai).toMatchObject({ type: "ai", content: "Echo: hello world", tool_calls: [] });
    const meta = events[1].data as Record<string, { metadata: Record<string, unknown> }>;
    expect(Object.values(meta)[0].metadata).toMatchObject({ langgraph_node: "call_model" });
    expect(events.every((e) => typeof e.size === "number" && e.size > 0)).toBe(true);
  });

  it("sends only the requested modes; tuples as plain dicts; checkpoints without the live config", async () => {
    const events = await translateAgent(["messages-tuple", "checkpoints"], ["messages", "values", "checkpoints"]);
    expect(new Set(events.map((e) => e.mode))).toEqual(new Set(["messages", "checkpoints"]));
    const [chunk, metadata] = events.find((e) => e.mode === "messages")!.data as [Record<string, unknown>, Record<string, unknown>];
    expect(chunk).toMatchObject({ type: "ai", content: "Echo:" });
    expect(metadata).toMatchObject({ langgraph_node: "call_model" });
    const checkpoint = events.find((e) => e.mode === "checkpoints")!.data as Record<string, Record<string, unknown>>;
    expect(checkpoint.config).not.toHaveProperty("callbacks");
    expect(Object.keys(checkpoint.config.configurable as object).some((k) => k.startsWith("__"))).toBe(false);
    expect(checkpoint).toMatchObject({ parent_config: null, next: ["__start__"], checkpoint: { thread_id: "t", checkpoint_ns: "" } });
  });

  it("drops LangGraph's checkpoint envelopes", () => {
    const translator = new RunStreamTranslator(["checkpoints"]);
    expect(translator.translate({ mode: "checkpoints", ns: [], data: { id: "c1", step: 1, source: "loop" } })).toEqual([]);
  });
});

describe("RunStreamTranslator: which checkpoint each event follows (rejoining after a checkpoint)", () => {
  const checkpoint = (id: unknown, extra: Record<string, unknown> = {}) => ({
    config: { configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: id } },
    values: {},
    ...extra,
  });

  it("marks every event after a root checkpoint with its id; subgraph checkpoints and envelopes change nothing", () => {
    const translator = new RunStreamTranslator(["values", "updates"]);
    const marks = (chunk: StreamChunk) => translator.translate(chunk).map((e) => [e.mode, e.checkpointId]);
    expect(marks({ mode: "values", ns: [], data: { n: 0 } })).toEqual([["values", undefined]]);
    expect(marks({ mode: "checkpoints", ns: [], data: checkpoint("ck-1") })).toEqual([]); // not requested: no event
    expect(marks({ mode: "updates", ns: [], data: { a: {} } })).toEqual([["updates", "ck-1"]]);
    expect(marks({ mode: "checkpoints", ns: ["sub:1"], data: checkpoint("ck-sub") })).toEqual([]);
    expect(marks({ mode: "checkpoints", ns: [], data: { id: "ck-envelope", step: 2 } })).toEqual([]);
    expect(marks({ mode: "values", ns: ["sub:1"], data: { n: 1 } })).toEqual([["values", "ck-1"]]);
    expect(marks({ mode: "checkpoints", ns: [], data: checkpoint(42) })).toEqual([]); // no string id: keeps the last one
    expect(marks({ mode: "checkpoints", ns: [], data: { values: {} } })).toEqual([]); // no config at all
    expect(marks({ mode: "values", ns: [], data: { n: 2 } })).toEqual([["values", "ck-1"]]);
    expect(marks({ mode: "checkpoints", ns: [], data: checkpoint("ck-2") })).toEqual([]);
    expect(marks({ mode: "values", ns: [], data: { n: 3 } })).toEqual([["values", "ck-2"]]);
  });

  it("a requested checkpoints event carries its own id", () => {
    const translator = new RunStreamTranslator(["checkpoints"]);
    const [event] = translator.translate({ mode: "checkpoints", ns: [], data: checkpoint("ck-1") });
    expect(event).toMatchObject({ mode: "checkpoints", checkpointId: "ck-1" });
    expect(translator.translate({ mode: "values", ns: [], data: {} })).toEqual([]); // not requested
  });
});

describe("legacy messages mode", () => {
  it("makes partials only from message chunks with an id, and completes each message once", () => {
    const legacy = new LegacyMessages();
    const meta = { langgraph_node: "model" };
    expect(legacy.fromTuple([], "not a tuple")).toEqual([]);
    expect(legacy.fromTuple([], [new AIMessageChunk({ content: "no id" }), meta])).toEqual([]);
    expect(legacy.fromTuple([], [new AIMessageChunk({ id: "", content: "empty id" }), meta])).toEqual([]);
    expect(legacy.fromTuple([], [new AIMessage({ id: "whole", content: "a whole message" }), meta])).toEqual([]);
    expect(legacy.fromTuple([], [{ id: "plain", content: "not a message" }, meta])).toEqual([]);
    const first = legacy.fromTuple(["sub:1"], [new AIMessageChunk({ id: "m1", content: "Hel" }), meta]);
    expect(first.map((e) => [e.mode, e.ns])).toEqual([
      ["messages/metadata", ["sub:1"]],
      ["messages/partial", ["sub:1"]],
    ]);
    expect(first[0].data).toEqual({ m1: { metadata: meta } });
    const second = legacy.fromTuple([], [new AIMessageChunk({ id: "m1", content: "lo" }), meta]);
    expect(second.map((e) => e.mode)).toEqual(["messages/partial"]);
    expect((second[0].data as Array<{ content: string }>)[0].content).toBe("Hello");

    expect(legacy.fromValues([], null)).toEqual([]);
    expect(legacy.fromValues([], { messages: "not messages" })).toEqual([]);
    expect(legacy.fromValues([], { messages: [] })).toEqual([]);
    const human = new HumanMessage({ id: "h1", content: "hi" });
    const completed = legacy.fromValues([], {
      messages: [human, new AIMessage({ id: "m1", content: "Hello" }), new AIMessage({ content: "no id" })],
    });
    expect(completed.map((e) => e.mode)).toEqual(["messages/complete"]);
    expect((completed[0].data as Array<{ id: string }>).map((m) => m.id)).toEqual(["h1", "m1"]);
    // once complete, neither more chunks nor the same state send it again
    expect(legacy.fromTuple([], [new AIMessageChunk({ id: "m1", content: "!" }), meta])).toEqual([]);
    expect(legacy.fromValues([], { messages: [human] })).toEqual([]);
    // a state whose messages field is a single message
    expect(legacy.fromValues([], { messages: new AIMessage({ id: "m2", content: "one" }) }).map((e) => e.data)).toMatchObject([[{ id: "m2" }]]);
  });
});

describe("stream payloads", () => {
  it("shapes a checkpoint: public configs, checkpoint references, tasks with text errors and subgraph references", () => {
    const shaped = streamCheckpoint({
      config: {
        callbacks: ["handler"],
        tags: ["x"],
        configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: "c2", __pregel_x: 1, user: "u" },
      },
      parentConfig: { configurable: { thread_id: "t", checkpoint_id: "c1", checkpoint_map: { "": "c1" } } },
      values: { v: 1 },
      metadata: { step: 2 },
      next: ["node"],
      tasks: [
        {
          id: "1",
          name: "node",
          error: new Error("boom"),
          state: { configurable: { thread_id: "t", checkpoint_ns: "node:1", checkpoint_id: "s1" } },
        },
        { id: "2", name: "other", error: "text error" },
        { id: "3", name: "fine", interrupts: [] },
        { id: "4", name: "odd", error: { code: 7 } },
        { id: "5", name: "none", error: null, state: "not a config" },
      ],
    });
    expect(shaped).toEqual({
      config: { tags: ["x"], configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: "c2", user: "u" } },
      parent_config: { configurable: { thread_id: "t", checkpoint_id: "c1", checkpoint_map: { "": "c1" } } },
      checkpoint: { thread_id: "t", checkpoint_ns: "", checkpoint_id: "c2" },
      parent_checkpoint: { thread_id: "t", checkpoint_ns: "", checkpoint_id: "c1", checkpoint_map: { "": "c1" } },
      values: { v: 1 },
      metadata: { step: 2 },
      next: ["node"],
      tasks: [
        { id: "1", name: "node", error: "boom", checkpoint: { thread_id: "t", checkpoint_ns: "node:1", checkpoint_id: "s1" } },
        { id: "2", name: "other", error: "text error" },
        { id: "3", name: "fine", interrupts: [] },
        { id: "4", name: "odd", error: '{"code":7}' },
        { id: "5", name: "none", error: null, checkpoint: null },
      ],
    });
    expect(streamCheckpoint({ config: { tags: [] }, parentConfig: "x", tasks: "none" })).toMatchObject({
      config: { tags: [] },
      parent_config: null,
      checkpoint: null,
      parent_checkpoint: null,
      tasks: [],
    });
    expect(streamCheckpoint("odd")).toBe("odd");
    expect(streamTask(7)).toBe(7);
  });

  it("names a failed tool's error and shapes debug payloads by their type", () => {
    class ToolFailure extends Error {}
    const named = Object.assign(new Error("bad input"), { name: "ValidationError" });
    expect(streamToolEvent({ name: "search", error: named })).toEqual({ name: "search", error: { error: "ValidationError", message: "bad input" } });
    expect(streamToolEvent({ name: "search", error: new ToolFailure("gone") })).toEqual({
      name: "search",
      error: { error: "ToolFailure", message: "gone" },
    });
    expect(streamToolEvent({ name: "search", error: "text" })).toEqual({ name: "search", error: "text" });
    expect(streamToolEvent(null)).toBeNull();
    const config = { configurable: { thread_id: "t", checkpoint_id: "c", __internal: 1 } };
    expect(streamDebug({ step: 1, type: "checkpoint", payload: { config } })).toMatchObject({
      step: 1,
      payload: {
        config: { configurable: { thread_id: "t", checkpoint_id: "c" } },
        checkpoint: { thread_id: "t", checkpoint_ns: "", checkpoint_id: "c" },
      },
    });
    expect(streamDebug({ step: 1, type: "task_result", payload: { id: "x", error: new Error("e") } })).toEqual({
      step: 1,
      type: "task_result",
      payload: { id: "x", error: "e" },
    });
    expect(streamDebug("odd")).toBe("odd");
  });

  it("never throws on data JSON cannot hold, and measures what it sends", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const { data, size } = payload(cyclic);
    expect(data).toMatch(/^\[not serializable: /);
    expect(size).toBe(JSON.stringify(data).length);
    expect(payload({ a: [1, "two"] })).toEqual({ data: { a: [1, "two"] }, size: '{"a":[1,"two"]}'.length });
  });
});

describe("event names", () => {
  it("suffixes subgraph namespaces and maps events back to the modes that produce them", () => {
    expect(sseEventName({ mode: "updates", ns: ["child:1", "grandchild:2"] })).toBe("updates|child:1|grandchild:2");
    expect(sseEventName({ mode: "values", ns: [] })).toBe("values");
    expect(streamModeOf("messages")).toBe("messages-tuple");
    expect(streamModeOf("messages/partial")).toBe("messages");
    expect(streamModeOf("metadata")).toBeNull();
    const onlyUpdates = joinFilter(["updates"]);
    expect(["metadata", "error", "updates", "values", "messages"].filter((mode) => onlyUpdates({ mode, ns: [] }))).toEqual([
      "metadata",
      "error",
      "updates",
    ]);
    const onlyChild = joinFilter(undefined, ["child:1"]);
    expect(onlyChild({ mode: "updates", ns: ["child:1"] })).toBe(true);
    expect(onlyChild({ mode: "updates", ns: [] })).toBe(false);
    expect(onlyChild({ mode: "updates", ns: ["child:1", "grandchild:2"] })).toBe(false);
    expect(onlyChild({ mode: "metadata", ns: [] })).toBe(true);
    expect(joinFilter(["values"], [""])({ mode: "values", ns: [] })).toBe(true);
  });
});
