/**
 * Streaming runs through the SDK: every stream mode on the example graphs, several at once,
 * subgraph namespaces, the error event, the SSE wire format and headers, and the 4xx answers
 * given before a stream opens. Every event is checked against the contract's RunStreamEvent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startGate } from "../support/gate.js";
import { json, startTestServer, type TestServer } from "../support/server.js";
import { collect, contractViolations, expectNotFoundStream, parseSse, STREAMS_CONFIG, type StreamPart } from "../support/streams.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: STREAMS_CONFIG, runs: { shutdownGraceMs: 200 } });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const newThread = async () => (await t.client.threads.create()).thread_id;
const hello = { messages: [{ role: "user", content: "hello world" }] };
type StreamPayload = Parameters<TestServer["client"]["runs"]["stream"]>[2];

/** Streams a run through the SDK, checking every event against the contract. */
async function stream(threadId: string | null, assistant: string, payload: StreamPayload): Promise<StreamPart[]> {
  const runs = t.client.runs;
  const source = threadId === null ? runs.stream(null, assistant, payload as never) : runs.stream(threadId, assistant, payload);
  const parts = await collect(source as AsyncIterable<StreamPart>);
  expect(contractViolations(parts, "RunStreamEvent")).toEqual([]);
  return parts;
}

const named = (parts: StreamPart[], event: string) => parts.filter((p) => p.event === event);

describe("stream modes", () => {
  it("streams the agent's tokens as they are generated (messages-tuple), after a metadata event", async () => {
    // the model holds every token after the first until the gate opens; the gate opens only when
    // the first token has arrived here, so a server sending tokens at the end would never get there
    const gate = await startGate();
    try {
      const threadId = await newThread();
      let created: { run_id: string; thread_id?: string } | undefined;
      const parts: StreamPart[] = [];
      const stream = t.client.runs.stream(threadId, "gated", {
        input: hello,
        streamMode: "messages-tuple",
        config: { configurable: { gate_url: gate.url } },
        onRunCreated: (meta) => (created = meta),
      }) as AsyncIterable<StreamPart>;
      for await (const part of stream) {
        parts.push(part);
        if (part.event === "messages") gate.open();
      }
      expect(gate.timedOut, "the first token did not arrive before the model produced the next").toBe(false);
      expect(contractViolations(parts, "RunStreamEvent")).toEqual([]);

      expect(parts[0]).toEqual({ id: "0", event: "metadata", data: { run_id: created!.run_id, attempt: 1 } });
      expect(created!.thread_id).toBe(threadId);
      expect(parts.map((p) => p.id)).toEqual(parts.map((_, i) => String(i)));
      const tokens = named(parts, "messages");
      expect(tokens.map((p) => p.data[0].content)).toEqual(["Echo:", " hello", " world"]);
      for (const part of tokens) {
        expect(part.data[0]).toMatchObject({ type: "ai", id: tokens[0].data[0].id });
        expect(part.data[1]).toMatchObject({ langgraph_node: "call_model" });
      }
      expect((await t.client.runs.get(threadId, created!.run_id)).status).toBe("success");
    } finally {
      await gate.close();
    }
  });

  it("sends the legacy messages events: metadata once, accumulated partials, complete messages", async () => {
    const parts = await stream(null, "agent", { input: hello, streamMode: "messages" });
    expect(parts.map((p) => p.event)).toEqual([
      "metadata",
      "messages/complete",
      "messages/metadata",
      "messages/partial",
      "messages/partial",
      "messages/partial",
      "messages/complete",
    ]);
    expect(parts[1].data).toEqual([expect.objectContaining({ type: "human", content: "hello world" })]);
    const partials = named(parts, "messages/partial").map((p) => p.data[0].content);
    expect(partials).toEqual(["Echo:", "Echo: hello", "Echo: hello world"]);
    const aiId = named(parts, "messages/partial")[0].data[0].id;
    expect(Object.keys(named(parts, "messages/metadata")[0].data)).toEqual([aiId]);
    expect(parts.at(-1)!.data).toEqual([expect.objectContaining({ type: "ai", id: aiId, content: "Echo: hello world", tool_calls: [] })]);
  });

  it("streams values and updates at once, with subgraph events named by namespace", async () => {
    const parts = await stream(null, "subgraph", { input: { text: " hi " }, streamMode: ["values", "updates"], streamSubgraphs: true });
    const names = parts.map((p) => p.event);
    const child = names.find((n) => n.startsWith("updates|"))!;
    expect(child).toMatch(/^updates\|child:[0-9a-f-]+$/);
    expect(names).toContain(`values|${child.slice("updates|".length)}`);
    expect(named(parts, child).map((p) => Object.keys(p.data)[0])).toEqual(["child_step_1", "child_step_2"]);
    expect(named(parts, "updates").map((p) => Object.keys(p.data)[0])).toEqual(["prepare", "child", "finish"]);
    expect(named(parts, "values").at(-1)!.data).toEqual({
      text: "HI!",
      trail: ["prepare", "finish"],
      child_trail: ["child_step_1", "child_step_2"],
      result: "HI! (child ran 2 steps)",
    });
    // without stream_subgraphs the child's events stay inside it
    const flat = await stream(null, "subgraph", { input: { text: " hi " }, streamMode: "updates" });
    expect(flat.every((p) => !p.event.includes("|"))).toBe(true);
  });

  it("streams the custom events a node writes", async () => {
    const parts = await stream(null, "custom", { input: { count: 2 }, streamMode: "custom" });
    expect(named(parts, "custom").map((p) => p.data)).toEqual([
      { type: "progress", step: 1, total: 2 },
      { type: "progress", step: 2, total: 2 },
      { type: "done", total: 2 },
    ]);
  });

  it("streams LangChain callback events (events mode) with plain messages", async () => {
    const parts = await stream(null, "agent", { input: hello, streamMode: "events" });
    const kinds = named(parts, "events").map((p) => p.data.event);
    expect(kinds[0]).toBe("on_chain_start");
    expect(kinds).toContain("on_chat_model_start");
    const tokens = named(parts, "events").filter((p) => p.data.event === "on_chat_model_stream");
    expect(tokens.map((p) => p.data.data.chunk.content)).toEqual(["Echo:", " hello", " world"]);
    expect(tokens[0].data.data.chunk).toMatchObject({ type: "ai" });
    expect(JSON.stringify(parts)).not.toContain('"lc":1');
  });

  it("streams tasks, checkpoints and debug events of the trivial graph", async () => {
    const threadId = await newThread();
    const parts = await stream(threadId, "trivial", { input: { value: 1 }, streamMode: ["tasks", "checkpoints", "debug"] });
    const tasks = named(parts, "tasks").map((p) => p.data);
    expect(tasks.filter((task) => "input" in task).map((task) => task.name)).toEqual(["a", "b", "c"]);
    expect(tasks.filter((task) => "result" in task).map((task) => [task.name, task.result])).toEqual([
      ["a", { value: 2 }],
      ["b", { value: 3 }],
      ["c", { value: 4 }],
    ]);
    const checkpoints = named(parts, "checkpoints").map((p) => p.data);
    expect(checkpoints.at(-1)).toMatchObject({ values: { value: 4 }, next: [], checkpoint: { thread_id: threadId, checkpoint_ns: "" } });
    expect(checkpoints.at(-1)!.config.configurable).not.toHaveProperty("__pregel_checkpointer");
    const debugTypes = new Set(named(parts, "debug").map((p) => p.data.type));
    expect(debugTypes).toEqual(new Set(["checkpoint", "task", "task_result"]));
    const state = await t.client.threads.getState(threadId);
    expect(checkpoints.at(-1)!.checkpoint.checkpoint_id).toBe(state.checkpoint.checkpoint_id);
  });

  it("accepts every mode at once (tools included) and sends only what each produces", async () => {
    const modes = ["values", "updates", "messages", "messages-tuple", "events", "debug", "tasks", "checkpoints", "custom", "tools"] as const;
    const parts = await stream(await newThread(), "agent", { input: hello, streamMode: [...modes] });
    const names = new Set(parts.map((p) => p.event));
    // the agent emits no custom data and calls no tools: those modes must send nothing (nor an error)
    expect([...names].sort()).toEqual(
      [
        "metadata",
        "values",
        "updates",
        "messages",
        "messages/metadata",
        "messages/partial",
        "messages/complete",
        "events",
        "debug",
        "tasks",
        "checkpoints",
      ].sort(),
    );
  });

  it("streams tool calls starting, ending and failing (tools mode)", async () => {
    const ok = await stream(null, "tools", { input: { a: 2, b: 4 }, streamMode: "tools" });
    expect(named(ok, "tools").map((p) => [p.data.event, p.data.name])).toEqual([
      ["on_tool_start", "add"],
      ["on_tool_end", "add"],
      ["on_tool_start", "divide"],
      ["on_tool_end", "divide"],
    ]);
    expect(named(ok, "tools")[1].data.output).toBe("6");
    const failed = await stream(null, "tools", { input: { a: 2, b: 0 }, streamMode: ["tools", "values"] });
    expect(named(failed, "tools").at(-1)!.data).toMatchObject({
      event: "on_tool_error",
      name: "divide",
      error: { error: "RangeError", message: "division by zero" },
    });
    expect(named(failed, "values").at(-1)!.data).toMatchObject({ sum: "2", quotient: "error: division by zero" });
  });

  it("reports an interrupt in values and updates", async () => {
    const parts = await stream(await newThread(), "interrupt", { input: { topic: "cats" }, streamMode: ["values", "updates"] });
    const interrupt = { value: { question: "Approve the draft?", draft: "Draft about cats" } };
    expect(named(parts, "updates").at(-1)!.data).toEqual({ __interrupt__: [expect.objectContaining(interrupt)] });
    expect(named(parts, "values").at(-1)!.data).toEqual({ __interrupt__: [expect.objectContaining(interrupt)] });
  });

  it("ends a failed run's stream with an error event", async () => {
    const threadId = await newThread();
    let runId = "";
    const parts = await stream(threadId, "failing", { input: { message: "boom" }, onRunCreated: ({ run_id }) => (runId = run_id) });
    expect(parts.map((p) => p.event)).toEqual(["metadata", "values", "values", "error"]);
    expect(parts.at(-1)!.data).toEqual({ error: "ExampleFailure", message: "boom" });
    // the stream ended after the failure was recorded
    expect((await t.client.runs.get(threadId, runId)).status).toBe("error");
  });
});

describe("the contract's event schemas", () => {
  it("reject what the SDK could not read", () => {
    const lcMessage = { lc: 1, type: "constructor", id: ["langchain_core", "messages", "AIMessage"], kwargs: { content: "x" } };
    const bad: StreamPart[] = [
      { id: "0", event: "metadata", data: { run_id: "not-a-uuid", attempt: 1 } },
      { id: "2", event: "messages", data: [lcMessage, {}] },
      { id: "3", event: "messages/partial", data: [] },
      { id: "4", event: "error", data: { message: "no error name" } },
      { id: "5", event: "updates", data: { __interrupt__: "x" } },
      { id: "x", event: "values", data: {} },
      { id: "7", event: "unheard-of", data: {} },
    ];
    expect(contractViolations(bad, "RunStreamEvent")).toHaveLength(bad.length);
    expect(contractViolations([{ id: "8", event: "values|child:1", data: { a: 1 } }], "RunStreamEvent")).toEqual([]);
  });
});

describe("the SSE response", () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  it("is an unbuffered event stream with an id on every event and the run's locations", async () => {
    const threadId = await newThread();
    const res = await post(`/threads/${threadId}/runs/stream`, { assistant_id: "trivial", input: { value: 1 }, stream_mode: ["values", "updates"] });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toContain("no-cache");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const location = res.headers.get("content-location")!;
    expect(location).toMatch(new RegExp(`^/threads/${threadId}/runs/[0-9a-f-]{36}$`));
    expect(res.headers.get("location")).toBe(`${location}/stream`);
    const { events } = parseSse(await res.text());
    expect(events.length).toBe(1 + 4 + 3);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => String(i)));
    expect(events[0]).toMatchObject({ event: "metadata", data: { run_id: location.split("/").pop() } });

    const stateless = await post("/runs/stream", { assistant_id: "trivial", input: { value: 1 } });
    const runPath = stateless.headers.get("content-location")!;
    expect(runPath).toMatch(/^\/runs\/[0-9a-f-]{36}$/);
    expect(stateless.headers.get("location")).toBe(`${runPath}/stream`);
    expect(parseSse(await stateless.text()).events.map((e) => e.event)).toEqual(["metadata", "values", "values", "values", "values"]);
  });

  it("answers in JSON, before any stream, what it cannot do", async () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    const unknownThread = await post(`/threads/${missing}/runs/stream`, { assistant_id: "trivial" });
    expect(unknownThread.status).toBe(404);
    expect(await json(unknownThread)).toEqual({ detail: expect.any(String) });
    const badMode = await post("/runs/stream", { assistant_id: "trivial", stream_mode: "everything" });
    expect(badMode.status).toBe(422);
    expect((await json(badMode)).detail).toMatch(/stream_mode/);
    const unknownAssistant = await post("/runs/stream", { assistant_id: "nope" });
    expect(unknownAssistant.status).toBe(404);
    // the official servers' words, which clients match on
    expect((await json(unknownAssistant)).detail).toMatch(/^No assistant found for 'nope'/);

    const threadId = await newThread();
    const slow = await t.client.runs.create(threadId, "slow", { input: { steps: 1, delay_ms: 300 } });
    const busy = await post(`/threads/${threadId}/runs/stream`, { assistant_id: "trivial" });
    expect(busy.status).toBe(409);
    await busy.arrayBuffer();

    const badId = await fetch(`${t.url}/threads/${threadId}/runs/${slow.run_id}/stream`, { headers: { "Last-Event-ID": "abc" } });
    expect(badId.status).toBe(422);
    expect((await json(badId)).detail).toMatch(/Last-Event-ID/);
    // joining an unknown run is a stream of one error event, as on the Platform (the SDK yields it)
    const unknownRun = await fetch(`${t.url}/threads/${threadId}/runs/${missing}/stream`);
    expectNotFoundStream(unknownRun.status, await unknownRun.text());
    const unknownStateless = await fetch(`${t.url}/runs/${missing}/stream`);
    expectNotFoundStream(unknownStateless.status, await unknownStateless.text());
    const parts = await collect(t.client.runs.joinStream(threadId, missing) as AsyncIterable<StreamPart>);
    expect(parts).toEqual([{ event: "error", data: { error: "HTTPException", message: `404: Run '${missing}' not found` } }]);
    await t.client.runs.join(threadId, slow.run_id);
  });
});
