/**
 * CORS as a browser page on another origin meets it: preflights answered on every route
 * (streams included), the headers the SDK reads exposed, and `http.cors` narrowing who may call.
 */
import { randomUUID } from "node:crypto";
import { ProtocolSocketClient } from "../support/protocol.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadContract } from "../../src/http/contract.js";
import { EXAMPLES_CONFIG, startTestServer, type TestServer } from "../support/server.js";

const ORIGIN = "http://localhost:5173";
const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const contract = loadContract();
const routes = Object.entries(contract.paths ?? {}).flatMap(([template, item]) =>
  METHODS.filter((m) => item?.[m]).map((method) => ({
    path: template.replace(/\{[^}]+\}/g, "00000000-0000-4000-8000-000000000000"),
    method: method.toUpperCase(),
  })),
);

const preflight = (url: string, method: string, origin = ORIGIN) =>
  fetch(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "content-type,x-api-key,last-event-id",
    },
  });

describe("CORS without http.cors (any origin, as langgraph dev)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("answers the preflight of every operation of the contract", async () => {
    expect(routes.length).toBeGreaterThan(50);
    const refused: string[] = [];
    for (const { path: route, method } of routes) {
      const res = await preflight(`${t.url}${route}`, method);
      const allowedMethods = res.headers.get("access-control-allow-methods") ?? "";
      if (res.status >= 300 || res.headers.get("access-control-allow-origin") !== "*" || !allowedMethods.includes(method)) {
        refused.push(`${method} ${route}: ${res.status} ${allowedMethods}`);
      }
      expect((res.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toContain("last-event-id");
    }
    expect(refused).toEqual([]);
  });

  it("exposes the run location and pagination headers on a cross-origin stream and search", async () => {
    const thread = await t.client.threads.create();
    const stream = await fetch(`${t.url}/threads/${thread.thread_id}/runs/stream`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "trivial", input: {} }),
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = (stream.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(",");
    expect(exposed).toEqual(expect.arrayContaining(["content-location", "location", "x-pagination-total", "x-pagination-next"]));
    expect(stream.headers.get("content-location")).toMatch(/\/threads\/.+\/runs\/.+/);
    await stream.text();

    const search = await fetch(`${t.url}/threads/search`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: "{}",
    });
    expect(search.headers.get("access-control-allow-origin")).toBe("*");
    expect(search.headers.get("x-pagination-total")).not.toBeNull();
  });

  it("adds the headers to refusals too, so a browser can read the error", async () => {
    const res = await fetch(`${t.url}/threads/00000000-0000-4000-8000-000000000000`, { headers: { origin: ORIGIN } });
    expect(res.status).toBe(404);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("CORS configured by http.cors", () => {
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "lgts-cors-"));
    const config = {
      graphs: { trivial: path.join(path.dirname(EXAMPLES_CONFIG), "src/trivial.ts:graph") },
      http: {
        cors: {
          allow_origins: ["https://app.example.com"],
          allow_origin_regex: "https://.*\\.preview\\.example\\.com",
          allow_methods: ["GET", "POST"],
          allow_headers: ["content-type"],
          allow_credentials: true,
          expose_headers: ["X-Request-Id"],
          max_age: 600,
        },
      },
    };
    await writeFile(path.join(dir, "langgraph.json"), JSON.stringify(config));
    t = await startTestServer({ configPath: path.join(dir, "langgraph.json") });
  });
  afterAll(async () => {
    await t.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("allows the listed origins and those the regex matches, with credentials", async () => {
    for (const origin of ["https://app.example.com", "https://pr-12.preview.example.com"]) {
      const res = await preflight(`${t.url}/threads`, "POST", origin);
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST");
      expect(res.headers.get("access-control-allow-headers")).toBe("content-type");
      expect(res.headers.get("access-control-max-age")).toBe("600");
    }
    const res = await fetch(`${t.url}/ok`, { headers: { origin: "https://app.example.com" } });
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(",");
    expect(exposed).toEqual(expect.arrayContaining(["content-location", "x-pagination-total", "x-request-id"]));
  });

  it("lets the allowed origins open the protocol's WebSocket, and refuses the others (403)", async () => {
    const threadId = randomUUID();
    const allowed = await ProtocolSocketClient.open(t.url, threadId, { origin: "https://pr-12.preview.example.com" });
    expect(await allowed.send("state.get", { namespace: [] })).toMatchObject({ type: "error", error: "no_such_run" });
    allowed.close();
    await expect(ProtocolSocketClient.open(t.url, threadId, { origin: "https://evil.example.org" })).rejects.toMatchObject({ status: 403 });
    // no Origin: not a browser, CORS does not apply
    (await ProtocolSocketClient.open(t.url, threadId)).close();
  });

  it("gives other origins no CORS headers (the regex must match the whole origin)", async () => {
    for (const origin of ["https://evil.example.org", "https://pr-12.preview.example.com.evil.org"]) {
      const res = await preflight(`${t.url}/threads`, "POST", origin);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    }
  });
});
