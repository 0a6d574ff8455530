/**
 * One refusal, every caller: an Auth whose `threads:create_run` handler refuses a user answers
 * that user the same way whether the run is asked for over REST (created, waited, streamed,
 * batched), as an MCP tool call, as an A2A message, as a thread protocol command or by a cron firing, and nothing is created
 * for the refused run: no run and no thread, even where the request would create its thread.
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { command } from "../support/protocol.js";
import { eventually } from "../support/runs.js";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/run-refusal/langgraph.json");
const REFUSAL = "viewers may not start runs";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: CONFIG, cronSeconds: true });
});
afterAll(() => t?.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const as = (user: string, method: string, pathname: string, body?: unknown) =>
  fetch(`${t.url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${user}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const asViewer = { authorization: "Bearer viewer" };
const rpc = (method: string, params: unknown) => ({ jsonrpc: "2.0", id: 1, method, params });

async function threadsOfEveryone(): Promise<Array<{ thread_id: string }>> {
  return json(await as("alice", "POST", "/threads/search", { limit: 100 }));
}

describe("a run the Auth refuses", () => {
  it("is refused alike over REST, MCP, A2A and the thread protocol, and leaves nothing behind", async () => {
    const run = { assistant_id: "trivial", input: { value: 1 } };
    const onNewThread = `/threads/${crypto.randomUUID()}`;
    const rest = [
      await as("viewer", "POST", "/runs", run),
      await as("viewer", "POST", "/runs/wait", run),
      await as("viewer", "POST", "/runs/stream", run),
      await as("viewer", "POST", "/runs/batch", [run]),
      await as("viewer", "POST", `${onNewThread}/runs`, { ...run, if_not_exists: "create" }),
      await as("viewer", "POST", `${onNewThread}/runs/wait`, { ...run, if_not_exists: "create" }),
      await as("viewer", "POST", `${onNewThread}/runs/stream`, { ...run, if_not_exists: "create" }),
    ];
    for (const res of rest) expect([res.status, await json(res)]).toEqual([403, { detail: REFUSAL }]);

    const tool = await json(await as("viewer", "POST", "/mcp/", rpc("tools/call", { name: "trivial", arguments: { value: 1 } })));
    expect(tool.error).toMatchObject({ message: REFUSAL });

    const message = { kind: "message", role: "user", messageId: crypto.randomUUID(), parts: [{ kind: "data", data: { value: 1 } }] };
    const task = await json(await as("viewer", "POST", "/a2a/trivial", rpc("message/send", { message })));
    expect(task.error).toMatchObject({ message: REFUSAL });

    const started = await command(t.url, crypto.randomUUID(), "run.start", { assistant_id: "trivial", input: { value: 1 } }, asViewer);
    expect(started).toMatchObject({ type: "error", error: "permission_denied", message: REFUSAL });

    expect(await threadsOfEveryone()).toEqual([]);
    // the same requests of a user the Auth lets through do start runs
    const allowed = await json(await as("alice", "POST", "/runs/wait", run));
    expect(allowed).toEqual({ value: 4 });
    const called = await json(await as("alice", "POST", "/mcp/", rpc("tools/call", { name: "trivial", arguments: { value: 1 } })));
    expect(called.result).toMatchObject({ isError: false });
  });

  it("is refused to a cron's firings as to its creator's requests", async () => {
    const cronOn = async (user: string) => {
      const thread = await json(await as(user, "POST", "/threads", {}));
      const cron = await as(user, "POST", `/threads/${thread.thread_id}/runs/crons`, {
        assistant_id: "trivial",
        schedule: "* * * * * *",
        input: { value: 1 },
      });
      expect(cron.status).toBe(200);
      return { threadId: thread.thread_id as string, cronId: (await json(cron)).cron_id as string };
    };
    const runsOf = async (threadId: string) => (await json(await as("alice", "GET", `/threads/${threadId}/runs`))) as unknown[];
    const refused = await cronOn("viewer");
    const allowed = await cronOn("alice");
    // both fire every second: once alice's has fired twice, the viewer's has fired too
    await eventually(async () => ((await runsOf(allowed.threadId)).length >= 2 ? true : undefined), 20_000, "alice's cron to fire twice");
    expect(await runsOf(refused.threadId)).toEqual([]);
    for (const { cronId } of [refused, allowed]) await as("alice", "DELETE", `/runs/crons/${cronId}`);
  });
});
