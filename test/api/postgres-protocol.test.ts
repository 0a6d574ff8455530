/**
 * The thread-centric protocol (v2) across two server processes on one PostgreSQL database: a
 * client connected to one process follows, and steers, runs executing on the other. The events'
 * `seq` and `event_id` come from the stored events, so both processes number them alike.
 */
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { REPO_ROOT } from "../support/server.js";
import { startServerCluster, type ServerCluster } from "../support/server-cluster.js";
import { command, isRootEnd, openEventStream, protocolViolations, ProtocolSocketClient, type ProtocolEvent } from "../support/protocol.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/browser/langgraph.json");

let database: TestDatabase;
let cluster: ServerCluster;
beforeAll(async () => {
  database = await createTestDatabase();
  cluster = await startServerCluster({ databaseUri: database.uri, configPath: CONFIG, size: 2 });
}, 120_000);
afterAll(async () => {
  await cluster?.close();
  await database?.drop();
});

const ids = (events: ProtocolEvent[]) => events.map((e) => `${e.seq}:${e.event_id}:${e.method}`);
const lifecycle = (events: ProtocolEvent[]) =>
  events.filter((e) => e.method === "lifecycle" && e.params.namespace.length === 0).map((e) => e.params.data.event);

describe("two processes, one database", () => {
  it("a run started on one process is followed from the other over SSE and over a WebSocket, with the same seq and ids", async () => {
    const [a, b] = cluster.processes.map((p) => p.url);
    const starter = new Client({ apiUrl: a }).threads.stream({ assistantId: "agent" });
    const threadId = starter.threadId;
    const onA = await openEventStream(a, threadId, { channels: ["lifecycle", "messages", "values"] });
    const onB = await openEventStream(b, threadId, { channels: ["lifecycle", "messages", "values"] });
    const socketOnB = await ProtocolSocketClient.open(b, threadId);
    try {
      await socketOnB.send("subscription.subscribe", { channels: ["lifecycle", "messages", "values"] });
      const started = await starter.run.start({
        input: { messages: [{ role: "user", content: "across two processes" }] },
        config: { configurable: { token_delay_ms: 20 } },
      });
      expect(started.run_id).toEqual(expect.any(String));
      await onA.until(isRootEnd);
      await onB.until(isRootEnd);
      await socketOnB.until(isRootEnd);
      expect(lifecycle(onB.events)).toEqual(["running", "completed"]);
      expect(ids(onB.events)).toEqual(ids(onA.events));
      expect(ids(socketOnB.events)).toEqual(ids(onA.events));
      const text = onB.events
        .filter((e) => e.method === "messages" && e.params.data.event === "content-block-delta")
        .map((e) => (e.params.data.delta as { text: string }).text)
        .join("");
      expect(text).toBe("Echo: across two processes");
      expect(protocolViolations).toEqual([]);
    } finally {
      onA.close();
      onB.close();
      socketOnB.close();
      await starter.close();
    }
  });

  it("an interrupt raised on one process is answered through the other, and the first one's client sees the resumed run", async () => {
    const [a, b] = cluster.processes.map((p) => p.url);
    const onA = new Client({ apiUrl: a }).threads.stream({
      assistantId: "approval",
      transport: "websocket",
      webSocketFactory: (url) => new WebSocket(url) as never,
    });
    const threadId = onA.threadId;
    const followed = await openEventStream(a, threadId, { channels: ["lifecycle", "input", "values"] });
    try {
      await onA.run.start({ input: { messages: [{ role: "user", content: "draft" }] } });
      const request = await followed.until((e) => e.method === "input.requested");
      await followed.until((e) => e.method === "lifecycle" && e.params.data.event === "interrupted");
      const answered = await command(b, threadId, "input.respond", {
        namespace: [],
        interrupt_id: request.params.data.interrupt_id,
        response: "from b",
      });
      expect(answered).toMatchObject({ type: "success" });
      await followed.until((e) => e.method === "lifecycle" && e.params.data.event === "completed");
      expect(lifecycle(followed.events)).toEqual(["running", "interrupted", "running", "completed"]);
      const last = followed.events.filter((e) => e.method === "values").at(-1)?.params.data as { messages: Array<{ content: unknown }> };
      expect(JSON.stringify(last.messages.at(-1)?.content)).toContain("You said: from b");
      const seqs = followed.events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(protocolViolations).toEqual([]);
    } finally {
      followed.close();
      await onA.close();
    }
  });
});
