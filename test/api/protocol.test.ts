import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { WebSocket } from "ws";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";
import { checkAgainst } from "../../src/http/contract-schemas.js";

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
  const subscription = (await thread.subscribe(ALL_CHANNELS as never)) as unknown as AsyncIterable<Event>;
  void (async () => {
    for await (const event of subscription) {
      events.push(event);
      const problem = checkAgainst("ProtocolEvent", structuredClone(event), "event");
      if (problem) violations.push(`${event.method}: ${problem}`);
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

const rootLifecycle = (events: Event[]) => events.filter((e) => e.method === "lifecycle" && e.params.namespace.length === 0).map((e) => e.params.data.event);

describe.each(TRANSPORTS)("client.threads.stream over %s", (transport) => {
  it("streams a run: running, message deltas, values, completed; seq increases", async () => {
    const thread = openThread(transport, "agent");
    const seen = await recorder(thread);
    try {
      const started = await thread.run.start({ input: { messages: [{ role: "user", content: "one two three" }] }, config: { configurable: { token_delay_ms: 5 } } });
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
