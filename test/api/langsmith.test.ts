/**
 * LangSmith as on LangGraph Platform, against a fake LangSmith (LANGSMITH_ENDPOINT) inside the
 * test: with an API key set, a run is traced into the project its `langsmith_tracer` names, its
 * trace's root run has the run's id, and `feedback_keys` get presigned URLs in a `feedback`
 * event. Without LangSmith configured, both fields are refused.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, RUNS_CONFIG } from "../support/runs.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface Received {
  method: string;
  path: string;
  body: string;
}

/** A LangSmith API that records every request; feedback tokens answer a URL per key. */
async function startFakeLangSmith(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
      const path = (req.url ?? "/").split("?")[0];
      received.push({ method: req.method ?? "GET", path, body });
      res.writeHead(200, { "content-type": "application/json" });
      if (path === "/feedback/tokens") {
        const { feedback_key, run_id } = JSON.parse(body) as { feedback_key: string; run_id: string };
        res.end(
          JSON.stringify({
            id: `token-${feedback_key}`,
            url: `https://smith.example/feedback/${run_id}/${feedback_key}`,
            expires_at: "2030-01-01T00:00:00Z",
          }),
        );
      } else if (path === "/info") {
        res.end(JSON.stringify({ version: "0.11.0", instance_flags: {} }));
      } else {
        res.end("{}");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("LangSmith", () => {
  let smith: Awaited<ReturnType<typeof startFakeLangSmith>>;
  let server: TestServer;
  beforeAll(async () => {
    smith = await startFakeLangSmith();
    Object.assign(process.env, { LANGSMITH_API_KEY: "lsv2-test-key", LANGSMITH_ENDPOINT: smith.url, LANGSMITH_PROJECT: "server-default" });
    try {
      server = await startTestServer({ configPath: RUNS_CONFIG });
    } finally {
      for (const name of ["LANGSMITH_API_KEY", "LANGSMITH_ENDPOINT", "LANGSMITH_PROJECT"]) delete process.env[name];
    }
  });
  afterAll(async () => {
    await server?.dispose();
    await smith?.close();
  });

  it("traces a run into its langsmith_tracer project and streams presigned feedback URLs", async () => {
    const thread = await server.client.threads.create();
    const response = await fetch(`${server.url}/threads/${thread.thread_id}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        assistant_id: "slow",
        input: { steps: 1, delay_ms: 1 },
        stream_mode: ["values"],
        feedback_keys: ["correctness", "helpfulness"],
        langsmith_tracer: { project_name: "chosen-project" },
      }),
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const events = [...text.matchAll(/event: (\S+)\ndata: (.*)\n/g)].map(([, event, data]) => ({ event, data: JSON.parse(data) as unknown }));
    expect(events.map((e) => e.event)).toEqual(["metadata", "feedback", "values", "values"]);
    const runId = (events[0].data as { run_id: string }).run_id;
    expect(events[1].data).toEqual({
      correctness: `https://smith.example/feedback/${runId}/correctness`,
      helpfulness: `https://smith.example/feedback/${runId}/helpfulness`,
    });
    // the trace's root run is the run, in the chosen project
    const post = await eventually(
      async () =>
        smith.received.find((r) => r.method === "POST" && r.path.startsWith("/runs") && r.body.includes(runId) && r.body.includes("chosen-project")),
      15_000,
      "the run's trace posted to LangSmith",
    );
    expect(post.body).toContain(`"id":"${runId}"`);
  });

  it("traces runs without langsmith_tracer into the configured project", async () => {
    const thread = await server.client.threads.create();
    const run = await server.client.runs.create(thread.thread_id, "slow", { input: { steps: 1, delay_ms: 1 } });
    await server.client.runs.join(thread.thread_id, run.run_id);
    await eventually(
      async () => smith.received.find((r) => r.path.startsWith("/runs") && r.body.includes(run.run_id) && r.body.includes("server-default")),
      15_000,
      "the run's trace in the default project",
    );
  });

  it("refuses feedback_keys and langsmith_tracer on a server without LangSmith", async () => {
    const plain = await startTestServer({ configPath: RUNS_CONFIG });
    try {
      for (const extra of [{ feedback_keys: ["correctness"] }, { langsmith_tracer: { project_name: "p" } }]) {
        const response = await fetch(`${plain.url}/runs/wait`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ assistant_id: "slow", input: { steps: 1, delay_ms: 1 }, ...extra }),
        });
        expect(response.status).toBe(422);
        expect(((await response.json()) as { detail: string }).detail).toContain("LANGSMITH_API_KEY");
      }
    } finally {
      await plain.dispose();
    }
  });
});
