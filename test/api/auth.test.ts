/**
 * Authentication with a LangGraph Auth (test/fixtures/auth/auth.ts) through the real SDK: bad
 * credentials never cause a 500, graphs see the user, and runs executed later keep the identity
 * of the user who created them.
 */
import { request } from "node:http";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";
import { eventually } from "../support/runs.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/auth/langgraph.json");

let t: TestServer;
const as = (user: string) => new Client({ apiUrl: t.url, defaultHeaders: { Authorization: `Bearer ${user}` } });

beforeAll(async () => {
  t = await startTestServer({ configPath: CONFIG });
});
afterAll(async () => {
  await t?.dispose();
});

/** A raw request with exactly these header bytes (fetch would refuse some of them). */
function rawGet(pathname: string, rawHeaders: string[]): Promise<{ status: number; body: string }> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: pathname, method: "GET", headers: {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    for (let i = 0; i < rawHeaders.length; i += 2) req.setHeader(rawHeaders[i], rawHeaders[i + 1]);
    req.on("error", reject);
    req.end();
  });
}

describe("authentication", () => {
  it("answers 401 with the Auth's own message and headers, never a stack trace", async () => {
    const res = await fetch(`${t.url}/threads/search`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(await res.json()).toEqual({ detail: "Missing token" });
    const crash = await fetch(`${t.url}/threads/search`, { method: "POST", headers: { Authorization: "Bearer crash" } });
    expect([crash.status, await crash.json()]).toEqual([401, { detail: "Unauthorized" }]);
    const teapot = await fetch(`${t.url}/threads/search`, { method: "POST", headers: { Authorization: "Bearer teapot" } });
    expect([teapot.status, await teapot.json()]).toEqual([418, { detail: "I brew tea" }]);
  });

  it("fuzz: bad Authorization headers answer 401, never 500", async () => {
    const values = [
      "",
      " ",
      "Bearer",
      "Bearer ",
      "Bearer  alice",
      "bearer alice",
      "Basic YWxpY2U6c2VjcmV0",
      "Bearer alicex",
      "Bearer " + "a".repeat(6000),
      "Bearer \u00e9\u00e8",
      "Bearer broken",
      "Bearer nobody",
      "Bearer null",
      "Bearer undefined",
      "Bearer __proto__",
      "Bearer constructor",
      "Bearer toString",
      "Bearer ../../etc/passwd",
      "Bearer %00",
      "Bearer \t alice",
      "Bearer ' OR 1=1 --",
      'Bearer {"identity":"alice"}',
    ];
    for (let seed = 0; seed < 40; seed++) {
      const bytes = Array.from({ length: 1 + ((seed * 7919) % 60) }, (_, i) => String.fromCharCode(33 + ((seed * 31 + i * 17) % 94)));
      values.push(`Bearer ${bytes.join("")}`, bytes.join(""));
    }
    for (const value of values) {
      const answer = await rawGet("/threads/00000000-0000-0000-0000-000000000000", ["Authorization", value]);
      expect(answer.status, `Authorization: ${JSON.stringify(value.slice(0, 40))}`).toBe(401);
      expect(answer.body).not.toMatch(/at .*\.ts:\d+/);
    }
    // several Authorization headers, and Studio's header, do not get through either
    expect((await rawGet("/threads/search", ["Authorization", "Bearer x", "x-auth-scheme", "langsmith"])).status).toBe(401);
    expect((await rawGet("/metrics", ["x-auth-scheme", "langsmith"])).status).toBe(401);
  });

  it("serves /ok, /info, /docs and /openapi.json without credentials", async () => {
    for (const route of ["/ok", "/info", "/openapi.json", "/docs/"]) {
      expect((await fetch(t.url + route)).status, route).toBe(200);
    }
  });

  it("lets two users' SDK clients see disjoint data", async () => {
    const alice = as("alice");
    const carol = as("carol"); // authenticate returned a bare string
    const mine = await alice.threads.create({ metadata: { topic: "x" } });
    const hers = await carol.threads.create({ metadata: { topic: "x" } });
    expect(mine.metadata).toMatchObject({ owner: "alice", topic: "x" });
    const aliceSees = (await alice.threads.search({ metadata: { topic: "x" } })).map((th) => th.thread_id);
    const carolSees = (await carol.threads.search({ metadata: { topic: "x" } })).map((th) => th.thread_id);
    expect(aliceSees).toContain(mine.thread_id);
    expect(aliceSees).not.toContain(hers.thread_id);
    expect(carolSees).toEqual([hers.thread_id]);
    await expect(carol.threads.get(mine.thread_id)).rejects.toMatchObject({ status: 404 });
  });
});

describe("graphs see the user", () => {
  it("in config.configurable, whatever the client sends under those keys", async () => {
    const alice = as("alice");
    const assistant = await alice.assistants.create({ graphId: "whoami" });
    const result = (await alice.runs.wait(null, assistant.assistant_id, {
      input: {},
      config: { configurable: { langgraph_auth_user_id: "mallory", langgraph_auth_user: { identity: "mallory" } } },
    })) as Record<string, unknown>;
    expect(result).toEqual({
      user: { identity: "alice", permissions: ["threads:write"], display_name: "Alice", org: "acme", is_authenticated: true },
      user_id: "alice",
      permissions: ["threads:write"],
    });
  });

  it("in runs executed later: after_seconds, after a restart, and cron firings", async () => {
    const alice = as("alice");
    const assistant = await alice.assistants.create({ graphId: "whoami" });
    const thread = await alice.threads.create();
    const run = await alice.runs.create(thread.thread_id, assistant.assistant_id, { input: {}, afterSeconds: 1 });
    t = await t.restart(); // the pending run is recovered by the new process
    const later = as("alice");
    await eventually(async () => ((await later.runs.get(thread.thread_id, run.run_id)).status === "success" ? true : undefined), 20_000);
    expect(((await later.threads.getState(thread.thread_id)).values as { user_id: string }).user_id).toBe("alice");

    const cron = await later.crons.createForThread(thread.thread_id, assistant.assistant_id, { schedule: "0 0 1 1 *" });
    const stored = await t.server.services.storage.crons.get(cron.cron_id);
    expect(stored.auth_user).toMatchObject({ identity: "alice", org: "acme" });
    expect(cron).not.toHaveProperty("auth_user");
    await later.threads.update(thread.thread_id, { metadata: { fired: "no" } });
    // due now: the scheduler fires it
    const due = await t.server.services.storage.crons.update(cron.cron_id, { next_run_date: new Date(Date.now() - 1000).toISOString() });
    t.server.services.crons.nudge(due);
    await eventually(async () => {
      const runs = await later.runs.list(thread.thread_id);
      return runs.length === 2 && runs[0].status === "success" ? runs : undefined;
    }, 20_000);
    const fired = (await later.runs.list(thread.thread_id))[0];
    expect(
      (fired as unknown as { kwargs: { config: { configurable: Record<string, unknown> } } }).kwargs.config.configurable.langgraph_auth_user_id,
    ).toBe("alice");
  });
});
