import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

/** Details of the answers that the SDK, useStream and Studio read, as the official servers give them. */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function pausedThread(): Promise<string> {
  const { thread_id } = await t.client.threads.create();
  await t.client.runs.wait(thread_id, "interrupt", { input: { topic: "cats" } });
  return thread_id;
}

describe("thread state details", () => {
  it("gives every task its path and result (null until it has one)", async () => {
    const threadId = await pausedThread();
    const state: Json = await t.client.threads.getState(threadId);
    expect(state.tasks).toEqual([expect.objectContaining({ name: "ask_human", path: ["__pregel_pull", "ask_human"], result: null })]);
    // a task of an earlier step finished: its result is what it wrote
    const history: Json[] = await t.client.threads.getHistory(threadId);
    const drafted = history.find((s) => s.next[0] === "write_draft")!;
    expect(drafted.tasks[0]).toMatchObject({ name: "write_draft", path: ["__pregel_pull", "write_draft"], result: { draft: "Draft about cats" } });
  });

  it("answers checkpoints without a null checkpoint_map", async () => {
    const threadId = await pausedThread();
    const state: Json = await t.client.threads.getState(threadId);
    expect(Object.keys(state.checkpoint).sort()).toEqual(["checkpoint_id", "checkpoint_ns", "thread_id"]);
    expect(Object.keys(state.parent_checkpoint).sort()).toEqual(["checkpoint_id", "checkpoint_ns", "thread_id"]);
    const update: Json = await t.client.threads.updateState(threadId, { values: { topic: "dogs" } });
    expect(Object.keys(update.checkpoint).sort()).toEqual(["checkpoint_id", "checkpoint_ns", "thread_id"]);
  });

  it("keeps a thread interrupted after an update that leaves the paused node to run, and resumes it", async () => {
    const threadId = await pausedThread();
    await t.client.threads.updateState(threadId, { values: { topic: "dogs" } });
    expect((await t.client.threads.get(threadId)).status).toBe("interrupted");
    expect((await t.client.threads.getState(threadId)).next).toEqual(["ask_human"]);
    const result: Json = await t.client.runs.wait(threadId, "interrupt", { command: { resume: "approved" } });
    expect(result.result).toBe("Draft about cats (approved)");
    expect((await t.client.threads.get(threadId)).status).toBe("idle");
  });

  it("leaves a thread idle after an update that ends it", async () => {
    const threadId = await pausedThread();
    await t.client.threads.updateState(threadId, { values: { decision: "skipped", result: "none" }, asNode: "finish" });
    expect((await t.client.threads.getState(threadId)).next).toEqual([]);
    expect((await t.client.threads.get(threadId)).status).toBe("idle");
  });
});

// the first schemas request type-checks the graph files: seconds on a busy machine
describe("stream details", () => {
  it("sends the legacy messages events also combined with other modes, one message id throughout", async () => {
    const { thread_id } = await t.client.threads.create();
    const res = await fetch(`${t.url}/threads/${thread_id}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        assistant_id: "agent",
        input: { messages: [{ role: "user", content: "a b c" }] },
        stream_mode: ["updates", "messages"],
      }),
    });
    const events = [...(await res.text()).matchAll(/^event: (.*)\ndata: (.*)\nid: (\d+)$/gm)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2]),
      id: m[3],
    }));
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => String(i))); // numbered from 0
    const names = events.map((e) => e.event);
    expect(names).toContain("updates");
    const metadata = events.filter((e) => e.event === "messages/metadata");
    expect(metadata).toHaveLength(1);
    const replyId = Object.keys(metadata[0].data)[0];
    const partials = events.filter((e) => e.event === "messages/partial");
    expect(partials.length).toBeGreaterThanOrEqual(3);
    expect(partials.map((e) => e.data[0].id)).toEqual(partials.map(() => replyId));
    expect(partials.at(-1)!.data[0].content).toBe("Echo: a b c");
    const completed = events.filter((e) => e.event === "messages/complete").flatMap((e) => e.data.map((m: Json) => m.id));
    expect(completed).toContain(replyId);
  });
});

describe("assistant schemas as declared", { timeout: 120_000 }, () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ configPath: path.join(REPO_ROOT, "test/fixtures/schemas/langgraph.json") });
  });
  afterAll(() => s.dispose());
  afterEach(() => expect(s.violations.splice(0)).toEqual([]));

  it("keeps zod registry metadata (langgraph_type) of a state JSON Schema cannot fully express", async () => {
    const schemas: Json = await s.client.assistants.getSchemas("zod_messages");
    expect(schemas.state_schema.properties.messages).toEqual({ langgraph_type: "messages" });
    expect(schemas.input_schema.properties.messages).toMatchObject({ langgraph_type: "messages" });
    // enums keep their declared order
    expect(schemas.state_schema.properties.mood.enum).toEqual(["zesty", "angry", "mellow"]);
  });

  it("derives config_schema and context_schema from a zod context and from an Annotation config", async () => {
    const zod: Json = await s.client.assistants.getSchemas("zod_messages");
    expect(zod.config_schema.properties.model).toEqual({ type: "string", enum: ["small", "large", "medium"], description: "Model size" });
    expect(zod.context_schema).toEqual(zod.config_schema);
    const annotation: Json = await s.client.assistants.getSchemas("annotation_config");
    expect(annotation.config_schema.properties).toEqual({
      // sorted, as the official servers list a union's literals
      tier: { type: "string", enum: ["basic", "enterprise", "premium"], description: "Which tier answers." },
      retries: { type: "number" },
    });
    expect(annotation.context_schema).toEqual(annotation.config_schema);
  });
});
