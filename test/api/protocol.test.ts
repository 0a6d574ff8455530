import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { WebSocket } from "ws";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";
import { randomUUID } from "node:crypto";
import { checkAgainst } from "../../src/http/contract-schemas.js";
import { eventually } from "../support/runs.js";
import { command, isRootEnd, openEventStream, protocolViolations, ProtocolSocketClient } from "../support/protocol.js";

/**
 * The thread-centric protocol (v2) driven by the SDK's `client.threads.stream`, over SSE and over
 * a WebSocket: runs started by commands, their events (lifecycle, messages as content-block deltas,
 * values, input.requested), interrupts answered, state read. Every command answer and event is
 * checked against the contract's schemas.
 */
const CONFIG = path.join(REPO_ROOT, "test/fixtures/browser/langgraph.json");

type Transport = "sse" | "websocket";
const TRANSPORTS: Transport[] = ["sse", "websocket"];

let api: TestServer;
beforeAll(async () => {
  api = await startTestServer({ configPath: CONFIG });
}, 120_000);
afterAll(async () => {
  await api?.dispose();
});
afterAll(() => {
  expect(api.violations).toEqual([]);
});

interface Event {
  type: "event";
  event_id: string;
  seq: number;
  method: string;
  params: { namespace: string[]; timestamp: number; data: Record<string, unknown> };
}

const ALL_CHANNELS = ["lifecycle", "messages", "values", "updates", "checkpoints", "tasks", "tools", "input", "custom"];

/** Every event of a subscription to every channel, each checked against the contract. */
async function recorder(thread: ThreadStream) {
  const events: Event[] = [];
  const violations: string[] = [];
  const subscription = (await thread.subscribe(ALL_CHANNELS as never)) as unknown as AsyncIterable<Event> & {
    isPaused: boolean;
    waitForResume(): Promise<void>;
  };
  void (async () => {
    // the SDK pauses a subscription at the end of a run (its iteration ends) and resumes it with the next
    for (;;) {
      for await (const event of subscription) {
        events.push(event);
        const problem = checkAgainst("ProtocolEvent", structuredClone(event), "event");
        if (problem) violations.push(`${event.method}: ${problem}`);
      }
      if (!subscription.isPaused) break;
      await subscription.waitForResume();
    }
  })();
  return { events, violations };
}

type ThreadStream = ReturnType<Client["threads"]["stream"]>;

/** A thread stream on `assistantId` (a new thread unless `threadId`) over `transport`. */
function openThread(transport: Transport, assistantId: string, threadId?: string): ThreadStream {
  const client = new Client({ apiUrl: api.url });
  const options = { assistantId, transport, webSocketFactory: (url: string) => new WebSocket(url) as never };
  return threadId ? client.threads.stream(threadId, options) : client.threads.stream(options);
}

const rootLifecycle = (events: Event[]) =>
  events.filter((e) => e.method === "lifecycle" && e.params.namespace.length === 0).map((e) => e.params.data.event);

describe.each(TRANSPORTS)("client.threads.stream over %s", (transport) => {
  it("streams a run: running, message deltas, values, completed; seq increases", async () => {
    const thread = openThread(transport, "agent");
    const seen = await recorder(thread);
    try {
      const started = await thread.run.start({
        input: { messages: [{ role: "user", content: "one two three" }] },
        config: { configurable: { token_delay_ms: 5 } },
      });
      expect(checkAgainst("ProtocolRunResult", started, "result")).toBeNull();
      const output = (await thread.output) as { messages: Array<{ content: unknown }> };
      expect(JSON.stringify(output.messages.at(-1)?.content)).toContain("Echo: one two three");
      await expect.poll(() => rootLifecycle(seen.events)).toEqual(["running", "completed"]);
      const deltas = seen.events
        .filter((e) => e.method === "messages" && e.params.data.event === "content-block-delta")
        .map((e) => (e.params.data.delta as { text: string }).text)
        .join("");
      expect(deltas).toBe("Echo: one two three");
      const seqs = seen.events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seen.events.map((e) => e.event_id)).size).toBe(seen.events.length);
      expect(seen.violations).toEqual([]);
    } finally {
      await thread.close();
    }
  });
});

const lastAiText = (values: unknown) => {
  const messages = (values as { messages?: Array<{ type?: string; content: unknown }> }).messages ?? [];
  const content = messages.at(-1)?.content;
  return typeof content === "string" ? content : JSON.stringify(content);
};

describe.each(TRANSPORTS)("client.threads.stream over %s: interrupts, failures, reattaching", (transport) => {
  it("pauses at an interrupt (input.requested, lifecycle interrupted) and resumes with input.respond", async () => {
    const thread = openThread(transport, "approval");
    const seen = await recorder(thread);
    try {
      await thread.run.start({ input: { messages: [{ role: "user", content: "draft a reply" }] } });
      await expect.poll(() => rootLifecycle(seen.events), { timeout: 15_000 }).toEqual(["running", "interrupted"]);
      const request = seen.events.find((e) => e.method === "input.requested");
      expect(request?.params.data.payload).toEqual({ question: "Send the reply?" });
      expect(thread.interrupts.map((i) => i.interruptId)).toEqual([request?.params.data.interrupt_id]);
      await thread.input.respond({ namespace: [], interrupt_id: request!.params.data.interrupt_id as string, response: "yes please" });
      await expect.poll(() => rootLifecycle(seen.events), { timeout: 15_000 }).toEqual(["running", "interrupted", "running", "completed"]);
      const values = seen.events.filter((e) => e.method === "values").at(-1);
      expect(lastAiText(values?.params.data)).toBe("You said: yes please");
      // the resuming run announced what it answers, so every client can stop offering it
      const answered = seen.events.find((e) => e.method === "input.answered");
      expect(answered?.params.data).toEqual({ interrupt_ids: [request!.params.data.interrupt_id] });
      expect(answered!.seq).toBeGreaterThan(request!.seq);
      expect(seen.violations).toEqual([]);
    } finally {
      await thread.close();
    }
  });

  it("reports a failing graph's error on the root lifecycle", async () => {
    const thread = openThread(transport, "failing");
    const seen = await recorder(thread);
    try {
      await thread.run.start({ input: { messages: [{ role: "user", content: "go" }] } });
      await expect.poll(() => rootLifecycle(seen.events), { timeout: 15_000 }).toEqual(["running", "failed"]);
      const failed = seen.events.find((e) => e.method === "lifecycle" && e.params.data.event === "failed");
      expect(failed?.params.data.error).toContain("The failing graph failed on purpose");
      expect(seen.violations).toEqual([]);
    } finally {
      await thread.close();
    }
  });

  it("a client attaching to a thread mid-run (a reload) gets the run from its start, each event once, then live", async () => {
    const first = openThread(transport, "agent");
    const seen = await recorder(first);
    const words = "alpha beta gamma delta epsilon zeta eta theta";
    await first.run.start({ input: { messages: [{ role: "user", content: words }] }, config: { configurable: { token_delay_ms: 40 } } });
    await expect.poll(() => seen.events.filter((e) => e.method === "messages").length, { timeout: 15_000 }).toBeGreaterThan(3);
    await first.close(); // the page goes away mid-run
    const second = openThread(transport, "agent", first.threadId);
    const again = await recorder(second);
    try {
      await expect.poll(() => rootLifecycle(again.events), { timeout: 15_000 }).toEqual(["running", "completed"]);
      const text = again.events
        .filter((e) => e.method === "messages" && e.params.data.event === "content-block-delta")
        .map((e) => (e.params.data.delta as { text: string }).text)
        .join("");
      expect(text).toBe(`Echo: ${words}`);
      expect(new Set(again.events.map((e) => e.event_id)).size).toBe(again.events.length);
      // what the first client saw has the same ids and seq on the second
      for (const event of seen.events) expect(again.events.find((e) => e.event_id === event.event_id)?.seq).toBe(event.seq);
      expect(again.violations).toEqual([]);
    } finally {
      await second.close();
    }
  });
});

describe.each(TRANSPORTS)("a connection dropped mid-run, over %s", (transport) => {
  it("the SDK reconnects by itself and gets every event of the run once", async () => {
    /** The open connections of the thread stream's transport, to cut them as a network would. */
    const sockets: WebSocket[] = [];
    const streams: AbortController[] = [];
    const client = new Client({ apiUrl: api.url });
    const thread = client.threads.stream({
      assistantId: "agent",
      transport,
      reconnectDelayMs: () => 10,
      webSocketFactory: (url: string) => {
        const socket = new WebSocket(url);
        sockets.push(socket);
        return socket as never;
      },
      fetch: (async (url: string, init: RequestInit) => {
        if (!String(url).endsWith("/stream/events")) return fetch(url, init);
        const cut = new AbortController();
        streams.push(cut);
        return fetch(url, { ...init, signal: AbortSignal.any([init.signal ?? new AbortController().signal, cut.signal]) });
      }) as never,
    });
    const seen = await recorder(thread);
    try {
      const words = "uno dos tres cuatro cinco seis siete ocho nueve diez";
      await thread.run.start({ input: { messages: [{ role: "user", content: words }] }, config: { configurable: { token_delay_ms: 40 } } });
      await expect
        .poll(() => seen.events.filter((e) => e.params.data.event === "content-block-delta").length, { timeout: 15_000 })
        .toBeGreaterThan(2);
      const before = seen.events.length;
      const opened = sockets.length + streams.length;
      // the network drops every connection of the thread stream
      for (const socket of sockets) socket.terminate();
      for (const stream of streams) stream.abort();
      await expect.poll(() => rootLifecycle(seen.events), { timeout: 20_000 }).toEqual(["running", "completed"]);
      expect(sockets.length + streams.length).toBeGreaterThan(opened); // it did reconnect
      expect(seen.events.length).toBeGreaterThan(before);
      const text = seen.events
        .filter((e) => e.params.data.event === "content-block-delta")
        .map((e) => (e.params.data.delta as { text: string }).text)
        .join("");
      expect(text).toBe(`Echo: ${words}`);
      expect(new Set(seen.events.map((e) => e.event_id)).size).toBe(seen.events.length);
    } finally {
      await thread.close();
    }
  });
});

describe("commands over HTTP", () => {
  it("answers unknown methods, bad params and subscription commands with the protocol's errors", async () => {
    const threadId = randomUUID();
    expect(await command(api.url, threadId, "run.explode", {})).toMatchObject({ type: "error", error: "unknown_command" });
    expect(await command(api.url, threadId, "run.start", { input: {} })).toMatchObject({ type: "error", error: "invalid_argument" });
    expect(await command(api.url, threadId, "run.start", { assistant_id: "agent", input: {}, surprise: 1 })).toMatchObject({
      type: "error",
      error: "invalid_argument",
    });
    expect(await command(api.url, threadId, "subscription.subscribe", { channels: ["values"] })).toMatchObject({
      type: "error",
      error: "not_supported",
    });
    expect(await command(api.url, threadId, "input.respond", { namespace: [], interrupt_id: "x", response: 1 })).toMatchObject({
      type: "error",
      error: "no_such_run",
    });
    expect(await command(api.url, threadId, "run.start", { assistant_id: "no-such-graph", input: {} })).toMatchObject({
      type: "error",
      error: "invalid_argument",
    });
    const malformed = await fetch(`${api.url}/threads/${threadId}/commands`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(malformed.status).toBe(422);
    expect(protocolViolations).toEqual([]);
  });

  it("creates the thread on the first run.start; state.get, state.listCheckpoints and state.fork read and branch it", async () => {
    const threadId = randomUUID();
    const events = await openEventStream(api.url, threadId, { channels: ["lifecycle", "values", "checkpoints"] });
    try {
      const started = await command(api.url, threadId, "run.start", {
        assistant_id: "agent",
        input: { messages: [{ role: "user", content: "first" }] },
      });
      expect(started).toMatchObject({ type: "success", result: { run_id: expect.any(String) }, meta: { thread_id: threadId } });
      await events.until((e) => e.method === "lifecycle" && e.params.data.event === "completed");
      expect((await api.client.threads.get(threadId)).thread_id).toBe(threadId);

      const state = await command(api.url, threadId, "state.get", { namespace: [], keys: ["messages"] });
      expect(checkAgainst("ProtocolStateGetResult", state.result, "result")).toBeNull();
      expect(lastAiText(state.result?.values)).toContain("Echo: first");
      const checkpointEvents = events.events.filter((e) => e.method === "checkpoints");
      expect(checkpointEvents.map((e) => e.params.data.id)).toContain((state.result?.checkpoint as { id: string }).id);

      const listed = await command(api.url, threadId, "state.listCheckpoints", { limit: 10 });
      expect(checkAgainst("ProtocolListCheckpointsResult", listed.result, "result")).toBeNull();
      const checkpoints = listed.result?.checkpoints as Array<{ id: string; step: number }>;
      expect(checkpoints[0].id).toBe((state.result?.checkpoint as { id: string }).id);
      const beforeReply = checkpoints.find((c) => c.step === 0)!;

      const tree = await command(api.url, threadId, "agent.getTree", {});
      expect(checkAgainst("ProtocolAgentResult", tree.result, "result")).toBeNull();
      // the agent's model node streams under its own namespace, but is no subgraph
      expect(tree.result?.tree).toEqual({ namespace: [], status: "completed", graph_name: "agent" });
      expect(await command(api.url, threadId, "agent.getTree", { run_id: randomUUID() })).toMatchObject({ type: "error", error: "no_such_run" });

      const forked = await command(api.url, threadId, "state.fork", { checkpoint_id: beforeReply.id, input: null });
      expect(checkAgainst("ProtocolStateForkResult", forked.result, "result")).toBeNull();
      await events.until((e) => e.method === "lifecycle" && e.params.data.event === "completed" && e.params.data.run_id === forked.result?.run_id);
      // the answer's applied_through_seq separates the history from what the command caused
      const through = (forked as { meta?: { applied_through_seq?: number } }).meta?.applied_through_seq;
      const forkStart = events.events.findIndex((e) => e.params.data.event === "running" && e.params.data.run_id === forked.result?.run_id);
      expect(events.events.slice(0, forkStart).every((e) => e.seq <= through!)).toBe(true);
      expect(events.events.slice(forkStart).every((e) => e.seq > through!)).toBe(true);
      const history = await command(api.url, threadId, "state.listCheckpoints", { limit: 20 });
      const forkHead = (history.result?.checkpoints as Array<{ id: string; metadata: { parents?: unknown } }>)[0];
      expect(forkHead.id).not.toBe(checkpoints[0].id);
      expect(await command(api.url, threadId, "state.fork", { checkpoint_id: "1ef00000-0000-6000-8000-000000000000" })).toMatchObject({
        type: "error",
        error: "no_such_checkpoint",
      });
      expect(protocolViolations).toEqual([]);
    } finally {
      events.close();
    }
  });

  it("tells a subgraph's lifecycle (started, then completed with its task) and shows it in agent.getTree", async () => {
    const threadId = randomUUID();
    const events = await openEventStream(api.url, threadId, { channels: ["lifecycle", "values"] });
    try {
      await command(api.url, threadId, "run.start", { assistant_id: "subgraph", input: { text: " hi " } });
      await events.until(isRootEnd);
      const lifecycle = events.events
        .filter((e) => e.method === "lifecycle")
        .map((e) => [e.params.namespace.map((s) => s.split(":")[0]), e.params.data.event]);
      expect(lifecycle).toEqual([
        [[], "running"],
        [["child"], "started"],
        [["child"], "completed"],
        [[], "completed"],
      ]);
      // the subgraph's values come between its start and its end
      const started = events.events.findIndex((e) => e.params.data.event === "started");
      const ended = events.events.findIndex((e) => e.params.namespace.length === 1 && e.params.data.event === "completed");
      expect(events.events.slice(started, ended).some((e) => e.method === "values" && e.params.namespace.length === 1)).toBe(true);
      const tree = await command(api.url, threadId, "agent.getTree", {});
      expect(tree.result?.tree).toEqual({
        namespace: [],
        status: "completed",
        graph_name: "subgraph",
        children: [{ namespace: [expect.stringMatching(/^child:/)], status: "completed", graph_name: "child" }],
      });
      expect(protocolViolations).toEqual([]);
    } finally {
      events.close();
    }
  });

  it("streams tools (started, finished, error) and custom events on their channels, each filtered to its own", async () => {
    const threadId = randomUUID();
    const tools = await openEventStream(api.url, threadId, { channels: ["tools", "lifecycle"] });
    const custom = await openEventStream(api.url, threadId, { channels: ["custom"] });
    try {
      await command(api.url, threadId, "run.start", { assistant_id: "tools", input: { a: 2, b: 0 } });
      await tools.until(isRootEnd);
      const calls = tools.events.filter((e) => e.method === "tools").map((e) => e.params.data);
      expect(calls.map((c) => [c.event, c.tool_name ?? null])).toEqual([
        ["tool-started", "add"],
        ["tool-finished", null],
        ["tool-started", "divide"],
        ["tool-error", null],
      ]);
      expect(calls[0].tool_call_id).toBe(calls[1].tool_call_id);
      expect(JSON.stringify(calls[1].output)).toContain("2");
      expect(calls[3].message).toContain("division by zero");

      // each stream carries only its channels: the tools run wrote no custom events
      expect(tools.events.every((e) => e.method === "tools" || e.method === "lifecycle")).toBe(true);
      expect(custom.events).toEqual([]);
      const emitter = randomUUID();
      const emitted = await openEventStream(api.url, emitter, { channels: ["custom", "lifecycle"] });
      await command(api.url, emitter, "run.start", { assistant_id: "custom", input: { count: 2 } });
      await emitted.until(isRootEnd);
      expect(emitted.events.filter((e) => e.method === "custom").map((e) => e.params.data.payload)).toEqual([
        { type: "progress", step: 1, total: 2 },
        { type: "progress", step: 2, total: 2 },
        { type: "done", total: 2 },
      ]);
      emitted.close();
      expect(protocolViolations).toEqual([]);
    } finally {
      tools.close();
      custom.close();
    }
  });

  it("input.inject gives a message to the thread as the next run's input", async () => {
    const threadId = randomUUID();
    const events = await openEventStream(api.url, threadId, { channels: ["lifecycle"] });
    try {
      await command(api.url, threadId, "run.start", { assistant_id: "agent", input: { messages: [{ role: "user", content: "one" }] } });
      expect(await command(api.url, threadId, "input.inject", { namespace: [], message: { role: "user", content: "two" } })).toMatchObject({
        type: "success",
      });
      await eventually(async () => (events.events.filter((e) => e.params.data.event === "completed").length === 2 ? true : undefined));
      const state = await api.client.threads.getState<{ messages: Array<{ content: unknown }> }>(threadId);
      expect(state.values.messages.map((m) => JSON.stringify(m.content))).toEqual([
        JSON.stringify("one"),
        expect.stringContaining("Echo: one"),
        JSON.stringify("two"),
        expect.stringContaining("Echo: two"),
      ]);
    } finally {
      events.close();
    }
  });
});

describe("replay and reconnect", () => {
  it("an SSE stream with `since` replays only the later events, then goes on live", async () => {
    const threadId = randomUUID();
    const all = await openEventStream(api.url, threadId, { channels: ["lifecycle", "messages", "values"] });
    try {
      await command(api.url, threadId, "run.start", {
        assistant_id: "agent",
        input: { messages: [{ role: "user", content: "a b c d e f g h i j" }] },
        config: { configurable: { token_delay_ms: 40 } },
      });
      await all.until((e) => e.method === "messages" && e.params.data.event === "content-block-delta");
      const cut = all.events.at(-1)!.seq;
      const resumed = await openEventStream(api.url, threadId, { channels: ["lifecycle", "messages", "values"], since: cut });
      await all.until(isRootEnd);
      await resumed.until(isRootEnd);
      resumed.close();
      expect(resumed.events.map((e) => e.event_id)).toEqual(all.events.filter((e) => e.seq > cut).map((e) => e.event_id));
      expect(protocolViolations).toEqual([]);
    } finally {
      all.close();
    }
  });

  it("subscription.reconnect on a new socket restores the subscriptions and replays what came after last_event_id", async () => {
    const threadId = randomUUID();
    const first = await ProtocolSocketClient.open(api.url, threadId);
    const subscribed = await first.send("subscription.subscribe", { channels: ["lifecycle", "messages"] });
    expect(subscribed).toMatchObject({ type: "success", result: { subscription_id: expect.any(String) } });
    const started = await first.send("run.start", {
      assistant_id: "agent",
      input: { messages: [{ role: "user", content: "k l m n o p q r s t" }] },
      config: { configurable: { token_delay_ms: 40 } },
    });
    await first.until((e) => e.method === "messages" && e.params.data.event === "content-block-delta");
    first.close(); // the network drops
    const lastSeen = first.events.at(-1)!;
    const second = await ProtocolSocketClient.open(api.url, threadId);
    try {
      const restored = await second.send("subscription.reconnect", {
        run_id: started.result!.run_id,
        last_event_id: lastSeen.event_id,
        subscriptions: [subscribed.result!.subscription_id],
      });
      expect(restored).toMatchObject({ type: "success", result: { restored: true } });
      await second.until(isRootEnd);
      const ids = second.events.map((e) => e.event_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(second.events.every((e) => e.seq > lastSeen.seq)).toBe(true);
      const text = [...first.events, ...second.events]
        .filter((e) => e.params.data.event === "content-block-delta")
        .map((e) => (e.params.data.delta as { text: string }).text)
        .join("");
      expect(text).toBe("Echo: k l m n o p q r s t");
      expect(await second.send("subscription.reconnect", { run_id: randomUUID() })).toMatchObject({ type: "error", error: "no_such_run" });
      expect(await second.send("subscription.unsubscribe", { subscription_id: "nope" })).toMatchObject({
        type: "error",
        error: "no_such_subscription",
      });
      second.socket.send("not json");
      await eventually(async () => (second.unsolicited.length > 0 ? true : undefined));
      expect(second.unsolicited[0]).toMatchObject({ type: "error", id: null, error: "invalid_argument" });
      expect(protocolViolations).toEqual([]);
    } finally {
      second.close();
    }
  });

  it("a thread's deletion ends its event streams", async () => {
    const threadId = randomUUID();
    const events = await openEventStream(api.url, threadId, { channels: ["lifecycle"] });
    await command(api.url, threadId, "run.start", { assistant_id: "agent", input: { messages: [{ role: "user", content: "x" }] } });
    await events.until(isRootEnd);
    await api.client.threads.delete(threadId);
    await events.ended;
    expect(events.events.map((e) => e.params.data.event)).toEqual(["running", "completed"]);
  });

  it("a plain GET of the socket's route answers 426", async () => {
    const response = await fetch(`${api.url}/threads/${randomUUID()}/stream/events`);
    expect(response.status).toBe(426);
    expect(await response.json()).toMatchObject({ detail: expect.stringContaining("WebSocket") });
  });
});
