/**
 * Every request the real `@langchain/langgraph-sdk` Client sends, with every option filled in,
 * must match an operation of our contract and pass its request validation.
 *
 * The SDK runs against a fake fetch that records each request and answers with a minimal body;
 * the recorded requests are then validated by the server's own contract backend (the same
 * openapi-backend + Ajv setup that guards every request). No server is started.
 */
import { Client } from "@langchain/langgraph-sdk";
import type { OpenAPIBackend } from "openapi-backend";
import { beforeAll, describe, expect, it } from "vitest";
import { createContractBackend } from "../../src/http/contract.js";

interface Recorded {
  call: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: unknown;
}

const THREAD = "4f1f1f3c-7a7e-4a55-9b0e-2d6c3a1e0b01";
const RUN = "4f1f1f3c-7a7e-4a55-9b0e-2d6c3a1e0b02";
const CRON = "4f1f1f3c-7a7e-4a55-9b0e-2d6c3a1e0b03";
const ASSISTANT = "4f1f1f3c-7a7e-4a55-9b0e-2d6c3a1e0b04";

function recordingClient(log: Recorded[], current: { call: string }): Client {
  const fakeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(key);
      query[key] = all.length === 1 ? all[0] : all;
    }
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    const method = (init?.method ?? "GET").toLowerCase();
    log.push({ call: current.call, method, path: url.pathname, query, headers, body });

    if (/\/stream$/.test(url.pathname)) {
      return new Response("event: end\ndata: null\n\n", { headers: { "content-type": "text/event-stream" } });
    }
    if (method === "delete" || url.pathname.endsWith("/cancel")) return new Response(null, { status: 204 });
    const payload = url.pathname === "/store/items/search" ? { items: [] } : {};
    return new Response(JSON.stringify(payload), { headers: { "content-type": "application/json" } });
  };
  return new Client({ apiUrl: "http://sdk.test", apiKey: null, callerOptions: { fetch: fakeFetch, maxRetries: 0 } });
}

async function drain(gen: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of gen) {
    // consume
  }
}

const fullRun = {
  input: { messages: [{ role: "user", content: "hi" }] },
  command: { resume: "yes", goto: "node", update: { a: 1 } },
  config: { tags: ["t"], recursion_limit: 10, configurable: { x: 1 } },
  context: { user: "u" },
  metadata: { m: 1 },
  checkpoint: { checkpoint_id: "c1", checkpoint_ns: "", checkpoint_map: null },
  checkpointId: "c1",
  checkpointDuring: true,
  durability: "sync" as const,
  interruptBefore: "*" as const,
  interruptAfter: ["a", "b"],
  multitaskStrategy: "enqueue" as const,
  webhook: "https://example.org/hook",
  onDisconnect: "continue" as const,
  afterSeconds: 1,
  ifNotExists: "create" as const,
  strictResume: true,
  feedbackKeys: ["k"],
  streamResumable: true,
};

/** Each entry calls one SDK method with (nearly) every option. */
function calls(client: Client): Array<[string, () => Promise<unknown>]> {
  return [
    ["assistants.get", () => client.assistants.get(ASSISTANT)],
    ["assistants.get(graph id)", () => client.assistants.get("agent")],
    ["assistants.getGraph", () => client.assistants.getGraph("agent", { xray: true })],
    ["assistants.getGraph(xray=2)", () => client.assistants.getGraph("agent", { xray: 2 })],
    ["assistants.getSchemas", () => client.assistants.getSchemas("agent")],
    ["assistants.getSubgraphs", () => client.assistants.getSubgraphs("agent", { recurse: true })],
    ["assistants.getSubgraphs(ns)", () => client.assistants.getSubgraphs("agent", { namespace: "child", recurse: true })],
    [
      "assistants.create",
      () =>
        client.assistants.create({
          graphId: "agent",
          assistantId: ASSISTANT,
          config: { configurable: { a: 1 } },
          context: { c: 1 },
          metadata: { m: 1 },
          ifExists: "do_nothing",
          name: "n",
          description: "d",
        }),
    ],
    [
      "assistants.update",
      () =>
        client.assistants.update(ASSISTANT, {
          graphId: "agent",
          config: { tags: ["x"] },
          context: { c: 2 },
          metadata: { m: 2 },
          name: "n2",
          description: "d2",
        }),
    ],
    ["assistants.delete", () => client.assistants.delete(ASSISTANT, { deleteThreads: true })],
    [
      "assistants.search",
      () =>
        client.assistants.search({
          graphId: "agent",
          name: "n",
          metadata: { m: 1 },
          limit: 5,
          offset: 5,
          sortBy: "name",
          sortOrder: "asc",
          select: ["assistant_id", "name"],
          includePagination: true,
        }),
    ],
    ["assistants.count", () => client.assistants.count({ metadata: { m: 1 }, graphId: "agent", name: "n" })],
    ["assistants.getVersions", () => client.assistants.getVersions(ASSISTANT, { metadata: { m: 1 }, limit: 3, offset: 1 })],
    ["assistants.setLatest", () => client.assistants.setLatest(ASSISTANT, 2)],

    ["threads.get", () => client.threads.get(THREAD, { include: ["ttl"] })],
    [
      "threads.create",
      () =>
        client.threads.create({
          metadata: { m: 1 },
          threadId: THREAD,
          ifExists: "do_nothing",
          graphId: "agent",
          ttl: 60,
          supersteps: [
            {
              updates: [
                { values: { a: 1 }, asNode: "node" },
                { values: null, command: { resume: 1 }, asNode: "__input__" },
              ],
            },
          ],
        }),
    ],
    ["threads.copy", () => client.threads.copy(THREAD)],
    ["threads.update", () => client.threads.update(THREAD, { metadata: { m: 2 }, ttl: { ttl: 5, strategy: "delete" } })],
    ["threads.update(minimal)", () => client.threads.update(THREAD, { metadata: { m: 2 }, returnMinimal: true })],
    ["threads.delete", () => client.threads.delete(THREAD)],
    ["threads.prune", () => client.threads.prune([THREAD], { strategy: "keep_latest" })],
    [
      "threads.search",
      () =>
        client.threads.search({
          metadata: { m: 1 },
          ids: [THREAD],
          limit: 5,
          offset: 0,
          status: "idle",
          sortBy: "state_updated_at",
          sortOrder: "desc",
          select: ["thread_id", "values"],
          values: { a: 1 },
          extract: { last: "values.messages.-1" },
        }),
    ],
    ["threads.count", () => client.threads.count({ metadata: { m: 1 }, values: { a: 1 }, status: "busy" })],
    ["threads.getState", () => client.threads.getState(THREAD, undefined, { subgraphs: true, select: ["values", "next"] })],
    ["threads.getState(id)", () => client.threads.getState(THREAD, "1ef-checkpoint", { subgraphs: true, select: ["values.messages"] })],
    [
      "threads.getState(checkpoint)",
      () =>
        client.threads.getState(
          THREAD,
          { thread_id: THREAD, checkpoint_ns: "", checkpoint_id: "c1", checkpoint_map: null },
          { subgraphs: true, select: ["tasks"] },
        ),
    ],
    [
      "threads.updateState",
      () =>
        client.threads.updateState(THREAD, {
          values: { a: 1 },
          checkpoint: { thread_id: THREAD, checkpoint_ns: "", checkpoint_id: "c1", checkpoint_map: null },
          checkpointId: "c1",
          asNode: "node",
        }),
    ],
    ["threads.patchState", () => client.threads.patchState(THREAD, { m: 1 })],
    [
      "threads.getHistory",
      () =>
        client.threads.getHistory(THREAD, {
          limit: 3,
          before: { configurable: { checkpoint_id: "c1" } },
          metadata: { m: 1 },
          checkpoint: { checkpoint_ns: "" },
          select: ["values"],
        }),
    ],
    ["threads.joinStream", () => drain(client.threads.joinStream(THREAD, { lastEventId: "-1", streamMode: ["lifecycle", "run_modes"] }))],
    ["threads.joinStream(one mode)", () => drain(client.threads.joinStream(THREAD, { streamMode: "state_update" }))],

    [
      "runs.stream",
      () =>
        drain(
          client.runs.stream(THREAD, "agent", {
            ...fullRun,
            streamMode: ["values", "messages-tuple", "updates"],
            streamSubgraphs: true,
            streamNamespaces: ["", "child"],
          }),
        ),
    ],
    // The SDK's typings hide multitaskStrategy/onCompletion for stateless runs, but it sends whatever it is given.
    ["runs.stream(stateless)", () => drain(client.runs.stream(null, "agent", { ...fullRun, onCompletion: "keep", streamMode: "custom" } as never))],
    ["runs.create", () => client.runs.create(THREAD, ASSISTANT, { ...fullRun, streamMode: ["values"], streamSubgraphs: false })],
    ["runs.create(stateless)", () => client.runs.create(null, "agent", { ...fullRun, onCompletion: "delete" } as never)],
    ["runs.createBatch", () => client.runs.createBatch([{ assistantId: "agent", input: { a: 1 } }, { assistantId: ASSISTANT }])],
    ["runs.wait", () => client.runs.wait(THREAD, "agent", { ...fullRun, raiseError: false })],
    ["runs.wait(stateless)", () => client.runs.wait(null, "agent", { input: { a: 1 }, config: { tags: [] } })],
    ["runs.list", () => client.runs.list(THREAD, { limit: 5, offset: 1, status: "running", select: ["run_id", "status"] })],
    ["runs.get", () => client.runs.get(THREAD, RUN)],
    ["runs.cancel", () => client.runs.cancel(THREAD, RUN, true, "interrupt", { reason: "taken" })],
    ["runs.cancel(no wait)", () => client.runs.cancel(THREAD, RUN)],
    ["runs.cancel(rollback)", () => client.runs.cancel(THREAD, RUN, false, "rollback")],
    ["runs.cancelMany", () => client.runs.cancelMany({ threadId: THREAD, runIds: [RUN], action: "interrupt" })],
    ["runs.cancelMany(status)", () => client.runs.cancelMany({ status: "all", action: "rollback" })],
    ["runs.join", () => client.runs.join(THREAD, RUN, { cancelOnDisconnect: true })],
    [
      "runs.joinStream",
      () =>
        drain(
          client.runs.joinStream(THREAD, RUN, {
            cancelOnDisconnect: true,
            lastEventId: "-1",
            checkpointId: "c1",
            streamMode: ["values", "updates"],
            streamNamespaces: [""],
          }),
        ),
    ],
    ["runs.joinStream(stateless)", () => drain(client.runs.joinStream(null, RUN, { streamMode: "values" }))],
    ["runs.delete", () => client.runs.delete(THREAD, RUN)],

    [
      "crons.createForThread",
      () =>
        client.crons.createForThread(THREAD, "agent", {
          schedule: "*/5 * * * *",
          input: { a: 1 },
          config: { tags: [] },
          context: { c: 1 },
          metadata: { m: 1 },
          interruptBefore: ["a"],
          interruptAfter: "*",
          webhook: "https://example.org/h",
          multitaskStrategy: "enqueue",
          checkpointDuring: false,
          durability: "exit",
          enabled: true,
          timezone: "Europe/Paris",
          streamMode: ["values"],
          streamSubgraphs: true,
          streamResumable: true,
          endTime: "2030-01-01T00:00:00Z",
          onRunCompleted: "keep",
        }),
    ],
    [
      "crons.create",
      () =>
        client.crons.create("agent", {
          schedule: "0 * * * *",
          input: { a: 1 },
          onRunCompleted: "delete",
          enabled: false,
          timezone: "UTC",
          endTime: "2030-01-01T00:00:00Z",
          streamMode: "updates",
          durability: "async",
          metadata: { m: 1 },
        }),
    ],
    [
      "crons.update",
      () =>
        client.crons.update(CRON, {
          schedule: "0 0 * * *",
          timezone: "UTC",
          endTime: null,
          input: { a: 2 },
          metadata: { m: 2 },
          config: { tags: [] },
          context: { c: 2 },
          webhook: "https://example.org/h",
          interruptBefore: "*",
          interruptAfter: ["x"],
          onRunCompleted: "keep",
          enabled: true,
          streamMode: ["values"],
          streamSubgraphs: false,
          streamResumable: false,
          durability: "sync",
        }),
    ],
    ["crons.delete", () => client.crons.delete(CRON)],
    [
      "crons.search",
      () =>
        client.crons.search({
          assistantId: "agent",
          threadId: THREAD,
          enabled: true,
          limit: 5,
          offset: 0,
          sortBy: "next_run_date",
          sortOrder: "asc",
          select: ["cron_id", "schedule", "enabled"],
          metadata: { m: 1 },
        }),
    ],
    ["crons.count", () => client.crons.count({ assistantId: ASSISTANT, threadId: THREAD, metadata: { m: 1 } })],

    ["store.putItem", () => client.store.putItem(["users", "u1"], "k", { v: 1 }, { index: ["v"], ttl: 10 })],
    ["store.putItem(no index)", () => client.store.putItem(["users"], "k", { v: 1 }, { index: false, ttl: null })],
    ["store.getItem", () => client.store.getItem(["users", "u1"], "k", { refreshTtl: true })],
    ["store.deleteItem", () => client.store.deleteItem(["users", "u1"], "k")],
    [
      "store.searchItems",
      () =>
        client.store.searchItems(["users"], {
          filter: { v: 1 },
          limit: 5,
          offset: 0,
          query: "likes tea",
          refreshTtl: false,
        }),
    ],
    ["store.listNamespaces", () => client.store.listNamespaces({ prefix: ["users"], suffix: ["*"], maxDepth: 2, limit: 10, offset: 0 })],
  ];
}

describe("requests of the official SDK client against our contract", () => {
  const log: Recorded[] = [];
  let api: OpenAPIBackend;

  beforeAll(async () => {
    api = await createContractBackend({});
    const current = { call: "" };
    const client = recordingClient(log, current);
    for (const [name, run] of calls(client)) {
      current.call = name;
      await run();
    }
  });

  it("recorded the calls", () => {
    expect(log.length).toBeGreaterThanOrEqual(60);
  });

  it("maps every request to an operation and passes request validation", () => {
    const problems: string[] = [];
    const matched = new Set<string>();
    for (const r of log) {
      const request = { method: r.method, path: r.path, query: r.query, headers: r.headers, body: r.body };
      const operation = api.matchOperation(request);
      if (!operation) {
        problems.push(`${r.call}: ${r.method.toUpperCase()} ${r.path} matches no operation`);
        continue;
      }
      matched.add(operation.operationId ?? "?");
      const result = api.validateRequest(request, operation);
      if (!result.valid) {
        const errors = (result.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("; ");
        problems.push(`${r.call} (${operation.operationId}): ${errors}`);
      }
    }
    console.log(`sdk-requests: ${log.length} SDK requests, ${matched.size} operations exercised`);
    expect(problems).toEqual([]);
  });
});
