import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@langchain/langgraph-sdk";
import { startPrismProxy, type PrismProxy } from "../support/prism.js";
import { json, startTestServer, type TestServer } from "../support/server.js";

/**
 * SDK scenarios driven through `prism proxy --errors` in front of the real server: Prism checks
 * every request and response against our contract. A violation either turns the response into a
 * Prism error (the SDK call fails) or is reported in the `sl-violations` header, which is collected.
 */
let t: TestServer;
let prism: PrismProxy;
let client: Client;
const violations: string[] = [];

beforeAll(async () => {
  t = await startTestServer();
  prism = await startPrismProxy(t.url);
  client = new Client({
    apiUrl: prism.url,
    callerOptions: {
      maxRetries: 0,
      fetch: async (...args: Parameters<typeof fetch>) => {
        const res = await fetch(...args);
        const reported = res.headers.get("sl-violations");
        if (reported) violations.push(`${(args[1]?.method ?? "GET")} ${String(args[0])}: ${reported}`);
        return res;
      },
    },
  });
});
afterAll(async () => {
  await prism?.stop();
  await t?.dispose();
});

describe("conformance through the Prism validation proxy", () => {
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
    for (const path of ["/ok", "/info", "/metrics", "/openapi.json"]) {
      const res = await fetch(`${prism.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("sl-violations"), path).toBeNull();
    }
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
