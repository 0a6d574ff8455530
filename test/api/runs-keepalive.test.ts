/**
 * Long waits survive clients' read timeouts, as on the LangGraph Platform: `/threads/{id}/runs/wait`,
 * `/runs/wait` and `/join` send their status and headers, then a newline every interval while the
 * run works, then the JSON result (valid JSON: leading whitespace). The Platform's interval is
 * 5 s; here it is 150 ms, and the client's read timeout 2 s (httpx's default is 300 s; the
 * Python SDK keeps it for wait and join), for runs of 3.9 s.
 */
import { request } from "node:http";
import express from "express";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { keepAlive } from "../../src/http/keep-alive.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { RUNS_CONFIG } from "../support/runs.js";

const INTERVAL_MS = 150;
/** Well above what creating a run takes on a loaded machine (the wait begins after it). */
const READ_TIMEOUT_MS = 2000;
/** Three steps of 1.3 s: well past the client's read timeout. */
const LONG_RUN = { steps: 3, delay_ms: 1300 };

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: RUNS_CONFIG, waitKeepAliveMs: INTERVAL_MS });
  await t.client.runs.wait(null, "slow", { input: { steps: 1, delay_ms: 0 } }); // first use of the graph
});
afterAll(() => t?.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request with a read timeout: no byte for READ_TIMEOUT_MS fails it, as httpx's read timeout does. */
function timedRequest(baseUrl: string, method: string, route: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(route, baseUrl),
      { method, timeout: READ_TIMEOUT_MS, headers: body ? { "content-type": "application/json" } : {} },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
        res.on("error", reject);
        res.on("aborted", () => reject(new Error(`the connection was cut after ${JSON.stringify(text)}`)));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`read timeout (${READ_TIMEOUT_MS} ms without a byte)`)));
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("long waits", () => {
  it("/threads/{id}/runs/wait answers a run longer than the client's read timeout: newlines, then the result", async () => {
    const { thread_id } = await t.client.threads.create();
    const answer = await timedRequest(t.url, "POST", `/threads/${thread_id}/runs/wait`, { assistant_id: "slow", input: LONG_RUN });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(answer.text).toMatch(/^\n+\{/);
    expect(JSON.parse(answer.text)).toMatchObject({ completed: 3 });
    const [run] = await t.client.runs.list(thread_id);
    expect(answer.headers["content-location"]).toBe(`/threads/${thread_id}/runs/${run.run_id}`);
    expect(answer.headers.location).toBe(`/threads/${thread_id}/runs/${run.run_id}/join`);
  });

  it("/runs/wait and /join do the same, and the SDK reads the answer", async () => {
    const stateless = await timedRequest(t.url, "POST", "/runs/wait", { assistant_id: "slow", input: LONG_RUN });
    expect(stateless.status).toBe(200);
    expect(stateless.text).toMatch(/^\n+\{/);
    expect(JSON.parse(stateless.text)).toMatchObject({ completed: 3 });

    const { thread_id } = await t.client.threads.create();
    const run = await t.client.runs.create(thread_id, "slow", { input: LONG_RUN });
    const joined = await timedRequest(t.url, "GET", `/threads/${thread_id}/runs/${run.run_id}/join`);
    expect(joined.status).toBe(200);
    expect(joined.text).toMatch(/^\n+\{/);
    expect(JSON.parse(joined.text)).toMatchObject({ completed: 3 });

    expect(await t.client.runs.wait(null, "slow", { input: LONG_RUN })).toMatchObject({ completed: 3 });
  });

  it("answers a run that ends within the interval as before: no whitespace, and errors with their own status", async () => {
    const patient = await startTestServer({ configPath: RUNS_CONFIG, waitKeepAliveMs: 30_000 });
    try {
      const quick = await timedRequest(patient.url, "POST", "/runs/wait", { assistant_id: "trivial", input: { value: 1 } });
      expect(quick.status).toBe(200);
      expect(quick.text).toBe('{"value":4}');
      const missing = await timedRequest(patient.url, "POST", "/runs/wait", { assistant_id: "no-such-graph" });
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.text)).toEqual({ detail: expect.stringContaining("no-such-graph") });
      expect(patient.violations).toEqual([]);
    } finally {
      await patient.dispose();
    }
  });

  it("reports a run that fails once the answer has begun as its result, {__error__}, as on the Platform", async () => {
    const timed = await startTestServer({ configPath: RUNS_CONFIG, waitKeepAliveMs: INTERVAL_MS, runs: { runTimeoutMs: 2500 } });
    try {
      const answer = await timedRequest(timed.url, "POST", "/runs/wait", { assistant_id: "slow", input: LONG_RUN });
      expect(answer.status).toBe(200);
      expect(answer.text).toMatch(/^\n+\{/);
      expect(JSON.parse(answer.text)).toEqual({ __error__: { error: expect.any(String), message: expect.stringMatching(/time/i) } });
    } finally {
      await timed.dispose();
    }
  });
});

describe("keepAlive", () => {
  it("cuts the connection when the outcome cannot be read after the status went out, and answers the error itself before", async () => {
    const app = express();
    const logger = pino({ level: "silent" });
    let failing: Promise<unknown> = Promise.resolve();
    app.get("/late", async (_req, res) => {
      const kept = await keepAlive(res, new Promise((_resolve, reject) => setTimeout(() => reject(new Error("storage unavailable")), 400)), {
        intervalMs: INTERVAL_MS,
        headers: {},
        logger,
      });
      expect(kept).toEqual({ streamed: true });
    });
    app.get("/early", async (_req, res) => {
      failing = keepAlive(res, Promise.reject(new Error("storage unavailable")), { intervalMs: INTERVAL_MS, headers: {}, logger });
      await failing.catch(() => res.status(503).json({ detail: "storage unavailable" }));
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as { port: number };
    try {
      await expect(timedRequest(`http://127.0.0.1:${port}`, "GET", "/late")).rejects.toThrow(/cut|socket hang up|aborted/);
      const early = await timedRequest(`http://127.0.0.1:${port}`, "GET", "/early");
      expect(early.status).toBe(503);
      await expect(failing).rejects.toThrow("storage unavailable");
    } finally {
      server.close();
    }
  });
});
