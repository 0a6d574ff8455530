import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { startPrismProxy, type PrismProxy } from "../support/prism.js";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

/** The example graphs plus one with generative-UI components. */
const CONFIG = path.join(REPO_ROOT, "test/fixtures/conformance/langgraph.json");

/**
 * SDK scenarios driven through `prism proxy --errors` in front of the real server: Prism checks
 * every request and response against our contract. A violation either turns the response into a
 * Prism error (the SDK call fails) or is reported in the `sl-violations` header, which is collected.
 * Every tag of the contract is covered, error answers included; the server's own contract check
 * (`t.violations`) must stay empty too.
 */
let t: TestServer;
let prism: PrismProxy;
let client: Client;
const violations: string[] = [];

/** A request through Prism; a violation Prism reports in `sl-violations` is collected. */
async function call(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(`${prism.url}${path}`, init);
  const reported = res.headers.get("sl-violations");
  if (reported) violations.push(`${init?.method ?? "GET"} ${path}: ${reported}`);
  return res;
}

beforeAll(async () => {
  t = await startTestServer({ configPath: CONFIG });
  prism = await startPrismProxy(t.url);
  client = new Client({
    apiUrl: prism.url,
    callerOptions: {
      maxRetries: 0,
      fetch: async (...args: Parameters<typeof fetch>) => {
        const res = await fetch(...args);
        const reported = res.headers.get("sl-violations");
        if (reported) violations.push(`${args[1]?.method ?? "GET"} ${String(args[0])}: ${reported}`);
        return res;
      },
    },
  });
});
afterEach(() => expect(t.violations.splice(0)).toEqual([]));
afterAll(async () => {
  await prism?.stop();
  await t?.dispose();
});

// every request crosses Prism, which is slow on a busy machine
describe("conformance through the Prism validation proxy", { timeout: 120_000 }, () => {
  it("assistants", async () => {
    const assistant = await client.assistants.create({ graphId: "agent", name: "conf", metadata: { k: "v" } });
    await client.assistants.get(assistant.assistant_id);
    await client.assistants.get("agent");
    await client.assistants.update(assistant.assistant_id, { name: "conf2" });
    await client.assistants.getVersions(assistant.assistant_id);
    await client.assistants.setLatest(assistant.assistant_id, 1);
    await client.assistants.search({ metadata: { k: "v" }, includePagination: true, limit: 1 });
    await client.assistants.search({ select: ["assistant_id", "name"] });
    await client.assistants.count({ graphId: "agent" });
    await client.assistants.delete(assistant.assistant_id);
    await expect(client.assistants.get(assistant.assistant_id)).rejects.toMatchObject({ status: 404 });
    expect(violations).toEqual([]);
  });

  it("threads", async () => {
    const thread = await client.threads.create({ metadata: { k: "v" } });
    await client.threads.get(thread.thread_id);
    await client.threads.update(thread.thread_id, { metadata: { more: 1 } });
    await client.threads.search({ metadata: { k: "v" }, sortBy: "updated_at", sortOrder: "asc" });
    await client.threads.search({ select: ["thread_id"] });
    await client.threads.count({ status: "idle" });
    const copy = await client.threads.copy(thread.thread_id);
    await client.threads.prune([copy.thread_id]);
    await client.threads.delete(thread.thread_id);
    await expect(client.threads.get(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    expect(violations).toEqual([]);
  });

  it("system", async () => {
    for (const path of ["/ok", "/ok?check_db=1", "/info", "/metrics", "/metrics?format=json", "/processes", "/openapi.json"]) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
    }
    expect(violations).toEqual([]);
  });

  it("assistant introspection", async () => {
    await client.assistants.getGraph("agent");
    await client.assistants.getGraph("subgraph", { xray: true });
    await client.assistants.getSchemas("agent");
    await client.assistants.getSubgraphs("subgraph");
    await client.assistants.getSubgraphs("subgraph", { recurse: true });
    expect(violations).toEqual([]);
  });

  it("generative UI", async () => {
    const snippet = await call("/ui/weather", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/html" },
      body: JSON.stringify({ name: "weather" }),
    });
    expect(snippet.status).toBe(200);
    expect(await snippet.text()).toContain("entrypoint.js");
    expect((await call("/ui/weather/entrypoint.js")).status).toBe(200);
    expect((await call("/ui/weather/entrypoint.css")).status).toBe(200);
    expect((await call("/ui/weather/missing.js")).status).toBe(404);
    expect((await call("/ui/agent", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"x"}' })).status).toBe(404);
    expect(violations).toEqual([]);
  });

  it("thread runs", async () => {
    const thread = await client.threads.create();
    const input = { messages: [{ role: "user", content: "hi" }] };
    const run = await client.runs.create(thread.thread_id, "agent", { input, metadata: { k: "v" } });
    await client.runs.join(thread.thread_id, run.run_id);
    await client.runs.get(thread.thread_id, run.run_id);
    await client.runs.list(thread.thread_id, { limit: 5, status: "success" });
    await client.runs.wait(thread.thread_id, "agent", { input });
    // a run held by an interrupt, resumed with a Command
    const paused = await client.threads.create();
    await client.runs.wait(paused.thread_id, "interrupt", { input: { topic: "cats" } });
    await client.runs.wait(paused.thread_id, "interrupt", { command: { resume: "approved" } });
    // a long run, cancelled, then deleted
    const slow = await client.runs.create(thread.thread_id, "slow", { input: { steps: 50, delay_ms: 100 } });
    await client.runs.cancel(thread.thread_id, slow.run_id, true, "interrupt");
    await client.runs.delete(thread.thread_id, slow.run_id);
    // a busy thread refuses a second run (409), a missing run is a 404
    const busy = await client.runs.create(thread.thread_id, "slow", { input: { steps: 50, delay_ms: 100 } });
    await expect(client.runs.create(thread.thread_id, "agent", { input })).rejects.toMatchObject({ status: 409 });
    await client.runs.cancel(thread.thread_id, busy.run_id, true, "rollback");
    await expect(client.runs.get(thread.thread_id, crypto.randomUUID())).rejects.toMatchObject({ status: 404 });
    expect(violations).toEqual([]);
  });

  it("stateless and batch runs", async () => {
    await client.runs.wait(null, "agent", { input: { messages: [{ role: "user", content: "hi" }] } });
    const runs = await client.runs.createBatch([
      { assistantId: "trivial", input: {} },
      { assistantId: "trivial", input: {} },
    ]);
    expect(runs).toHaveLength(2);
    await expect(client.runs.wait(null, "no-such-graph", { input: {} })).rejects.toMatchObject({ status: 404 });
    expect(violations).toEqual([]);
  });

  it("thread state", async () => {
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, "agent", { input: { messages: [{ role: "user", content: "hi" }] } });
    const state = await client.threads.getState(thread.thread_id);
    await client.threads.getState(thread.thread_id, state.checkpoint.checkpoint_id!);
    await client.threads.getState(thread.thread_id, undefined, { subgraphs: true });
    await client.threads.getHistory(thread.thread_id, { limit: 2 });
    await client.threads.updateState(thread.thread_id, { values: { messages: [{ role: "user", content: "more" }] } });
    await client.threads.patchState(thread.thread_id, { note: "patched" });
    expect(violations).toEqual([]);
  });

  it("streams", async () => {
    const thread = await client.threads.create();
    const input = { messages: [{ role: "user", content: "hello there" }] };
    const modes = ["values", "updates", "messages", "messages-tuple", "events", "debug", "custom", "tasks", "checkpoints"] as const;
    const events: string[] = [];
    for await (const part of client.runs.stream(thread.thread_id, "agent", { input, streamMode: [...modes] })) events.push(part.event);
    expect(events).toContain("messages/complete");
    for await (const part of client.runs.stream(null, "subgraph", { input: {}, streamMode: ["updates"], streamSubgraphs: true })) {
      events.push(part.event);
    }
    const run = await client.runs.create(thread.thread_id, "agent", { input, streamResumable: true });
    for await (const part of client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" })) events.push(part.event);
    expect(events).toContain("metadata");
    expect(violations).toEqual([]);
  });

  it("crons", async () => {
    const thread = await client.threads.create();
    const cron = await client.crons.create("trivial", { schedule: "0 0 1 1 *", input: {}, metadata: { k: "v" } });
    const threadCron = await client.crons.createForThread(thread.thread_id, "trivial", { schedule: "*/5 * * * *", input: {} });
    await client.crons.update(cron.cron_id, { schedule: "0 12 * * *" });
    await client.crons.search({ assistantId: "trivial", limit: 10, sortBy: "created_at", sortOrder: "desc" });
    await client.crons.search({ threadId: thread.thread_id, select: ["cron_id", "schedule"] });
    await client.crons.count({ assistantId: "trivial" });
    await client.crons.delete(threadCron.cron_id);
    await client.crons.delete(cron.cron_id);
    await expect(client.crons.update(cron.cron_id, { schedule: "* * * * *" })).rejects.toMatchObject({ status: 404 });
    await expect(client.crons.create("trivial", { schedule: "not a schedule", input: {} })).rejects.toMatchObject({ status: 422 });
    expect(violations).toEqual([]);
  });

  it("store", async () => {
    await client.store.putItem(["conf", "a"], "k1", { v: 1 });
    await client.store.putItem(["conf", "b"], "k2", { v: 2 }, { ttl: 5 });
    await client.store.getItem(["conf", "a"], "k1");
    await client.store.getItem(["conf", "a"], "missing");
    await client.store.searchItems(["conf"], { filter: { v: 1 }, limit: 5, offset: 0 });
    await client.store.listNamespaces({ prefix: ["conf"], maxDepth: 2 });
    await client.store.deleteItem(["conf", "a"], "k1");
    expect(violations).toEqual([]);
  });

  it("MCP", async () => {
    const rpc = (id: number | undefined, method: string, params?: unknown) =>
      call("/mcp/", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", ...(id === undefined ? {} : { id }), method, ...(params ? { params } : {}) }),
      });
    const init = await rpc(1, "initialize", {
      protocolVersion: "2025-03-26",
      capabilities: {},
      clientInfo: { name: "conformance", version: "1" },
    });
    expect(init.status).toBe(200);
    expect((await rpc(undefined, "notifications/initialized")).status).toBe(202);
    const tools = await rpc(2, "tools/list");
    expect(((await tools.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    const called = await rpc(3, "tools/call", { name: "trivial", arguments: {} });
    expect(((await called.json()) as { result?: unknown }).result).toBeDefined();
    expect((await rpc(4, "no/such/method")).status).toBe(200); // a JSON-RPC error, in a 200
    expect((await call("/mcp/")).status).toBe(405);
    expect(violations).toEqual([]);
  });

  it("A2A", async () => {
    const card = await call("/.well-known/agent-card.json?assistant_id=agent");
    expect(card.status).toBe(200);
    const send = async (method: string, params: unknown) => {
      const res = await call("/a2a/agent", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { result?: { id: string }; error?: unknown };
    };
    const message = { role: "user", messageId: crypto.randomUUID(), parts: [{ kind: "text", text: "hi" }] };
    const task = await send("message/send", { message });
    expect(task.error).toBeUndefined();
    await send("tasks/get", { id: task.result!.id });
    expect((await send("tasks/cancel", { id: task.result!.id })).error).toBeDefined();
    expect((await call(`/.well-known/agent-card.json?assistant_id=${crypto.randomUUID()}`)).status).toBe(404);
    expect(violations).toEqual([]);
  });

  it("error answers", async () => {
    const posted = (path: string, body: string) => call(path, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect((await posted("/threads", "{not json")).status).toBe(400);
    expect((await call(`/threads/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await call(`/assistants/${crypto.randomUUID()}/graph`)).status).toBe(404);
    const thread = await client.threads.create();
    await expect(client.threads.create({ threadId: thread.thread_id, ifExists: "raise" })).rejects.toMatchObject({ status: 409 });
    expect(violations).toEqual([]);
  });

  it("fails a response that breaks the contract", async () => {
    // a stand-in server whose /ok answer has the wrong type proves the proxy checks responses
    const liar = createServer((_req, res) => res.setHeader("content-type", "application/json").end('{"ok":"yes"}'));
    await new Promise<void>((resolve) => liar.listen(0, "127.0.0.1", resolve));
    const liarProxy = await startPrismProxy(`http://127.0.0.1:${(liar.address() as AddressInfo).port}`);
    try {
      const res = await fetch(`${liarProxy.url}/ok`);
      expect(res.status).toBe(500);
      expect(res.headers.get("sl-violations")).toMatch(/must be boolean/);
    } finally {
      await liarProxy.stop();
      liar.close();
    }
  });

  it("reports a request that breaks the contract", async () => {
    // proves the proxy really checks: a wrongly typed field is refused before it reaches the server
    const res = await fetch(`${prism.url}/threads/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ limit: "lots" }),
    });
    // Prism's own problem document (our server answers {"detail": ...}): the proxy refused it
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = await json(res);
    expect(problem.type).toMatch(/stoplight\.io\/prism\/errors#UNPROCESSABLE_ENTITY/);
    expect(problem.validation).toEqual([expect.objectContaining({ location: ["body", "limit"], code: "type" })]);
  });
});

describe("auth errors through the Prism validation proxy", { timeout: 120_000 }, () => {
  let secured: TestServer;
  let securedProxy: PrismProxy;
  const AUTH_CONFIG = path.join(REPO_ROOT, "test/fixtures/auth/langgraph.json");
  beforeAll(async () => {
    secured = await startTestServer({ configPath: AUTH_CONFIG });
    securedProxy = await startPrismProxy(secured.url);
  });
  afterAll(async () => {
    await securedProxy?.stop();
    await secured?.dispose();
  });
  afterEach(() => expect(secured.violations.splice(0)).toEqual([]));

  /** A request as `user` (none: no credentials) through Prism; its verdict in `sl-violations` is collected. */
  async function as(user: string | null, path: string, init: RequestInit = {}) {
    const headers = { ...(user ? { authorization: `Bearer ${user}` } : {}), ...(init.body ? { "content-type": "application/json" } : {}) };
    const res = await fetch(`${securedProxy.url}${path}`, { ...init, headers });
    const reported = res.headers.get("sl-violations");
    if (reported) violations.push(`${init.method ?? "GET"} ${path} as ${user}: ${reported}`);
    return res;
  }

  it("answers 401 without or with refused credentials, on every tag", async () => {
    const routes: Array<[string, RequestInit?]> = [
      ["/assistants/search", { method: "POST", body: "{}" }],
      ["/threads", { method: "POST", body: "{}" }],
      ["/runs/crons/search", { method: "POST", body: "{}" }],
      ["/store/namespaces", { method: "POST", body: "{}" }],
      ["/ui/trivial", { method: "POST", body: '{"name":"x"}' }],
    ];
    for (const [path, init] of routes) {
      const missing = await as(null, path, init);
      expect(missing.status, path).toBe(401);
      expect(await json(missing), path).toEqual({ detail: "Missing token" });
      expect((await as("mallory", path, init)).status, path).toBe(401);
    }
    expect((await as(null, "/ok")).status).toBe(200); // public
    expect(violations).toEqual([]);
  });

  it("hides another user's resources as missing (404)", async () => {
    const created = await as("alice", "/threads", { method: "POST", body: "{}" });
    const { thread_id } = (await json(created)) as { thread_id: string };
    expect((await as("bob", `/threads/${thread_id}`)).status).toBe(404);
    expect((await as("bob", `/threads/${thread_id}/state`)).status).toBe(404);
    expect((await as("alice", `/threads/${thread_id}`)).status).toBe(200);
    expect(violations).toEqual([]);
  });
});
