/**
 * `http.app`: a Hono app and an Express router mounted in front of the built-in routes (adding
 * routes, shadowing one, streaming, calling the server back through LANGGRAPH_API_URL), and the
 * `http` keys that reshape the API: mount_prefix, disable_*.
 */
import { ProtocolSocketClient } from "../support/protocol.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/server.js";
import { eventually } from "../support/runs.js";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/custom-routes");

/** Reads a streamed body chunk by chunk. */
async function* chunks(res: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) yield decoder.decode(chunk);
}

describe.each([
  ["a Hono app", "hono.json", "hono"],
  ["an Express router", "express.json", "express"],
])("custom routes from %s", (_name, config, kind) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ configPath: path.join(FIXTURES, config) });
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("serves its routes, reading their bodies", async () => {
    expect(await json(await fetch(`${t.url}/custom/hello`))).toEqual({ hello: `from ${kind}` });
    const echo = await fetch(`${t.url}/custom/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: [1, 2] }),
    });
    expect(await json(echo)).toEqual({ got: { a: [1, 2] } });
  });

  it("shadows a built-in route, and hands every other request on to the built-ins, bodies intact", async () => {
    expect(await json(await fetch(`${t.url}/info`))).toEqual({ shadowed_by: kind });
    const thread = await t.client.threads.create({ metadata: { via: kind } });
    expect((await t.client.threads.get(thread.thread_id)).metadata).toMatchObject({ via: kind });
    expect(await t.client.runs.wait(thread.thread_id, "trivial", { input: { value: 0 } })).toEqual({ value: 3 });
    const missing = await fetch(`${t.url}/custom/nothing-here`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).detail).toMatch(/No route/);
  });

  it("keeps the headers its middleware sets on the built-in routes' answers", async () => {
    const res = await fetch(`${t.url}/ok`);
    expect(await json(res)).toEqual({ ok: true });
    expect(res.headers.get("x-custom-middleware")).toBe(kind);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("hands a body its middleware changed to the built-in routes, changes included", async () => {
    const thread = await t.client.threads.create();
    const stamped = new Client({ apiUrl: t.url, defaultHeaders: { "x-stamp": kind } });
    const run = await stamped.runs.create(thread.thread_id, "trivial", { input: { value: 0 }, metadata: { own: 1 } });
    expect(run.metadata).toEqual({ own: 1, stamp: kind });
    expect((await t.client.runs.get(thread.thread_id, run.run_id)).metadata).toEqual({ own: 1, stamp: kind });
    // a body the middleware only read reaches the built-in routes whole; malformed JSON is still a 400
    const peek = new Client({ apiUrl: t.url, defaultHeaders: { "x-peek": "1" } });
    expect((await peek.threads.create({ metadata: { read: kind } })).metadata).toEqual({ read: kind });
    const malformed = await fetch(`${t.url}/threads`, { method: "POST", headers: { "content-type": "application/json", "x-peek": "1" }, body: "{" });
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).detail).toMatch(/Malformed JSON/);
  });

  it("posts a webhook given as a path to this server: custom routes receive webhooks", async () => {
    const thread = await t.client.threads.create();
    let runId: string | undefined;
    await t.client.runs.wait(thread.thread_id, "trivial", {
      input: { value: 0 },
      webhook: "/custom/webhook",
      onRunCreated: ({ run_id }) => (runId = run_id),
    });
    const payload = await eventually(
      async () => {
        const got = (await json(await fetch(`${t.url}/custom/webhook-payload`))) as { run_id?: string } | null;
        return got?.run_id === runId ? got : undefined;
      },
      5_000,
      "the run's webhook on the custom route",
    );
    expect(payload).toMatchObject({ run_id: runId, thread_id: thread.thread_id, status: "success", values: { value: 3 } });
  });

  it("streams: the first chunk arrives while the route still waits", async () => {
    const res = await fetch(`${t.url}/custom/stream/${kind}`);
    const reader = chunks(res);
    let received = (await reader.next()).value as string;
    expect(received).toBe("first\n");
    // the route waits for this release: the first chunk cannot have been buffered with the rest
    expect(await json(await fetch(`${t.url}/custom/release/${kind}`, { method: "POST" }))).toEqual({ released: true });
    for await (const chunk of reader) received += chunk;
    expect(received).toBe("first\nsecond\n");
  });

  it("calls the server back through LANGGRAPH_API_URL", async () => {
    expect(await json(await fetch(`${t.url}/custom/self`))).toEqual({ apiUrl: t.url, graphs: ["trivial"] });
  });

  it("answers CORS preflights on custom routes", async () => {
    const res = await fetch(`${t.url}/custom/echo`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("mount_prefix and disable_*", () => {
  let t: TestServer;
  let client: Client;
  beforeAll(async () => {
    t = await startTestServer({ configPath: path.join(FIXTURES, "mounted.json") });
    client = new Client({ apiUrl: `${t.url}/api` });
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("serves every route under the prefix, custom ones included, and nothing outside it", async () => {
    const thread = await client.threads.create();
    expect(await client.runs.wait(thread.thread_id, "trivial", { input: { value: 1 } })).toEqual({ value: 4 });
    expect(await json(await fetch(`${t.url}/api/custom/hello`))).toEqual({ hello: "from hono" });
    expect(await json(await fetch(`${t.url}/api/custom/self`))).toEqual({ apiUrl: `${t.url}/api`, graphs: ["trivial"] });
    const socket = await ProtocolSocketClient.open(`${t.url}/api`, thread.thread_id);
    expect(await socket.send("state.get", { namespace: [] })).toMatchObject({ type: "success" });
    socket.close();
    await expect(ProtocolSocketClient.open(t.url, thread.thread_id)).rejects.toMatchObject({ status: 404 });
    for (const outside of ["/threads", "/custom/hello", "/ok"]) {
      const res = await fetch(`${t.url}${outside}`);
      expect(res.status).toBe(404);
      expect(await json(res)).toMatchObject({ detail: expect.stringMatching(/No route/) });
    }
  });

  it("removes the disabled routes: store and meta answer 404, even to invalid requests", async () => {
    await expect(client.store.putItem(["a"], "k", { v: 1 })).rejects.toMatchObject({ status: 404 });
    expect((await fetch(`${t.url}/api/store/items?namespace=a&key=k`)).status).toBe(404);
    expect((await fetch(`${t.url}/api/store/items`, { method: "PUT", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(
      404,
    );
    for (const meta of ["/ok", "/metrics", "/openapi.json", "/docs/"]) expect((await fetch(`${t.url}/api${meta}`)).status).toBe(404);
    // /info is the custom app's here
    expect(await json(await fetch(`${t.url}/api/info`))).toEqual({ shadowed_by: "hono" });
  });

  it("refuses webhooks with disable_webhooks", async () => {
    const thread = await client.threads.create();
    await expect(client.runs.create(thread.thread_id, "trivial", { input: { value: 0 }, webhook: "http://127.0.0.1:9/hook" })).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/disable_webhooks/),
    });
    expect(await client.runs.list(thread.thread_id)).toEqual([]);
  });
});

describe("the published contract with mount_prefix and disable_*", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ configPath: path.join(FIXTURES, "mounted-docs.json") });
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("lists only the operations served, with the prefix as its server", async () => {
    const doc = await json(await fetch(`${t.url}/api/openapi.json`));
    const paths = Object.keys(doc.paths);
    expect(paths).toContain("/threads");
    expect(paths).toContain("/assistants/search");
    for (const gone of ["/store/items", "/store/namespaces", "/runs/crons", "/threads/{thread_id}/runs", "/runs/wait"]) {
      expect(paths).not.toContain(gone);
    }
    const tags = new Set(doc.tags.map((tag: { name: string }) => tag.name));
    for (const gone of ["Store", "Crons", "Thread Runs", "Stateless Runs"]) expect(tags.has(gone)).toBe(false);
    expect(tags.has("Threads")).toBe(true);
    expect(doc.servers).toEqual([{ url: "/api", description: "This server" }]);
    // every operation the document lists is served where its server URL says
    const res = await fetch(`${t.url}${doc.servers[0].url}/threads`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
  });

  it("says in /info which features are off", async () => {
    const { flags } = await json(await fetch(`${t.url}/api/info`));
    expect(flags).toMatchObject({ assistants: true, threads: true, runs: false, streaming: false, crons: false, store: false, mcp: true, a2a: true });
  });

  it("gives /docs the same document", async () => {
    const init = await (await fetch(`${t.url}/api/docs/swagger-ui-init.js`)).text();
    expect(init).toContain('"/threads/{thread_id}/state"');
    expect(init).not.toContain('"/store/items"');
  });

  it("answers 404, not 405, for another method on a path whose operations are all disabled", async () => {
    const res = await fetch(`${t.url}/api/store/namespaces`, { method: "GET" });
    expect(res.status).toBe(404);
  });
});

describe.each([
  ["before authentication by default", "auth-open.json", false],
  ["behind authentication with enable_custom_route_auth", "auth-custom.json", true],
])("custom routes %s", (_name, config, authenticated) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ configPath: path.join(FIXTURES, config) });
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it(authenticated ? "asks custom routes for credentials too" : "serves custom routes to anyone, built-ins to users", async () => {
    const anonymous = await fetch(`${t.url}/custom/hello`);
    expect(anonymous.status).toBe(authenticated ? 401 : 200);
    const alice = await fetch(`${t.url}/custom/hello`, { headers: { authorization: "Bearer alice" } });
    expect(alice.status).toBe(200);
    expect((await fetch(`${t.url}/threads/search`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(
      401,
    );
    // CORS comes first: a browser's preflight carries no credentials
    const preflight = await fetch(`${t.url}/custom/hello`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(preflight.status).toBe(204);
  });
});

it("refuses to start with an http.app that does not load, in one line naming it", async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), "lgts-custom-"));
  try {
    const start = startServer({ configPath: path.join(FIXTURES, "missing-export.json"), port: 0, host: "127.0.0.1", dataDir });
    await expect(start).rejects.toThrow(/http\.app \(\.\/hono-app\.ts:api\): the module has no export "api" \(exports: app\)$/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
