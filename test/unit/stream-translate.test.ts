/** Raw LangGraph chunks -> API stream events (what the broker carries and SSE sends). */
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { builder as agentBuilder } from "../../examples/src/agent.js";
import type { StreamChunk } from "../../src/runtime/runs/graph-stream.js";
import type { StreamMode } from "../../src/runtime/runs/request.js";
import { joinFilter, sseEventName, streamModeOf } from "../../src/runtime/streams/event-names.js";
import { RunStreamTranslator } from "../../src/runtime/streams/translate.js";

async function translateAgent(modes: StreamMode[], graphModes: string[]): Promise<StreamChunk[]> {
  const graph = agentBuilder.compile({ checkpointer: new MemorySaver() });
  const translator = new RunStreamTranslator(modes);
  const stream = await graph.stream({ messages: [{ role: "user", content: "hello world" }] }, {
    configurable: { thread_id: "t" },
    streamMode: graphModes as never,
  });
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
    const partials = events.filter((e) => e.mode === "messages/partial").map((e) => (e.data as Array<{ content: string }>)[0]!.content);
    expect(partials).toEqual(["Echo:", "Echo: hello", "Echo: hello world"]);
    const [human] = events[0]!.data as Array<Record<string, unknown>>;
    expect(human).toMatchObject({ type: "human", content: "hello world" });
    expect(human).not.toHaveProperty("lc");
    const [ai] = events.at(-1)!.data as Array<Record<string, unknown>>;
    expect(ai).toMatchObject({ type: "ai", content: "Echo: hello world", tool_calls: [] });
    const meta = events[1]!.data as Record<string, { metadata: Record<string, unknown> }>;
    expect(Object.values(meta)[0]!.metadata).toMatchObject({ langgraph_node: "call_model" });
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
    expect(Object.keys(checkpoint.config!.configurable as object).some((k) => k.startsWith("__"))).toBe(false);
    expect(checkpoint).toMatchObject({ parent_config: null, next: ["__start__"], checkpoint: { thread_id: "t", checkpoint_ns: "" } });
  });

  it("drops LangGraph's checkpoint envelopes", () => {
    const translator = new RunStreamTranslator(["checkpoints"]);
    expect(translator.translate({ mode: "checkpoints", ns: [], data: { id: "c1", step: 1, source: "loop" } })).toEqual([]);
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
