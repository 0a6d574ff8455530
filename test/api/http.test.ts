import { rm } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadContract } from "../../src/http/contract.js";
import { operationHandlers } from "../../src/handlers/index.js";
import { json, startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const contract = loadContract();
const contractOperations = Object.entries(contract.paths ?? {}).flatMap(([path, item]) =>
  METHODS.filter((m) => item?.[m]).map((method) => ({ path, method, operationId: item![method]!.operationId! })),
);

/** Every operation with junk bodies (a body-less request for GET and DELETE), ids all missing. */
const JUNK_BODIES = ["null", "[]", "1", '"x"', "{}", '{"metadata": 5}', '{"limit": -1}', '{"thread_id": {}}'];
const JUNK_REQUESTS = contractOperations.flatMap(({ path, method }) =>
  (method === "get" || method === "delete" ? [undefined] : JUNK_BODIES).map((body) => ({
    method,
    path,
    url: path.replace(/\{[^}]+\}/g, "00000000-0000-4000-8000-000000000000"),
    body,
  })),
);

const post = (path: string, body: string, contentType = "application/json") =>
  fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body });

describe("the HTTP layer", () => {
  it("registers a handler for every operation of the contract", async () => {
    const { createContractBackend } = await import("../../src/http/contract.js");
    const api = await createContractBackend({});
    const registered = api
      .getOperations()
      .map((o) => o.operationId)
      .sort();
    expect(registered.length).toBe(contractOperations.length);
    expect(registered).toEqual(contractOperations.map((o) => o.operationId).sort());
    expect(Object.keys(operationHandlers).sort()).toEqual(registered);
  });

  it("answers malformed JSON with a JSON 400", async () => {
    const res = await post("/threads", "{not json");
    expect(res.status).toBe(400);
    expect((await json(res)).detail).toMatch(/Malformed JSON/);
  });

  it("answers an unknown route with a JSON 404 and a wrong method with a JSON 405", async () => {
    const missing = await fetch(`${t.url}/no/such/route`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).detail).toMatch(/No route/);
    const wrong = await fetch(`${t.url}/threads`, { method: "PUT" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await json(wrong)).detail).toMatch(/not allowed/);
  });

  it("reports every invalid field at once with 422", async () => {
    const res = await post("/assistants/search", JSON.stringify({ limit: "many", sort_order: "sideways", bogus: 1 }));
    expect(res.status).toBe(422);
    const { detail } = await json(res);
    expect(detail).toMatch(/body\.limit/);
    expect(detail).toMatch(/body\.sort_order/);
    expect(detail).toMatch(/body\.bogus/);
  });

  it(
    "never answers 500 to junk",
    async () => {
      // a few requests at a time: the server answers each alone, the test only waits less in total
      const failures: string[] = [];
      const pending = [...JUNK_REQUESTS];
      const worker = async () => {
        for (let request = pending.shift(); request; request = pending.shift()) {
          const { method, path, url, body } = request;
          const res = await fetch(`${t.url}${url}`, {
            method: method.toUpperCase(),
            headers: body ? { "content-type": "application/json" } : {},
            body,
          });
          await res.arrayBuffer();
          if (res.status >= 500) failures.push(`${method.toUpperCase()} ${path} with ${body}: ${res.status}`);
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      expect(failures).toEqual([]);
    },
    // hundreds of requests: a budget per request, so a loaded machine slows the test without failing it
    30_000 + JUNK_REQUESTS.length * 250,
  );
});

describe("system endpoints", () => {
  it("serves /ok, with a storage check on request", async () => {
    expect(await json(await fetch(`${t.url}/ok`))).toEqual({ ok: true });
    expect(await json(await fetch(`${t.url}/ok?check_db=1`))).toEqual({ ok: true, storage: "lowdb" });
  });

  it("fails /ok?check_db=1 when the storage can no longer persist, while /ok stays up", async () => {
    const broken = await startTestServer();
    try {
      await rm(broken.dataDir, { recursive: true, force: true });
      const checked = await fetch(`${broken.url}/ok?check_db=1`);
      expect(checked.status).toBe(503);
      expect((await json(checked)).detail).toMatch(/^Storage check failed \(lowdb\): .*not writable/);
      expect(await json(await fetch(`${broken.url}/ok`))).toEqual({ ok: true });
      expect(broken.violations).toEqual([]);
    } finally {
      await broken.dispose();
    }
  });

  it("serves /info with the version", async () => {
    const info = await json(await fetch(`${t.url}/info`));
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.langgraph_js_version).toMatch(/^1\./);
    expect(info.flags).toMatchObject({ assistants: true, threads: true, runs: true, crons: true, store: true });
  });

  it("serves Prometheus metrics that count requests", async () => {
    const okCount = async () => {
      const res = await fetch(`${t.url}/metrics`);
      expect(res.headers.get("content-type")).toMatch(/text\/plain/);
      const match = (await res.text()).match(/^lgts_http_requests_total\{method="GET",status="200"\} (\d+)$/m);
      return match ? Number(match[1]) : 0; // absent until the first GET 200 is answered
    };
    const before = await okCount(); // counted itself once answered
    for (let i = 0; i < 3; i++) await (await fetch(`${t.url}/ok`)).arrayBuffer();
    await (await fetch(`${t.url}/threads/00000000-0000-4000-8000-000000000000`)).arrayBuffer(); // a 404 is not a 200
    expect(await okCount()).toBe(before + 4);
  });

  it("serves the contract and an interactive reference of it", async () => {
    const doc = await json(await fetch(`${t.url}/openapi.json`));
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toContain("/threads");
    const docs = await fetch(`${t.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger-ui/i);
  });
});
