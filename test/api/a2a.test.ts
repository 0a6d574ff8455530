import { A2AClient } from "@a2a-js/sdk/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RUNS_CONFIG } from "../support/runs.js";
import { json, startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: RUNS_CONFIG });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

let nextId = 0;
const call = async (assistant: string, method: string, params?: unknown, id: string | number = ++nextId) =>
  fetch(`${t.url}/a2a/${assistant}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) }),
  });

/** The result of a call that must succeed. */
const result = async (assistant: string, method: string, params?: unknown): Promise<Json> => {
  const res = await call(assistant, method, params);
  expect(res.status).toBe(200);
  const body = await json(res);
  expect(body.error, JSON.stringify(body.error)).toBeUndefined();
  return body.result;
};

/** The error of a call that must fail with a 200 JSON-RPC error. */
const rpcError = async (assistant: string, method: string, params?: unknown): Promise<Json> => {
  const res = await call(assistant, method, params);
  expect(res.status).toBe(200);
  const body = await json(res);
  expect(body.result).toBeUndefined();
  return body.error;
};

const sseData = (body: string): Json[] =>
  body
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)));

const text = (value: string, extra: Record<string, unknown> = {}) => ({
  message: { role: "user", messageId: crypto.randomUUID(), parts: [{ kind: "text", text: value }], ...extra },
});
const data = (value: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  message: { role: "user", messageId: crypto.randomUUID(), parts: [{ kind: "data", data: value }], ...extra },
});

describe("A2A agent card", () => {
  it("describes an assistant by graph id or assistant id", async () => {
    const res = await fetch(`${t.url}/.well-known/agent-card.json?assistant_id=agent`);
    expect(res.status).toBe(200);
    const card = await json(res);
    const agent = (await t.client.assistants.search({ graphId: "agent", metadata: { created_by: "system" } }))[0];
    expect(card).toMatchObject({
      protocolVersion: "0.3.0",
      name: "agent",
      url: `${t.url}/a2a/${agent.assistant_id}`,
      preferredTransport: "JSONRPC",
      capabilities: { streaming: true, pushNotifications: false },
      defaultInputModes: ["text/plain", "application/json"],
      skills: [{ id: agent.assistant_id, name: "agent", tags: ["agent"] }],
    });
    const byId = await json(await fetch(`${t.url}/.well-known/agent-card.json?assistant_id=${agent.assistant_id}`));
    expect(byId).toEqual(card);
    // the card's URL is the working endpoint
    const task = await result(card.url.slice(t.url.length + "/a2a/".length), "message/send", text("via card"));
    expect(task.status.state).toBe("completed");
  });

  it("is a 404 for an unknown assistant and a 422 without one", async () => {
    expect((await fetch(`${t.url}/.well-known/agent-card.json?assistant_id=${crypto.randomUUID()}`)).status).toBe(404);
    expect((await fetch(`${t.url}/.well-known/agent-card.json`)).status).toBe(422);
  });
});

describe("A2A message/send", () => {
  it("runs a chat assistant on a thread per context and answers with the completed task", async () => {
    const first = await result("agent", "message/send", text("hello world", { kind: "message" }));
    expect(first).toMatchObject({
      kind: "task",
      status: { state: "completed" },
      artifacts: [{ artifactId: first.id, name: "result", parts: [{ kind: "text", text: "Echo: hello world" }] }],
    });
    expect(first.contextId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.history).toEqual([
      expect.objectContaining({
        role: "user",
        kind: "message",
        contextId: first.contextId,
        taskId: first.id,
        parts: [{ kind: "text", text: "hello world" }],
      }),
    ]);

    const second = await result("agent", "message/send", text("again", { contextId: first.contextId }));
    expect(second.id).not.toBe(first.id);
    expect(second.contextId).toBe(first.contextId);
    expect(second.artifacts[0].parts).toEqual([{ kind: "text", text: "Echo: again" }]);

    // the context is a thread holding the whole conversation, and the task a run of it
    const state = await t.client.threads.getState<{ messages: Array<{ content: string; id: string }> }>(first.contextId);
    expect(state.values.messages.map((m) => m.content)).toEqual(["hello world", "Echo: hello world", "again", "Echo: again"]);
    const run = await t.client.runs.get(first.contextId, second.id);
    expect(run.metadata).toMatchObject({ a2a_message: { parts: [{ kind: "text", text: "again" }] } });
    expect(state.values.messages[2].id).toBe((run.metadata as Json).a2a_message.messageId);
  });

  it("adds a message of role agent (or assistant) as an AI message", async () => {
    const task = await result("agent", "message/send", text("hello", { role: "agent" }));
    const state = await t.client.threads.getState<{ messages: Array<{ type: string; content: string }> }>(task.contextId);
    expect(state.values.messages.map((m) => [m.type, m.content])).toEqual([
      ["ai", "hello"],
      ["ai", "Echo: "],
    ]);
    const synonym = await result("agent", "message/send", text("hi", { role: "assistant", contextId: task.contextId }));
    expect(synonym.status.state).toBe("completed");
    expect((await t.client.threads.getState<{ messages: Array<{ type: string }> }>(task.contextId)).values.messages[2].type).toBe("ai");
  });

  it("continues a context given as thread.threadId, with the task's metadata", async () => {
    const thread = await t.client.threads.create();
    const task = await result("agent", "message/send", { ...text("hi"), thread: { threadId: thread.thread_id }, metadata: { origin: "test" } });
    expect(task).toMatchObject({ contextId: thread.thread_id, metadata: { origin: "test" }, status: { state: "completed" } });
    const mismatch = await rpcError("agent", "message/send", {
      ...text("hi", { contextId: crypto.randomUUID() }),
      thread: { threadId: thread.thread_id },
    });
    expect(mismatch).toMatchObject({ code: -32602, message: expect.stringMatching(/threadId/) });
    const notUuid = await rpcError("agent", "message/send", { ...text("hi"), thread: { threadId: "abc" } });
    expect(notUuid).toMatchObject({ code: -32602, message: expect.stringMatching(/threadId/) });
  });

  it("merges data parts into the input and returns the other state values as data", async () => {
    const task = await result("trivial", "message/send", data({ value: 1 }));
    expect(task.artifacts[0].parts).toEqual([{ kind: "data", data: { value: 4 } }]);
    const refused = await rpcError("trivial", "message/send", text("hello"));
    expect(refused).toMatchObject({ code: -32602, message: expect.stringMatching(/no 'messages' state key/) });
  });

  it("keeps only the accepted output modes, and refuses when none is produced", async () => {
    const textOnly = await result("agent", "message/send", { ...text("x"), configuration: { acceptedOutputModes: ["text/plain"] } });
    expect(textOnly.artifacts[0].parts).toEqual([{ kind: "text", text: "Echo: x" }]);
    const dataOnly = await result("agent", "message/send", { ...text("x"), configuration: { acceptedOutputModes: ["application/*"] } });
    expect(dataOnly.artifacts).toBeUndefined();
    const none = await rpcError("agent", "message/send", { ...text("x"), configuration: { acceptedOutputModes: ["image/png"] } });
    expect(none).toMatchObject({ code: -32005, message: expect.stringMatching(/image\/png/) });
  });

  it("reports a failing graph as a failed task", async () => {
    const task = await result("failing", "message/send", data({ message: "kaboom" }));
    expect(task.status).toMatchObject({
      state: "failed",
      message: { role: "agent", parts: [{ kind: "text", text: expect.stringContaining("ExampleFailure: kaboom") }] },
    });
    expect(task.artifacts).toBeUndefined();
  });

  it("pauses at an interrupt as input-required, and a message to the task answers it", async () => {
    const asked = await result("interrupt", "message/send", data({ topic: "cats" }));
    expect(asked.status).toMatchObject({
      state: "input-required",
      message: { role: "agent", taskId: asked.id, parts: [{ kind: "data", data: { question: "Approve the draft?", draft: "Draft about cats" } }] },
    });

    const done = await result("interrupt", "message/send", text("approved", { taskId: asked.id, contextId: asked.contextId }));
    expect(done.id).toBe(asked.id);
    expect(done.status.state).toBe("completed");
    expect(done.artifacts[0].parts).toEqual([
      { kind: "data", data: { topic: "cats", draft: "Draft about cats", decision: "approved", result: "Draft about cats (approved)" } },
    ]);
    expect(done.history.map((m: Json) => m.parts[0])).toEqual([
      { kind: "data", data: { topic: "cats" } },
      { kind: "text", text: "approved" },
    ]);
    expect(await result("interrupt", "tasks/get", { id: asked.id, historyLength: 1 })).toMatchObject({
      id: asked.id,
      status: { state: "completed" },
      history: [{ parts: [{ kind: "text", text: "approved" }] }],
    });

    // a message naming a finished task starts a new task in its context
    const next = await result("interrupt", "message/send", data({ topic: "dogs" }, { taskId: asked.id }));
    expect(next).toMatchObject({ contextId: asked.contextId, status: { state: "input-required" } });
    expect(next.id).not.toBe(asked.id);
    // a later task of the context leaves an unanswered interrupt behind
    const later = await result("interrupt", "message/send", data({ topic: "birds" }, { contextId: asked.contextId }));
    expect((await result("interrupt", "tasks/get", { id: next.id })).status.state).toBe("canceled");
    expect((await result("interrupt", "tasks/get", { taskId: later.id })).status.state).toBe("input-required");

    const elsewhere = await rpcError("interrupt", "message/send", text("x", { taskId: asked.id, contextId: crypto.randomUUID() }));
    expect(elsewhere).toMatchObject({ code: -32602, message: expect.stringMatching(/belongs to context/) });
  });

  it("answers at once when not blocking; tasks/get follows the task and tasks/cancel stops it", async () => {
    const submitted = await result("slow", "message/send", {
      ...data({ steps: 50, delay_ms: 100 }),
      configuration: { blocking: false, historyLength: 0 },
    });
    expect(submitted.status.state).toBe("submitted");
    expect(submitted.history).toEqual([]);
    const canceled = await result("slow", "tasks/cancel", { id: submitted.id });
    expect(canceled).toMatchObject({
      id: submitted.id,
      status: { state: "canceled", message: { parts: [{ text: expect.stringMatching(/A2A client/) }] } },
    });
    expect((await result("slow", "tasks/get", { id: submitted.id })).status.state).toBe("canceled");
    const again = await rpcError("slow", "tasks/cancel", { id: submitted.id });
    expect(again).toMatchObject({ code: -32002, message: expect.stringMatching(/canceled/) });
  });
});

describe("A2A message/stream", () => {
  it("streams the task, its start, its artifact and its final status", async () => {
    const res = await call("agent", "message/stream", text("stream me"), "s1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = sseData(await res.text());
    expect(events.every((e) => e.jsonrpc === "2.0" && e.id === "s1")).toBe(true);
    const results = events.map((e) => e.result);
    expect(results.map((r) => r.kind)).toEqual(["task", "status-update", "artifact-update", "status-update"]);
    const [task, working, artifact, final] = results;
    expect(task.status.state).toBe("submitted");
    expect(working).toMatchObject({ taskId: task.id, contextId: task.contextId, status: { state: "working" }, final: false });
    expect(artifact).toMatchObject({ taskId: task.id, artifact: { parts: [{ kind: "text", text: "Echo: stream me" }] }, lastChunk: true });
    expect(final).toMatchObject({ taskId: task.id, status: { state: "completed" }, final: true });
  });

  it("answers a refused stream with one error event", async () => {
    const res = await call("trivial", "message/stream", text("no messages here"), "s2");
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(sseData(await res.text())).toEqual([
      { jsonrpc: "2.0", id: "s2", error: { code: -32602, message: expect.stringMatching(/no 'messages' state key/) } },
    ]);
  });
});

describe("A2A errors", () => {
  it("reports malformed requests with the JSON-RPC error codes", async () => {
    const post = (body: string, contentType = "application/json") =>
      fetch(`${t.url}/a2a/agent`, { method: "POST", headers: { "content-type": contentType }, body });
    const parse = await post("{oops");
    expect(parse.status).toBe(400);
    expect(await json(parse)).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
    const notJson = await post("hi", "text/plain");
    expect(notJson.status).toBe(400);
    expect((await json(notJson)).error.code).toBe(-32700);
    for (const bad of ["[]", '{"jsonrpc": "2.0", "method": "tasks/get"}', '{"jsonrpc": "2.0", "id": 1}', '{"id": 1, "method": "tasks/get"}']) {
      const res = await post(bad);
      expect(res.status, bad).toBe(400);
      expect((await json(res)).error.code, bad).toBe(-32600);
    }
  });

  it("refuses unknown methods, invalid params and unknown tasks", async () => {
    expect(await rpcError("agent", "tasks/resubscribe", { id: "x" })).toMatchObject({ code: -32601, message: expect.stringMatching(/resubscribe/) });
    expect(await rpcError("agent", "message/send", {})).toMatchObject({ code: -32602, message: expect.stringMatching(/params\.message/) });
    expect(await rpcError("agent", "message/send", ["x"])).toMatchObject({ code: -32602 });
    const badPart = await rpcError("agent", "message/send", { message: { role: "user", messageId: "m", parts: [{ kind: "file", file: {} }] } });
    expect(badPart).toMatchObject({ code: -32602, message: expect.stringMatching(/params\.message\.parts\.0/) });
    const badContext = await rpcError("agent", "message/send", text("x", { contextId: "not-a-uuid" }));
    expect(badContext).toMatchObject({ code: -32602, message: expect.stringMatching(/contextId/) });
    const push = await rpcError("agent", "message/send", { ...text("x"), configuration: { pushNotificationConfig: { url: "http://x" } } });
    expect(push.code).toBe(-32003);
    expect(await rpcError("agent", "tasks/get", {})).toMatchObject({ code: -32602, message: expect.stringMatching(/params\.id/) });
    expect(await rpcError("agent", "tasks/get", { id: "a", taskId: "b" })).toMatchObject({ code: -32602 });
    expect(await rpcError("agent", "tasks/get", { id: crypto.randomUUID() })).toMatchObject({ code: -32001 });
    expect(await rpcError("agent", "message/send", text("x", { taskId: "nope" }))).toMatchObject({ code: -32001 });
    // a task of another assistant is not this agent's
    const trivialTask = await result("trivial", "message/send", data({ value: 1 }));
    expect(await rpcError("agent", "tasks/get", { id: trivialTask.id })).toMatchObject({ code: -32001 });
    // a run not started over A2A is no task
    const thread = await t.client.threads.create();
    const plain = await t.client.runs.create(thread.thread_id, "agent", { input: { messages: [] } });
    await t.client.runs.join(thread.thread_id, plain.run_id);
    expect(await rpcError("agent", "tasks/get", { id: plain.run_id })).toMatchObject({ code: -32001 });
  });

  it("answers an unknown assistant with a 404", async () => {
    const res = await call(crypto.randomUUID(), "tasks/get", { id: "x" }, 7);
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({
      jsonrpc: "2.0",
      id: 7,
      error: { code: -32000, message: expect.stringMatching(/^No assistant found for/) },
    });
  });
});

describe("A2A through the official client (@a2a-js/sdk, protocol 0.3)", () => {
  const user = (value: string, extra: Record<string, unknown> = {}) => ({
    kind: "message" as const,
    role: "user" as const,
    messageId: crypto.randomUUID(),
    parts: [{ kind: "text" as const, text: value }],
    ...extra,
  });

  it("finds the agent from its card, sends, streams, gets and cancels", async () => {
    const client = await A2AClient.fromCardUrl(`${t.url}/.well-known/agent-card.json?assistant_id=agent`);
    const sent = await client.sendMessage({ message: user("interop") });
    if ("error" in sent) throw new Error(JSON.stringify(sent.error));
    const task = sent.result as Json;
    expect(task).toMatchObject({ kind: "task", status: { state: "completed" } });
    expect(task.artifacts[0].parts).toEqual([{ kind: "text", text: "Echo: interop" }]);

    const kinds: string[] = [];
    let final: Json;
    for await (const event of client.sendMessageStream({ message: user("more", { contextId: task.contextId }) })) {
      kinds.push(event.kind);
      final = event;
    }
    expect(kinds).toEqual(["task", "status-update", "artifact-update", "status-update"]);
    expect(final).toMatchObject({ final: true, status: { state: "completed" } });

    const got = await client.getTask({ id: task.id });
    if ("error" in got) throw new Error(JSON.stringify(got.error));
    expect(got.result).toMatchObject({ id: task.id, status: { state: "completed" } });

    const notCancelable = await client.cancelTask({ id: task.id });
    expect("error" in notCancelable && notCancelable.error.code).toBe(-32002);
    const missing = await client.getTask({ id: crypto.randomUUID() });
    expect("error" in missing && missing.error.code).toBe(-32001);
  });

  it("reports a refused stream as an error of the stream", async () => {
    const client = await A2AClient.fromCardUrl(`${t.url}/.well-known/agent-card.json?assistant_id=trivial`);
    const consume = async () => {
      for await (const _event of client.sendMessageStream({ message: user("no messages key") })) void _event;
    };
    await expect(consume()).rejects.toThrow(/-32602/);
  });
});
