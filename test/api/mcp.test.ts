import { Client as McpClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, RUNS_CONFIG } from "../support/runs.js";
import { json, SCHEMA_DERIVING_TIMEOUT_MS, startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: RUNS_CONFIG });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const JSON_AND_SSE = "application/json, text/event-stream";

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/mcp/`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: JSON_AND_SSE, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const rpc = (id: number | string, method: string, params?: unknown) => ({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });

async function connect(): Promise<McpClient> {
  const client = new McpClient({ name: "lgts-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${t.url}/mcp/`)));
  return client;
}

describe("MCP through the official client", { timeout: SCHEMA_DERIVING_TIMEOUT_MS }, () => {
  it("initializes, lists every assistant as a tool, and calls one", async () => {
    const client = await connect();
    try {
      expect(client.getServerVersion()).toMatchObject({ name: "langgraph-ts-server" });
      expect(client.getServerCapabilities()).toMatchObject({ tools: {} });

      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name).sort();
      expect(names).toEqual(["agent", "failing", "inspect", "interrupt", "slow", "stray", "subgraph", "trivial"]);
      const trivial = tools.find((tool) => tool.name === "trivial")!;
      expect(trivial.inputSchema).toMatchObject({ type: "object", properties: { value: { type: "number" } } });
      const agent = tools.find((tool) => tool.name === "agent")!;
      expect(agent.description).toBe("Runs the LangGraph graph 'agent'.");
      expect(agent.inputSchema).toMatchObject({ type: "object", properties: { messages: {} } });

      const result = await client.callTool({ name: "trivial", arguments: { value: 1 } });
      expect(result.isError).toBe(false);
      expect(result.content).toEqual([{ type: "text", text: JSON.stringify({ value: 4 }) }]);

      const chat = await client.callTool({ name: "agent", arguments: { messages: [{ role: "user", content: "hello there" }] } });
      const values = JSON.parse((chat.content as Array<{ text: string }>)[0].text);
      expect(values.messages.map((m: { content: string }) => m.content)).toEqual(["hello there", "Echo: hello there"]);
    } finally {
      await client.close();
    }
  });

  it("reports a failing graph as a tool error and an unknown tool as a protocol error", async () => {
    const client = await connect();
    try {
      const failed = await client.callTool({ name: "failing", arguments: { message: "kaboom" } });
      expect(failed.isError).toBe(true);
      expect(failed.content).toEqual([{ type: "text", text: expect.stringContaining("ExampleFailure: kaboom") }]);

      const paused = await client.callTool({ name: "interrupt", arguments: { topic: "cats" } });
      expect(paused.isError).toBe(true);
      expect((paused.content as Array<{ text: string }>)[0].text).toMatch(/interrupt.*Approve the draft/);

      await expect(client.callTool({ name: "no-such-tool", arguments: {} })).rejects.toThrow(/Unknown tool/);
    } finally {
      await client.close();
    }
  });

  it("names assistants that share a name by their ids, and accepts ids as tool names", async () => {
    const first = await t.client.assistants.create({ graphId: "trivial", name: "twin" });
    const second = await t.client.assistants.create({ graphId: "trivial", name: "twin" });
    const spaced = await t.client.assistants.create({ graphId: "trivial", name: "has spaces", description: "Adds three" });
    const client = await connect();
    try {
      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name);
      expect(names).not.toContain("twin");
      expect(names).toEqual(expect.arrayContaining([first.assistant_id, second.assistant_id, spaced.assistant_id]));
      expect(tools.find((tool) => tool.name === spaced.assistant_id)).toMatchObject({ title: "has spaces", description: "Adds three" });
      const byId = await client.callTool({ name: second.assistant_id, arguments: { value: 10 } });
      expect(byId.content).toEqual([{ type: "text", text: JSON.stringify({ value: 13 }) }]);
      // an id always works, even for an assistant listed under its name
      const systemTrivial = (await t.client.assistants.search({ graphId: "trivial", metadata: { created_by: "system" } }))[0];
      expect((await client.callTool({ name: systemTrivial.assistant_id, arguments: { value: 0 } })).content).toEqual([
        { type: "text", text: JSON.stringify({ value: 3 }) },
      ]);
    } finally {
      await client.close();
      for (const a of [first, second, spaced]) await t.client.assistants.delete(a.assistant_id);
    }
  });
});

describe("MCP over plain HTTP", () => {
  it("negotiates the protocol version", async () => {
    const init = (protocolVersion: string) =>
      post(rpc(1, "initialize", { protocolVersion, capabilities: {}, clientInfo: { name: "x", version: "1" } }));
    const known = await json(await init("2025-03-26"));
    expect(known).toMatchObject({ jsonrpc: "2.0", id: 1, result: { protocolVersion: "2025-03-26", serverInfo: { name: "langgraph-ts-server" } } });
    expect((await json(await init("1999-01-01"))).result.protocolVersion).toBe("2025-11-25");
    const missing = await json(await post(rpc(2, "initialize", {})));
    expect(missing.error).toMatchObject({ code: -32602, message: expect.stringMatching(/protocolVersion/) });
  });

  it("answers ping, acknowledges notifications and responses with 202, and refuses unknown methods", async () => {
    expect(await json(await post(rpc("p", "ping")))).toEqual({ jsonrpc: "2.0", id: "p", result: {} });
    const note = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(note.status).toBe(202);
    expect(await note.text()).toBe("");
    expect((await post({ jsonrpc: "2.0", id: 5, result: {} })).status).toBe(202);
    const unknown = await json(await post(rpc(3, "resources/list")));
    expect(unknown).toMatchObject({ id: 3, error: { code: -32601, message: expect.stringMatching(/resources\/list/) } });
  });

  it("answers a batch in order, leaving notifications unanswered and invalid members as errors", async () => {
    const res = await post([
      rpc(1, "ping"),
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "1.0", id: 2, method: "ping" },
      rpc(3, "tools/call", { name: "trivial", arguments: { value: 2 } }),
    ]);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual([
      { jsonrpc: "2.0", id: 1, result: {} },
      { jsonrpc: "2.0", id: 2, error: { code: -32600, message: expect.stringMatching(/jsonrpc/) } },
      { jsonrpc: "2.0", id: 3, result: { content: [{ type: "text", text: JSON.stringify({ value: 5 }) }], isError: false } },
    ]);
    expect((await post([{ jsonrpc: "2.0", method: "notifications/initialized" }])).status).toBe(202);
  });

  it("reports malformed messages with the JSON-RPC error codes", async () => {
    const parse = await post("{not json");
    expect(parse.status).toBe(400);
    expect(await json(parse)).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });

    const notJson = await fetch(`${t.url}/mcp/`, { method: "POST", headers: { "content-type": "text/plain" }, body: "ping" });
    expect(notJson.status).toBe(400);
    expect(await json(notJson)).toMatchObject({ id: null, error: { code: -32700, message: expect.stringMatching(/application\/json/) } });

    for (const bad of [[], { id: 1, method: "ping" }, { jsonrpc: "2.0", id: { x: 1 }, method: "ping" }, { jsonrpc: "2.0", id: 1, method: 7 }]) {
      const res = await post(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect((await json(res)).error.code, JSON.stringify(bad)).toBe(-32600);
    }
    const invalid = await json(await post({ jsonrpc: "2.0", id: 9, method: "ping", params: "x" }));
    expect(invalid).toMatchObject({ id: 9, error: { code: -32600 } });

    const byPosition = await json(await post(rpc(4, "tools/call", ["trivial", {}])));
    expect(byPosition).toMatchObject({ id: 4, error: { code: -32602, message: expect.stringMatching(/named/) } });
    const noName = await json(await post(rpc(5, "tools/call", { arguments: {} })));
    expect(noName).toMatchObject({ id: 5, error: { code: -32602, message: expect.stringMatching(/params\.name/) } });
    const badArgs = await json(await post(rpc(6, "tools/call", { name: "trivial", arguments: [1] })));
    expect(badArgs).toMatchObject({ id: 6, error: { code: -32602, message: expect.stringMatching(/params\.arguments/) } });
    const cursor = await json(await post(rpc(7, "tools/list", { cursor: "abc" })));
    expect(cursor).toMatchObject({ id: 7, error: { code: -32602, message: expect.stringMatching(/cursor/) } });
  });

  it("refuses an unsupported MCP-Protocol-Version header", async () => {
    const res = await post(rpc(1, "ping"), { "mcp-protocol-version": "2000-01-01" });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: -32600, message: expect.stringMatching(/2000-01-01/) });
    expect((await post(rpc(1, "ping"), { "mcp-protocol-version": "2025-06-18" })).status).toBe(200);
  });

  it("answers with SSE when the client accepts only SSE", async () => {
    const res = await post(rpc(1, "tools/call", { name: "trivial", arguments: { value: 7 } }), { accept: "text/event-stream" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const data = text
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)));
    expect(data).toEqual([{ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: JSON.stringify({ value: 10 }) }], isError: false } }]);
  });

  it("cancels the run of a call whose client disconnects", async () => {
    const controller = new AbortController();
    const call = fetch(`${t.url}/mcp/`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: JSON_AND_SSE },
      body: JSON.stringify(rpc(1, "tools/call", { name: "slow", arguments: { steps: 100, delay_ms: 100 } })),
      signal: controller.signal,
    }).catch(() => "aborted");
    // the stateless run's temporary thread exists while the run is active
    const busySlowThreads = async () => (await t.client.threads.search({ metadata: { graph_id: "slow" }, status: "busy" })).length;
    await eventually(async () => ((await busySlowThreads()) === 1 ? true : undefined), 5_000, "the slow run to start");
    const started = Date.now();
    controller.abort();
    expect(await call).toBe("aborted");
    await eventually(async () => ((await busySlowThreads()) === 0 ? true : undefined), 5_000, "the run to be cancelled");
    // 100 steps of 100 ms would take 10 s
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("has no server stream and no sessions", async () => {
    const get = await fetch(`${t.url}/mcp/`, { headers: { accept: "text/event-stream" } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST, DELETE");
    expect((await json(get)).detail).toMatch(/no server-initiated/);
    const del = await fetch(`${t.url}/mcp/`, { method: "DELETE", headers: { "mcp-session-id": "abc" } });
    expect(del.status).toBe(404);
    expect((await json(del)).detail).toMatch(/no sessions/);
  });
});
