import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

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
    expect(state.tasks).toEqual([
      expect.objectContaining({ name: "ask_human", path: ["__pregel_pull", "ask_human"], result: null }),
    ]);
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
