/**
 * Owner isolation, driven by the contract's operation list: with the canonical LangGraph Auth
 * (test/fixtures/auth/auth.ts: owner metadata + filters, store namespaces prefixed with the user),
 * user B can neither see nor change anything of user A's through any operation, and every
 * non-public operation answers 401 without credentials. An operation added to the contract
 * without a check here fails the test.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@langchain/langgraph-sdk";
import { loadContract } from "../../src/http/contract.js";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";
import { eventually } from "../support/runs.js";
import { expectNotFoundStream } from "../support/streams.js";
import { command, isRootEnd, openEventStream, ProtocolSocketClient, type EventLog } from "../support/protocol.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/auth/langgraph.json");
/** Served without credentials (a graph's UI bundle is no user's data: browsers load it by URL, as on LangGraph servers). */
const PUBLIC = new Set(["healthCheck", "getInfo", "getOpenApiDocument", "getUiAsset"]);

let t: TestServer;

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}

async function call(user: string | null, method: string, route: string, body?: unknown): Promise<Answer> {
  const res = await fetch(t.url + route, {
    method,
    headers: { ...(user ? { Authorization: `Bearer ${user}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // an event stream or plain text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const alice = (method: string, route: string, body?: unknown) => call("alice", method, route, body);
const bob = (method: string, route: string, body?: unknown) => call("bob", method, route, body);

/** What alice owns (created in beforeAll). */
const A = {
  assistant: "",
  thread: "",
  run: "",
  pendingThread: "",
  pendingRun: "",
  statelessRun: "",
  cron: "",
  checkpoint: "",
  protocolThread: "",
  protocolCheckpoint: "",
};

/** The operations of the contract: id, method, path template. */
function contractOperations(): Array<{ id: string; method: string; path: string }> {
  const contract = loadContract() as { paths: Record<string, Record<string, { operationId?: string }>> };
  const ops: Array<{ id: string; method: string; path: string }> = [];
  for (const [route, item] of Object.entries(contract.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (op && typeof op === "object" && op.operationId) ops.push({ id: op.operationId, method: method.toUpperCase(), path: route });
    }
  }
  return ops;
}

const expectMissing = (answer: Answer) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(404);
  expect(JSON.stringify(answer.body)).not.toContain("alice");
};
/** A join of a run he may not see is answered as one of a missing run: one 404 `error` event. */
const expectMissingStream = (answer: Answer) => {
  expectNotFoundStream(answer.status, String(answer.body));
  expect(String(answer.body)).not.toContain("alice");
};

/** Alice's records are as she left them. */
async function aliceUnchanged() {
  const assistant = await alice("GET", `/assistants/${A.assistant}`);
  expect(assistant.status).toBe(200);
  expect(assistant.body).toMatchObject({ name: "mine", metadata: { owner: "alice" }, version: 1 });
  const thread = await alice("GET", `/threads/${A.thread}`);
  expect(thread.status).toBe(200);
  expect(thread.body.metadata).toMatchObject({ owner: "alice", tag: "a" });
  const run = await alice("GET", `/threads/${A.pendingThread}/runs/${A.pendingRun}`);
  expect(run.body.status).toBe("pending");
  const crons = await alice("POST", "/runs/crons/search", {});
  expect(crons.body.map((c: { cron_id: string }) => c.cron_id)).toContain(A.cron);
  const item = await alice("GET", "/store/items?namespace=notes&key=k");
  expect(item.body).toMatchObject({ namespace: ["alice", "notes"], value: { text: "secret" } });
}

/** What bob owns (created in beforeAll). */
const B = { assistant: "" };

async function runOnAlicesThread(route: string) {
  for (const assistantId of [A.assistant, B.assistant, "trivial"]) {
    expectMissing(await bob("POST", `/threads/${A.thread}/${route}`, { assistant_id: assistantId, input: { value: 1 } }));
    expectMissing(
      await bob("POST", `/threads/${A.pendingThread}/${route}`, { assistant_id: assistantId, input: { value: 1 }, multitask_strategy: "interrupt" }),
    );
  }
  // his own assistant works on his own thread: the refusals above are about her thread
  const own = (await bob("POST", "/threads", {})).body.thread_id;
  const mine = await bob("POST", `/threads/${own}/runs/wait`, { assistant_id: B.assistant, input: { value: 1 } });
  expect(mine.status).toBe(200);
}

const asAlice = { Authorization: "Bearer alice" };
const asBob = { Authorization: "Bearer bob" };

/** Alice starts a run on her protocol thread and waits for its end, as she sees it (A.protocolCheckpoint: her thread's head after it). */
async function aliceProtocolRun(): Promise<void> {
  const hers = await openEventStream(t.url, A.protocolThread, { channels: ["lifecycle"] }, asAlice);
  try {
    const before = hers.events.length;
    const started = await command(t.url, A.protocolThread, "run.start", { assistant_id: A.assistant, input: { value: 2 } }, asAlice);
    expect(started.type).toBe("success");
    await hers.until((e) => isRootEnd(e) && e.params.data.run_id === started.result?.run_id);
    expect(hers.events.length).toBeGreaterThan(before);
    const state = await command(t.url, A.protocolThread, "state.get", { namespace: [] }, asAlice);
    A.protocolCheckpoint = (state.result?.checkpoint as { id: string }).id;
  } finally {
    hers.close();
  }
}

/** Bob's protocol commands on alice's thread: each refused, as on a thread that does not exist, and nothing of hers in the answers. */
async function bobCommandsOnAlicesThread(send: (method: string, params: unknown) => Promise<{ type: string; error?: string; message?: string }>) {
  const attempts: Array<[string, unknown]> = [
    ["run.start", { assistant_id: A.assistant, input: { value: 1 } }],
    ["run.start", { assistant_id: "trivial", input: { value: 1 } }],
    ["state.get", { namespace: [] }],
    ["state.listCheckpoints", {}],
    ["state.fork", { checkpoint_id: A.protocolCheckpoint }],
    ["input.respond", { namespace: [], interrupt_id: "x", response: 1 }],
    ["input.inject", { namespace: [], message: { role: "user", content: "hi" } }],
  ];
  for (const [method, params] of attempts) {
    const answer = await send(method, params);
    expect(answer.type, `${method}: ${JSON.stringify(answer)}`).toBe("error");
    expect(JSON.stringify(answer)).not.toContain("alice");
  }
  const state = await command(t.url, A.protocolThread, "state.get", { namespace: [] }, asAlice);
  expect(state.result?.checkpoint).toEqual({ id: A.protocolCheckpoint, ns: "" });
}

/** Bob follows alice's thread while she runs on it: he receives nothing. */
async function bobSeesNothing(stream: EventLog) {
  await aliceProtocolRun();
  expect(stream.events).toEqual([]);
}

/** Bob's view of each operation against alice's data. */
const checks: Record<string, () => Promise<void>> = {
  async createAssistant() {
    // ids are global: taking alice's is a conflict, never her assistant
    const taken = await bob("POST", "/assistants", { assistant_id: A.assistant, graph_id: "trivial", if_exists: "do_nothing" });
    expect(taken.status).toBe(409);
  },
  async searchAssistants() {
    // his own only: none of alice's, none of the graphs' default assistants (owned by nobody)
    const found = await bob("POST", "/assistants/search", { limit: 100 });
    expect(found.body.length).toBeGreaterThan(0);
    expect(found.body.every((a: { metadata: { owner?: string } }) => a.metadata.owner === "bob")).toBe(true);
    expect(found.headers.get("x-pagination-total")).toBe(String(found.body.length));
  },
  async countAssistants() {
    const own = (await bob("POST", "/assistants/search", { limit: 100 })).body.length;
    expect((await bob("POST", "/assistants/count", {})).body).toBe(own);
  },
  getAssistant: async () => expectMissing(await bob("GET", `/assistants/${A.assistant}`)),
  deleteAssistant: async () => expectMissing(await bob("DELETE", `/assistants/${A.assistant}`)),
  patchAssistant: async () => expectMissing(await bob("PATCH", `/assistants/${A.assistant}`, { name: "stolen" })),
  getAssistantGraph: async () => expectMissing(await bob("GET", `/assistants/${A.assistant}/graph`)),
  getAssistantSubgraphs: async () => expectMissing(await bob("GET", `/assistants/${A.assistant}/subgraphs`)),
  getAssistantSubgraphsByNamespace: async () => expectMissing(await bob("GET", `/assistants/${A.assistant}/subgraphs/x`)),
  getAssistantSchemas: async () => expectMissing(await bob("GET", `/assistants/${A.assistant}/schemas`)),
  searchAssistantVersions: async () => expectMissing(await bob("POST", `/assistants/${A.assistant}/versions`, {})),
  setLatestAssistantVersion: async () => expectMissing(await bob("POST", `/assistants/${A.assistant}/latest`, { version: 1 })),

  async createThread() {
    expect((await bob("POST", "/threads", { thread_id: A.thread, if_exists: "do_nothing" })).status).toBe(409);
  },
  async searchThreads() {
    const found = await bob("POST", "/threads/search", { limit: 100, ids: [A.thread, A.pendingThread] });
    expect(found.body).toEqual([]);
    expect(found.headers.get("x-pagination-total")).toBe("0");
    expect((await bob("POST", "/threads/search", { metadata: { tag: "a" } })).body).toEqual([]);
  },
  async countThreads() {
    expect((await bob("POST", "/threads/count", {})).body).toBe(0);
  },
  async pruneThreads() {
    const pruned = await bob("POST", "/threads/prune", { thread_ids: [A.thread], strategy: "delete" });
    expect(pruned.body).toEqual({ pruned_count: 0 });
  },
  getThread: async () => expectMissing(await bob("GET", `/threads/${A.thread}`)),
  patchThread: async () => expectMissing(await bob("PATCH", `/threads/${A.thread}`, { metadata: { tag: "b" } })),
  deleteThread: async () => expectMissing(await bob("DELETE", `/threads/${A.thread}`)),
  copyThread: async () => expectMissing(await bob("POST", `/threads/${A.thread}/copy`)),
  getThreadState: async () => expectMissing(await bob("GET", `/threads/${A.thread}/state`)),
  updateThreadState: async () => expectMissing(await bob("POST", `/threads/${A.thread}/state`, { values: { value: 100 } })),
  patchThreadState: async () => expectMissing(await bob("PATCH", `/threads/${A.thread}/state`, { metadata: { x: 1 } })),
  postThreadStateAtCheckpoint: async () =>
    expectMissing(await bob("POST", `/threads/${A.thread}/state/checkpoint`, { checkpoint: { checkpoint_id: A.checkpoint } })),
  getThreadStateAtCheckpoint: async () => expectMissing(await bob("GET", `/threads/${A.thread}/state/${A.checkpoint}`)),
  getThreadHistory: async () => expectMissing(await bob("GET", `/threads/${A.thread}/history`)),
  searchThreadHistory: async () => expectMissing(await bob("POST", `/threads/${A.thread}/history`, {})),
  joinThreadStream: async () => expectMissing(await bob("GET", `/threads/${A.thread}/stream`)),
  sendThreadCommand: async () => bobCommandsOnAlicesThread((method, params) => command(t.url, A.protocolThread, method, params, asBob)),
  async streamThreadEvents() {
    const his = await openEventStream(t.url, A.protocolThread, { channels: ["lifecycle", "values", "messages", "checkpoints"], since: 0 }, asBob);
    try {
      expect(his.status).toBe(200);
      await bobSeesNothing(his);
    } finally {
      his.close();
    }
  },
  async openThreadEventSocket() {
    const his = await ProtocolSocketClient.open(t.url, A.protocolThread, asBob);
    try {
      expect(await his.send("subscription.subscribe", { channels: ["lifecycle", "values", "messages"] })).toMatchObject({ type: "success" });
      await bobCommandsOnAlicesThread((method, params) => his.send(method, params));
      await bobSeesNothing(his);
    } finally {
      his.close();
    }
    // no socket without credentials
    await expect(ProtocolSocketClient.open(t.url, A.protocolThread)).rejects.toMatchObject({ status: 401 });
  },

  listRuns: async () => expectMissing(await bob("GET", `/threads/${A.thread}/runs`)),
  // with alice's assistant, with his own and with a graph id: her thread is missing for him either way
  createRun: async () => runOnAlicesThread("runs"),
  streamRun: async () => runOnAlicesThread("runs/stream"),
  waitRun: async () => runOnAlicesThread("runs/wait"),
  getRun: async () => expectMissing(await bob("GET", `/threads/${A.thread}/runs/${A.run}`)),
  deleteRun: async () => expectMissing(await bob("DELETE", `/threads/${A.thread}/runs/${A.run}`)),
  joinRun: async () => expectMissing(await bob("GET", `/threads/${A.thread}/runs/${A.run}/join`)),
  joinRunStream: async () => expectMissingStream(await bob("GET", `/threads/${A.thread}/runs/${A.run}/stream`)),
  cancelRun: async () => expectMissing(await bob("POST", `/threads/${A.pendingThread}/runs/${A.pendingRun}/cancel`)),
  async cancelRuns() {
    expectMissing(await bob("POST", "/runs/cancel", { thread_id: A.pendingThread }));
    // cancelling "everything" reaches only bob's own runs
    expect((await bob("POST", "/runs/cancel", { status: "all" })).status).toBe(204);
  },
  createStatelessRun: async () => expectMissing(await bob("POST", "/runs", { assistant_id: A.assistant })),
  streamStatelessRun: async () => expectMissing(await bob("POST", "/runs/stream", { assistant_id: A.assistant })),
  waitStatelessRun: async () => expectMissing(await bob("POST", "/runs/wait", { assistant_id: A.assistant })),
  createRunBatch: async () => expectMissing(await bob("POST", "/runs/batch", [{ assistant_id: A.assistant }])),
  joinStatelessRunStream: async () => expectMissingStream(await bob("GET", `/runs/${A.statelessRun}/stream`)),

  createThreadCron: async () =>
    expectMissing(await bob("POST", `/threads/${A.thread}/runs/crons`, { assistant_id: "trivial", schedule: "0 0 1 1 *" })),
  createCron: async () => expectMissing(await bob("POST", "/runs/crons", { assistant_id: A.assistant, schedule: "0 0 1 1 *" })),
  async searchCrons() {
    expect((await bob("POST", "/runs/crons/search", {})).body).toEqual([]);
  },
  async countCrons() {
    expect((await bob("POST", "/runs/crons/count", {})).body).toBe(0);
  },
  updateCron: async () => expectMissing(await bob("PATCH", `/runs/crons/${A.cron}`, { schedule: "* * * * *" })),
  deleteCron: async () => expectMissing(await bob("DELETE", `/runs/crons/${A.cron}`)),

  async putStoreItem() {
    // the handler puts bob's writes under his own namespace, whatever he names
    expect((await bob("PUT", "/store/items", { namespace: ["notes"], key: "k", value: { text: "bob's" } })).status).toBe(204);
    expect((await bob("PUT", "/store/items", { namespace: ["alice", "notes"], key: "k", value: { text: "x" } })).status).toBe(204);
  },
  async getStoreItem() {
    // alice's item is out of reach: the namespace bob names is read under his own
    expect((await bob("GET", "/store/items?namespace=notes&key=k")).body?.value?.text).not.toBe("secret");
    expect((await bob("GET", "/store/items?namespace=alice.notes&key=k")).body?.value?.text).not.toBe("secret");
    await bob("PUT", "/store/items", { namespace: ["mine"], key: "k", value: { text: "bob's" } });
    expect((await bob("GET", "/store/items?namespace=mine&key=k")).body).toMatchObject({ namespace: ["bob", "mine"], value: { text: "bob's" } });
  },
  async deleteStoreItem() {
    expect((await bob("DELETE", "/store/items", { namespace: ["alice", "notes"], key: "k" })).status).toBe(204);
    expect((await bob("DELETE", "/store/items", { namespace: ["notes"], key: "k" })).status).toBe(204);
  },
  async searchStoreItems() {
    // searches are not confined to the searcher's namespace (see the fixture): only the filter of the search handler keeps alice's items out
    const found = await bob("POST", "/store/items/search", { namespace_prefix: [] });
    expect(found.body.items.every((i: { namespace: string[] }) => i.namespace[0] === "bob")).toBe(true);
    expect((await bob("POST", "/store/items/search", { namespace_prefix: ["alice"] })).body.items).toEqual([]);
    const hers = await alice("POST", "/store/items/search", { namespace_prefix: ["alice"] });
    expect(hers.body.items).toEqual([expect.objectContaining({ namespace: ["alice", "notes"], key: "k" })]);
  },
  async listStoreNamespaces() {
    const listed = await bob("POST", "/store/namespaces", {});
    expect(listed.body.namespaces.every((ns: string[]) => ns[0] === "bob")).toBe(true);
  },

  async postMcp() {
    const tools = await bob("POST", "/mcp/", { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(JSON.stringify(tools.body)).not.toContain(A.assistant);
    const called = await bob("POST", "/mcp/", { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: A.assistant, arguments: {} } });
    expect(called.body.error).toBeDefined();
  },
  async getMcp() {
    expect((await bob("GET", "/mcp/")).status).toBe(405); // no stream: nothing of anyone's
  },
  async deleteMcp() {
    expect((await bob("DELETE", "/mcp/")).status).toBe(404); // no sessions
  },
  async postA2a() {
    const sent = await bob("POST", `/a2a/${A.assistant}`, { jsonrpc: "2.0", id: 1, method: "tasks/get", params: { id: A.run } });
    expect(sent.status).toBe(404);
    // through his own assistant, alice's run is no task of his
    const mine = (await bob("POST", "/assistants", { graph_id: "trivial" })).body.assistant_id;
    const own = await bob("POST", `/a2a/${mine}`, { jsonrpc: "2.0", id: 2, method: "tasks/get", params: { id: A.run } });
    expect(own.body.error).toBeDefined();
    expect(JSON.stringify(own.body)).not.toContain("alice");
  },
  getA2aAgentCard: async () => expectMissing(await bob("GET", `/.well-known/agent-card.json?assistant_id=${A.assistant}`)),

  // LoadExternalComponent may name an assistant: bob's request for alice's finds no components
  getUiComponent: async () => expectMissing(await bob("POST", `/ui/${A.assistant}`, { name: "any" })),
  getUiAsset: async () => expectMissing(await bob("GET", `/ui/${A.assistant}/entrypoint.js`)),

  async getMetrics() {
    expect((await bob("GET", "/metrics")).status).toBe(200); // aggregate counters, no records
  },
  async listProcesses() {
    // alice's run executes on this process: she sees it there, bob sees the process without it
    const thread = (await alice("POST", "/threads", {})).body.thread_id;
    const run = (await alice("POST", `/threads/${thread}/runs`, { assistant_id: "slow", input: { steps: 1, delay_ms: 60_000 } })).body.run_id;
    const runIds = (answer: Answer) => answer.body.processes.flatMap((p: { runs: Array<{ run_id: string }> }) => p.runs.map((r) => r.run_id));
    await eventually(async () => (runIds(await alice("GET", "/processes")).includes(run) ? true : undefined), 10_000, "alice's run listed");
    const seen = await bob("GET", "/processes");
    expect(seen.status).toBe(200);
    expect(seen.body.processes).toMatchObject([{ current: true }]);
    expect(runIds(seen)).not.toContain(run);
    expect(JSON.stringify(seen.body)).not.toContain(thread);
    expect((await alice("POST", `/threads/${thread}/runs/${run}/cancel?wait=1`)).status).toBe(204);
  },
  async healthCheck() {
    expect((await call(null, "GET", "/ok")).status).toBe(200);
  },
  async getInfo() {
    expect((await call(null, "GET", "/info")).status).toBe(200);
  },
  async getOpenApiDocument() {
    expect((await call(null, "GET", "/openapi.json")).status).toBe(200);
  },
};

beforeAll(async () => {
  t = await startTestServer({ configPath: CONFIG });
  const client = new Client({ apiUrl: t.url, defaultHeaders: { Authorization: "Bearer alice" } });
  A.assistant = (await client.assistants.create({ graphId: "trivial", name: "mine" })).assistant_id;
  A.thread = (await client.threads.create({ metadata: { tag: "a" } })).thread_id;
  await client.runs.wait(A.thread, A.assistant, { input: { value: 1 } });
  A.run = (await client.runs.list(A.thread))[0].run_id;
  A.checkpoint = (await client.threads.getState(A.thread)).checkpoint.checkpoint_id!;
  A.pendingThread = (await client.threads.create()).thread_id;
  A.pendingRun = (await client.runs.create(A.pendingThread, A.assistant, { input: { value: 1 }, afterSeconds: 3600 })).run_id;
  A.statelessRun = (await client.runs.create(null, A.assistant, { input: { value: 1 }, afterSeconds: 3600 })).run_id;
  A.cron = (await client.crons.createForThread(A.thread, A.assistant, { schedule: "0 0 1 1 *" })).cron_id;
  await client.store.putItem(["notes"], "k", { text: "secret" });
  A.protocolThread = crypto.randomUUID();
  await aliceProtocolRun();
  B.assistant = (await bob("POST", "/assistants", { graph_id: "trivial", name: "his" })).body.assistant_id;
}, 60_000);

afterAll(async () => {
  await t?.dispose();
});

describe("owner isolation over every operation of the contract", () => {
  const operations = contractOperations();

  it("has a check for every operation", () => {
    expect(operations.map((op) => op.id).filter((id) => !(id in checks))).toEqual([]);
  });

  it.each(operations.map((op) => [op.id, op] as const))("%s: bob cannot see or change alice's data", async (id) => {
    await checks[id]();
    await aliceUnchanged();
  });

  it.each(operations.filter((op) => !PUBLIC.has(op.id)).map((op) => [op.id, op] as const))("%s answers 401 without credentials", async (_id, op) => {
    const route = op.path.replace(/\{[^}]+\}/g, "x");
    const answer = await call(null, op.method, route, op.method === "GET" || op.method === "DELETE" ? undefined : {});
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ detail: "Missing token" });
  });

  it("breaks no response contract", () => {
    expect(t.violations).toEqual([]);
  });
});
