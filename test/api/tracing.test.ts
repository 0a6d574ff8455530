/**
 * OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, a run's request, execution, graph steps
 * and storage calls reach an OTLP/HTTP receiver as one span tree, continuing the caller's
 * `traceparent`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNS_CONFIG } from "../support/runs.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** An OTLP/HTTP (JSON) trace receiver: what it got, span by span. */
async function startReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const payload = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const resource of payload.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

describe("OpenTelemetry traces", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver?.close());

  it("exports one run's request, execution, graph steps and storage calls as one tree under the caller's trace", async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    let server: TestServer;
    try {
      server = await startTestServer({ configPath: RUNS_CONFIG });
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    }
    const thread = await server.client.threads.create();
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const response = await fetch(`${server.url}/threads/${thread.thread_id}/runs/wait`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${callerTrace}-${callerSpan}-01` },
      body: JSON.stringify({ assistant_id: "slow", input: { steps: 2, delay_ms: 1 } }),
    });
    expect(response.status).toBe(200);
    await server.dispose(); // flushes the exporter

    const spans = receiver.spans;
    const request = spans.find((s) => s.name === "POST /threads/{thread_id}/runs/wait");
    expect(request, spans.map((s) => s.name).join(", ")).toBeDefined();
    // the ids as the exporter encodes them (hex in OTLP/JSON)
    expect(request!.traceId.toLowerCase()).toBe(callerTrace);
    expect(request!.parentSpanId?.toLowerCase()).toBe(callerSpan);
    expect(attribute(request!, "http.response.status_code")).toBe(200);

    const run = spans.find((s) => s.name === "run" && s.parentSpanId === request!.spanId);
    expect(run).toBeDefined();
    expect(attribute(run!, "langgraph.thread_id")).toBe(thread.thread_id);
    expect(attribute(run!, "langgraph.assistant_id")).toBeTypeOf("string");
    expect(Number(attribute(run!, "langgraph.run.attempt"))).toBe(1);
    expect(attribute(run!, "langgraph.run.ending")).toBe("success");

    const steps = spans.filter((s) => s.parentSpanId === run!.spanId && s.name.startsWith("graph.node "));
    expect(steps.map((s) => s.name)).toEqual(["graph.node __start__", "graph.node work", "graph.node work"]);
    expect(steps.every((s) => s.traceId === request!.traceId)).toBe(true);

    // storage calls of the request and of the run, in the same trace
    const storageCalls = spans.filter((s) => s.name.startsWith("storage ") && s.traceId === request!.traceId);
    expect(storageCalls.map((s) => s.name)).toEqual(expect.arrayContaining(["storage runs.create", "storage runs.end"]));
    // background work outside any request or run makes no spans of its own
    expect(spans.filter((s) => s.name.startsWith("storage ") && !s.parentSpanId)).toEqual([]);
  });
});
