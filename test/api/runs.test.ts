import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { json, startTestServer, type TestServer } from "../support/server.js";
import { eventually, RUNS_CONFIG, webhookReceiver } from "../support/runs.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: RUNS_CONFIG, runs: { shutdownGraceMs: 200 } });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const newThread = async () => (await t.client.threads.create()).thread_id;
const post = (path: string, body: unknown) =>
  fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("thread runs", () => {
  it("waits for a run and records it on the thread", async () => {
    const threadId = await newThread();
    let created: { run_id: string; thread_id?: string } | undefined;
    const result = await t.client.runs.wait(threadId, "trivial", {
      input: { value: 1 },
      onRunCreated: (meta) => (created = meta),
    });
    expect(result).toEqual({ value: 4 });
    expect(created?.thread_id).toBe(threadId);

    const run = await t.client.runs.get(threadId, created!.run_id);
    expect(run).toMatchObject({ run_id: created!.run_id, thread_id: threadId, status: "success", multitask_strategy: "reject" });
    expect((run as unknown as { kwargs: unknown }).kwargs).toMatchObject({ input: { value: 1 }, stream_mode: ["values"], durability: "async" });
    // this server's fields: executions started, and why a failed run failed; storage's own stay inside
    expect(run).toMatchObject({ attempt: 1, error: null });
    for (const internal of ["owner", "handoffs", "not_before"]) expect(run).not.toHaveProperty(internal);

    const thread = await t.client.threads.get(threadId);
    expect(thread).toMatchObject({ status: "idle", values: { value: 4 }, interrupts: {}, error: null });
    expect(thread.metadata).toMatchObject({ graph_id: "trivial", assistant_id: run.assistant_id });
  });

  it("creates background runs, joins them, lists, gets and deletes them", async () => {
    const threadId = await newThread();
    const res = await post(`/threads/${threadId}/runs`, { assistant_id: "trivial", input: { value: 10 }, metadata: { tag: "a" } });
    expect(res.status).toBe(200);
    const run = await json(res);
    expect(res.headers.get("content-location")).toBe(`/threads/${threadId}/runs/${run.run_id}`);
    expect(run).toMatchObject({ status: "pending", metadata: { tag: "a" } });

    expect(await t.client.runs.join(threadId, run.run_id)).toEqual({ value: 13 });
    expect((await t.client.runs.get(threadId, run.run_id)).status).toBe("success");
    // joining a finished run answers at once with the thread's values
    expect(await t.client.runs.join(threadId, run.run_id)).toEqual({ value: 13 });

    const second = await t.client.runs.create(threadId, "trivial", { input: { value: 20 } });
    await t.client.runs.join(threadId, second.run_id);
    const all = await t.client.runs.list(threadId);
    expect(all.map((r) => r.run_id)).toEqual([second.run_id, run.run_id]);
    expect((await t.client.runs.list(threadId, { limit: 1, offset: 1 })).map((r) => r.run_id)).toEqual([run.run_id]);
    expect(await t.client.runs.list(threadId, { status: "running" })).toEqual([]);
    expect(await t.client.runs.list(threadId, { select: ["run_id", "status"], limit: 1 })).toEqual([{ run_id: second.run_id, status: "success" }]);

    await t.client.runs.delete(threadId, run.run_id);
    await expect(t.client.runs.get(threadId, run.run_id)).rejects.toMatchObject({ status: 404 });
    await expect(t.client.runs.get(await newThread(), second.run_id)).rejects.toMatchObject({ status: 404 });
    await expect(t.client.runs.list(crypto.randomUUID())).rejects.toMatchObject({ status: 404 });
  });

  it("refuses to delete an active run", async () => {
    const threadId = await newThread();
    const run = await t.client.runs.create(threadId, "slow", { input: { steps: 1, delay_ms: 300 } });
    const res = await fetch(`${t.url}/threads/${threadId}/runs/${run.run_id}`, { method: "DELETE" });
    expect(res.status).toBe(409);
    expect((await json(res)).detail).toMatch(/cancel it/);
    await t.client.runs.join(threadId, run.run_id);
  });

  it("reports an error raised inside the graph as a failed run, without harming the server", async () => {
    const threadId = await newThread();
    await expect(t.client.runs.wait(threadId, "failing", { input: { message: "kaboom" } })).rejects.toThrow("ExampleFailure: kaboom");
    const [run] = await t.client.runs.list(threadId);
    expect(run).toMatchObject({ status: "error", error: { error: "ExampleFailure", message: "kaboom" }, attempt: 1 });
    const result = await t.client.runs.join(threadId, run.run_id);
    expect(result).toEqual({ __error__: { error: "ExampleFailure", message: "kaboom" } });
    const noRaise = await t.client.runs.wait(threadId, "failing", { input: { message: "again" }, raiseError: false });
    expect(noRaise).toEqual({ __error__: { error: "ExampleFailure", message: "again" } });

    const thread = await t.client.threads.get(threadId);
    expect(thread).toMatchObject({ status: "error", error: { error: "ExampleFailure", message: "again" } });
    expect(thread.values).toMatchObject({ prepared: true });
    // the server carries on
    expect(await t.client.runs.wait(null, "trivial", { input: { value: 0 } })).toEqual({ value: 3 });
  });

  it("pauses at interrupt() and resumes with a command", async () => {
    const threadId = await newThread();
    const paused = await t.client.runs.wait(threadId, "interrupt", { input: { topic: "cats" } });
    expect(paused).toMatchObject({
      topic: "cats",
      draft: "Draft about cats",
      __interrupt__: [{ value: { question: "Approve the draft?", draft: "Draft about cats" } }],
    });
    const thread = await t.client.threads.get(threadId);
    expect(thread.status).toBe("interrupted");
    const [tasks] = Object.values(thread.interrupts);
    expect(tasks).toMatchObject([{ value: { question: "Approve the draft?" } }]);

    const done = await t.client.runs.wait(threadId, "interrupt", { command: { resume: "approved" } });
    expect(done).toEqual({ topic: "cats", draft: "Draft about cats", decision: "approved", result: "Draft about cats (approved)" });
    expect(await t.client.threads.get(threadId)).toMatchObject({ status: "idle", interrupts: {} });
  });

  it("honours strict_resume", async () => {
    const threadId = await newThread();
    const result = await t.client.runs.wait(threadId, "interrupt", {
      command: { resume: "x" },
      strictResume: true,
      raiseError: false,
    });
    expect(result).toMatchObject({ __error__: { error: "NoInterruptToResume" } });
  });

  it("stops at interrupt_before / interrupt_after and continues with a null input", async () => {
    const threadId = await newThread();
    expect(await t.client.runs.wait(threadId, "trivial", { input: { value: 0 }, interruptBefore: ["b"] })).toEqual({ value: 1 });
    expect((await t.client.threads.get(threadId)).status).toBe("interrupted");
    expect(await t.client.runs.wait(threadId, "trivial", { input: null, interruptAfter: "*" })).toEqual({ value: 2 });
    expect(await t.client.runs.wait(threadId, "trivial", { input: null })).toEqual({ value: 3 });
    expect((await t.client.threads.get(threadId)).status).toBe("idle");
  });

  it("steers with command update and goto", async () => {
    const threadId = await newThread();
    await t.client.runs.wait(threadId, "trivial", { input: { value: 0 }, interruptBefore: ["b"] });
    // the update replaces the value, then the pending nodes b and c run
    expect(await t.client.runs.wait(threadId, "trivial", { command: { update: { value: 100 } } })).toEqual({ value: 102 });
    // the graph has ended; goto runs c once more
    expect(await t.client.runs.wait(threadId, "trivial", { command: { goto: "c" } })).toEqual({ value: 103 });
    expect(await t.client.runs.wait(threadId, "trivial", { command: { goto: { node: "b", input: { value: 0 } } } })).toEqual({
      value: 2,
    });
  });

  it("merges the assistant's config and context with the run's and passes the run's ids", async () => {
    const assistant = await t.client.assistants.create({
      graphId: "inspect",
      config: { configurable: { from_assistant: 1, shared: "assistant" }, tags: ["a-tag"], recursion_limit: 9 },
      context: { ctx_assistant: true, ctx_shared: "assistant" },
    });
    const threadId = await newThread();
    let runId = "";
    const result = await t.client.runs.wait(threadId, assistant.assistant_id, {
      input: {},
      config: { configurable: { shared: "run", from_run: 2 }, tags: ["r-tag"], recursion_limit: 7 },
      context: { ctx_shared: "run" },
      metadata: { origin: "test" },
      onRunCreated: (meta) => (runId = meta.run_id),
    });
    const ids = { thread_id: threadId, run_id: runId, assistant_id: assistant.assistant_id, graph_id: "inspect" };
    expect((result as { seen: unknown }).seen).toEqual({
      configurable: { from_assistant: 1, shared: "run", from_run: 2, ...ids },
      context: { ctx_assistant: true, ctx_shared: "run" },
      metadata: expect.objectContaining({ origin: "test", run_attempt: 1, ...ids }),
      tags: expect.arrayContaining(["a-tag", "r-tag"]),
      recursion_limit: 7,
      has_store: true,
    });
  });

  it("enforces recursion_limit", async () => {
    const result = await t.client.runs.wait(null, "slow", {
      input: { steps: 5, delay_ms: 0 },
      config: { recursion_limit: 2 },
      raiseError: false,
    });
    expect(result).toMatchObject({ __error__: { error: "GraphRecursionError" } });
  });

  it("starts from an earlier checkpoint with checkpoint_id", async () => {
    const threadId = await newThread();
    let firstRun = "";
    await t.client.runs.wait(threadId, "inspect", { input: {}, onRunCreated: (m) => (firstRun = m.run_id) });
    await t.client.runs.wait(threadId, "inspect", { input: {} });
    const [afterFirst] = await t.server.services.storage.checkpoints.list({
      thread_id: threadId,
      checkpoint_ns: "",
      metadata: { run_id: firstRun },
      limit: 1,
    });
    const forked = await t.client.runs.wait(threadId, "inspect", { input: {}, checkpointId: afterFirst.checkpoint_id });
    expect((forked as { calls: number }).calls).toBe(2);
  });

  it("serializes messages the way the SDK reads them", async () => {
    const result = (await t.client.runs.wait(null, "agent", {
      input: { messages: [{ role: "user", content: "hello world" }] },
    })) as { messages: Array<{ type: string; content: string }> };
    expect(result.messages.map((m) => [m.type, m.content])).toEqual([
      ["human", "hello world"],
      ["ai", "Echo: hello world"],
    ]);
  });

  it("runs graphs with subgraphs", async () => {
    expect(await t.client.runs.wait(null, "subgraph", { input: { text: " hi " } })).toMatchObject({ text: "HI!", result: "HI! (child ran 2 steps)" });
  });

  it("creates the thread with if_not_exists=create and answers 404 otherwise", async () => {
    const threadId = crypto.randomUUID();
    await expect(t.client.runs.wait(threadId, "trivial", { input: { value: 1 } })).rejects.toMatchObject({ status: 404 });
    expect(await t.client.runs.wait(threadId, "trivial", { input: { value: 1 }, ifNotExists: "create" })).toEqual({ value: 4 });
    expect((await t.client.threads.get(threadId)).values).toEqual({ value: 4 });
  });

  it("answers 404 for an unknown assistant and 422 for requests it cannot honour", async () => {
    const threadId = await newThread();
    await expect(t.client.runs.create(threadId, crypto.randomUUID())).rejects.toMatchObject({ status: 404 });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ input: { value: 1 }, command: { resume: 1 } }, /either input or command/],
      [{ command: {} }, /resume, update, goto/],
      [{ feedback_keys: ["k"] }, /feedback/],
      [{ langsmith_tracer: { project_name: "p" } }, /LangSmith/],
      [{ webhook: "relative/hook" }, /neither an absolute URL nor a path on this server/],
      [{ webhook: "ftp://example.com/x" }, /http and https/],
      [{ durability: "sync", checkpoint_during: false }, /contradicts/],
      [{ checkpoint_id: "a", checkpoint: { checkpoint_id: "b" } }, /checkpoint_id/],
      [{ unknown_field: 1 }, /unknown_field/],
    ];
    for (const [extra, detail] of cases) {
      const res = await post(`/threads/${threadId}/runs`, { assistant_id: "trivial", ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(422);
      expect((await json(res)).detail).toMatch(detail);
    }
    expect(await t.client.runs.list(threadId)).toEqual([]);
  });

  it("delays the start by after_seconds", async () => {
    const threadId = await newThread();
    const started = Date.now();
    const run = await t.client.runs.create(threadId, "trivial", { input: { value: 1 }, afterSeconds: 1 });
    expect((await t.client.runs.get(threadId, run.run_id)).status).toBe("pending");
    expect((await t.client.threads.get(threadId)).status).toBe("busy");
    expect(await t.client.runs.join(threadId, run.run_id)).toEqual({ value: 4 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(980);
  });

  it("posts the finished run to its webhook, retrying failures, and ignores a dead webhook", async () => {
    const receiver = await webhookReceiver({ fail: 1 });
    try {
      const threadId = await newThread();
      const delivered = receiver.next();
      const run = await t.client.runs.create(threadId, "trivial", { input: { value: 2 }, webhook: receiver.url });
      const body = (await delivered) as Record<string, unknown>;
      expect(body).toMatchObject({ run_id: run.run_id, thread_id: threadId, status: "success", values: { value: 5 }, error: null });

      const failed = receiver.next();
      await t.client.runs.wait(threadId, "failing", { input: {}, webhook: receiver.url, raiseError: false });
      expect(await failed).toMatchObject({ status: "error", error: { error: "ExampleFailure" } });
    } finally {
      await receiver.close();
    }
    const threadId = await newThread();
    const result = await t.client.runs.wait(threadId, "trivial", { input: { value: 0 }, webhook: receiver.url });
    expect(result).toEqual({ value: 3 });
    expect((await t.client.runs.list(threadId))[0].status).toBe("success");
  });
});

describe("stateless runs", () => {
  it("waits on a temporary thread that is deleted afterwards", async () => {
    let created: { run_id: string; thread_id?: string } | undefined;
    expect(await t.client.runs.wait(null, "trivial", { input: { value: 2 }, onRunCreated: (m) => (created = m) })).toEqual({
      value: 5,
    });
    expect(created).toEqual({ run_id: expect.any(String), thread_id: undefined });
    const run = await t.client.runs.create(null, "trivial", { input: { value: 1 } });
    await eventually(
      () =>
        t.client.threads.get(run.thread_id).then(
          () => undefined,
          (e: { status?: number }) => e.status === 404 || undefined,
        ),
      10_000,
      "the temporary thread to be deleted",
    );
  });

  it("keeps the thread with on_completion=keep", async () => {
    const res = await post("/runs", { assistant_id: "trivial", input: { value: 3 }, on_completion: "keep" });
    const run = await json(res);
    expect(res.headers.get("content-location")).toBe(`/runs/${run.run_id}`);
    expect(await t.client.runs.join(run.thread_id, run.run_id)).toEqual({ value: 6 });
    expect((await t.client.threads.get(run.thread_id)).values).toEqual({ value: 6 });
  });

  it("creates batches, accepting the SDK's camelCase spellings", async () => {
    const runs = await t.client.runs.createBatch([
      { assistantId: "trivial", input: { value: 1 }, onCompletion: "keep" } as never,
      { assistantId: "trivial", input: { value: 2 }, on_completion: "keep", multitaskStrategy: "enqueue" } as never,
    ]);
    expect(runs).toHaveLength(2);
    expect(await Promise.all(runs.map((r) => t.client.runs.join(r.thread_id, r.run_id)))).toEqual([{ value: 4 }, { value: 5 }]);

    const conflict = await post("/runs/batch", [{ assistant_id: "trivial", assistantId: "agent" }]);
    expect(conflict.status).toBe(422);
    expect((await json(conflict)).detail).toMatch(/assistantId and assistant_id/);
    const missing = await post("/runs/batch", [{ assistant_id: "trivial" }, { assistant_id: crypto.randomUUID() }]);
    expect(missing.status).toBe(404);
  });
});
