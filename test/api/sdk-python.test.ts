/**
 * Requests exactly as the Python SDK (`langgraph-sdk`, sync and async clients) sends them, for
 * every client method, against a real server. PyPI is unreachable from this project's CI, so the
 * SDK cannot run here: each request is rebuilt as raw HTTP from the SDK's source
 * (libs/sdk-py/langgraph_sdk/_sync and _async in langchain-ai/langgraph), with httpx's encoding:
 * a None query value is sent as an empty value (`stream_mode=`), booleans as `true`/`false`,
 * lists as repeated keys; JSON bodies are the payload after the SDK's own None filtering.
 * The sync and async clients send the same requests except where a test says otherwise.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SCHEMA_DERIVING_TIMEOUT_MS, startTestServer, type TestServer } from "../support/server.js";
import { RUNS_CONFIG } from "../support/runs.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: RUNS_CONFIG });
});
afterAll(() => t?.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

type QueryValue = string | number | boolean | null | Array<string | number | boolean>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** httpx's query encoding of a params dict. */
function httpxQuery(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  const text = (v: string | number | boolean | null) => (v === null ? "" : typeof v === "boolean" ? String(v) : String(v));
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, text(item));
  }
  const query = search.toString();
  return query ? `?${query}` : "";
}

interface PyAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

/** One request as the Python SDK's http client sends it (`json` is already None-filtered, as the SDK does). */
async function py(
  method: string,
  route: string,
  options: { params?: Record<string, QueryValue>; json?: unknown; headers?: Record<string, string> } = {},
): Promise<PyAnswer> {
  const hasBody = options.json !== undefined;
  const res = await fetch(t.url + route + httpxQuery(options.params ?? {}), {
    method,
    headers: { ...(hasBody ? { "Content-Type": "application/json" } : {}), ...options.headers },
    ...(hasBody ? { body: JSON.stringify(options.json) } : {}),
  });
  const text = await res.text();
  let body: Json = text;
  if ((res.headers.get("content-type") ?? "").includes("json") && text.trim()) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, body };
}

const ok = (answer: PyAnswer) => {
  expect(answer.status, answer.text).toBeLessThan(300);
  return answer.body;
};

/** The Python SDK's `runs.wait` payload: its defaults, None values dropped. */
const waitPayload = (assistantId: string, extra: Record<string, unknown>, sync: boolean) => ({
  assistant_id: assistantId,
  ...extra,
  ...(sync ? { raise_error: true } : {}),
});

async function pausedThread(): Promise<string> {
  const thread = ok(await py("POST", "/threads", { json: {} }));
  ok(await py("POST", `/threads/${thread.thread_id}/runs/wait`, { json: waitPayload("interrupt", { input: { topic: "cats" } }, true) }));
  return thread.thread_id;
}

describe("runs, as the Python SDK sends them", () => {
  it.each([
    ["sync", true],
    ["async", false],
  ])("runs.wait (%s client) on a thread and stateless", async (_client, sync) => {
    const thread = ok(await py("POST", "/threads", { json: {} }));
    const result = ok(
      await py("POST", `/threads/${thread.thread_id}/runs/wait`, {
        json: waitPayload(
          "trivial",
          {
            input: { value: 1 },
            config: { tags: ["py"] },
            metadata: { m: 1 },
            multitask_strategy: "reject",
            if_not_exists: "reject",
            on_disconnect: "cancel",
            durability: "sync",
          },
          sync,
        ),
      }),
    );
    expect(result).toEqual({ value: 4 });
    const stateless = ok(await py("POST", "/runs/wait", { json: waitPayload("trivial", { input: { value: 2 }, on_completion: "delete" }, sync) }));
    expect(stateless).toEqual({ value: 5 });
  });

  it("runs.wait of a failing run answers 200 with __error__, whatever raise_error says (the clients raise)", async () => {
    for (const raise of [true, false]) {
      const answer = await py("POST", "/runs/wait", { json: { assistant_id: "failing", input: { message: "boom" }, raise_error: raise } });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ __error__: { error: "ExampleFailure", message: "boom" } });
    }
  });

  it("runs.stream and runs.create with their defaults (stream_mode 'values', stream_subgraphs and stream_resumable false)", async () => {
    const thread = ok(await py("POST", "/threads", { json: {} }));
    const defaults = { stream_mode: "values", stream_subgraphs: false, stream_resumable: false };
    const stream = await py("POST", `/threads/${thread.thread_id}/runs/stream`, {
      json: { input: { value: 1 }, ...defaults, assistant_id: "trivial" },
    });
    expect(stream.status).toBe(200);
    expect(stream.text).toContain("event: values");
    const statelessStream = await py("POST", "/runs/stream", {
      json: { input: { value: 1 }, ...defaults, assistant_id: "trivial", on_completion: "keep", after_seconds: 0 },
    });
    expect(statelessStream.text).toContain('"value":4');
    const run = ok(
      await py("POST", `/threads/${thread.thread_id}/runs`, {
        json: { input: { value: 1 }, ...defaults, assistant_id: "trivial", checkpoint_during: true },
      }),
    );
    expect(run.status).toBe("pending");
    const statelessRun = ok(
      await py("POST", "/runs", { json: { input: { value: 1 }, ...defaults, assistant_id: "trivial", on_completion: "delete" } }),
    );
    expect(statelessRun.run_id).toBeDefined();
    const batch = ok(
      await py("POST", "/runs/batch", {
        json: [
          { assistant_id: "trivial", input: { value: 1 } },
          { assistant_id: "trivial", input: { value: 2 }, stream_mode: ["values"] },
        ],
      }),
    );
    expect(batch).toHaveLength(2);
  });

  it("runs.list, get, join, join_stream (default arguments: stream_mode=), cancel, cancel_many, delete", async () => {
    const thread = ok(await py("POST", "/threads", { json: {} }));
    const run = ok(
      await py("POST", `/threads/${thread.thread_id}/runs`, {
        json: { input: { value: 1 }, stream_mode: "values", stream_subgraphs: false, stream_resumable: false, assistant_id: "trivial" },
      }),
    );
    const base = `/threads/${thread.thread_id}/runs`;
    expect(ok(await py("GET", `${base}/${run.run_id}/join`))).toEqual({ value: 4 });
    const listed = ok(await py("GET", base, { params: { limit: 10, offset: 0, status: "success", select: ["run_id", "status"] } }));
    expect(listed).toEqual([{ run_id: run.run_id, status: "success" }]);
    expect(ok(await py("GET", `${base}/${run.run_id}`)).status).toBe("success");
    // join_stream(thread_id, run_id): stream_mode None and cancel_on_disconnect False
    const joined = await py("GET", `${base}/${run.run_id}/stream`, { params: { stream_mode: null, cancel_on_disconnect: false } });
    expect(joined.status, joined.text).toBe(200);
    const chosen = await py("GET", `${base}/${run.run_id}/stream`, { params: { stream_mode: ["values", "updates"], cancel_on_disconnect: true } });
    expect(chosen.status, chosen.text).toBe(200);

    const slow = ok(
      await py("POST", base, {
        json: { input: { steps: 50, delay_ms: 100 }, stream_mode: "values", stream_subgraphs: false, stream_resumable: false, assistant_id: "slow" },
      }),
    );
    expect((await py("POST", `${base}/${slow.run_id}/cancel`, { params: { wait: 1, action: "interrupt" } })).status).toBe(204);
    const pending = ok(
      await py("POST", base, {
        json: {
          input: { value: 1 },
          stream_mode: "values",
          stream_subgraphs: false,
          stream_resumable: false,
          assistant_id: "trivial",
          after_seconds: 3600,
        },
      }),
    );
    expect((await py("POST", `${base}/${pending.run_id}/cancel`, { params: { wait: 0, action: "interrupt" } })).status).toBe(202);
    expect(
      (await py("POST", "/runs/cancel", { json: { thread_id: thread.thread_id, run_ids: [pending.run_id] }, params: { action: "interrupt" } }))
        .status,
    ).toBe(204);
    expect((await py("POST", "/runs/cancel", { json: { status: "pending" }, params: { action: "interrupt" } })).status).toBe(204);
    expect((await py("DELETE", `${base}/${run.run_id}`)).status).toBe(204);
  });

  it("resumes an interrupt with a command beside an empty input, and refuses a real input beside one", async () => {
    const threadId = await pausedThread();
    const refused = await py("POST", `/threads/${threadId}/runs/wait`, {
      json: { assistant_id: "interrupt", input: { topic: "dogs" }, command: { resume: "no" } },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toMatch(/^body\.input: give either input or command/);
    const resumed = ok(
      await py("POST", `/threads/${threadId}/runs/wait`, { json: waitPayload("interrupt", { input: {}, command: { resume: "approved" } }, true) }),
    );
    expect(resumed.result).toBe("Draft about cats (approved)");
  });
});

describe("threads, as the Python SDK sends them", () => {
  it("create (supersteps with command None, ttl as a number), get (include), update (Prefer: return=minimal), search, count, copy, prune, delete", async () => {
    const created = ok(
      await py("POST", "/threads", {
        json: {
          metadata: { m: 1, graph_id: "trivial" },
          if_exists: "raise",
          supersteps: [{ updates: [{ values: { value: 1 }, command: null, as_node: "a" }] }],
          ttl: { ttl: 60, strategy: "delete" },
        },
      }),
    );
    const id = created.thread_id;
    expect(ok(await py("GET", `/threads/${id}`, { params: { include: "ttl" } })).ttl).toMatchObject({ ttl: 60, strategy: "delete" });
    expect((await py("PATCH", `/threads/${id}`, { json: { metadata: { m: 2 } }, headers: { Prefer: "return=minimal" } })).status).toBe(204);
    expect(ok(await py("PATCH", `/threads/${id}`, { json: { metadata: { m: 3 }, ttl: { ttl: 30, strategy: "delete" } } })).metadata.m).toBe(3);
    const found = ok(
      await py("POST", "/threads/search", {
        json: {
          limit: 10,
          offset: 0,
          metadata: { m: 3 },
          ids: [id],
          status: "idle",
          sort_by: "created_at",
          sort_order: "desc",
          select: ["thread_id"],
          extract: { v: "values.value" },
        },
      }),
    );
    expect(found).toEqual([{ thread_id: id, extracted: { v: 1 } }]);
    expect(ok(await py("POST", "/threads/count", { json: { metadata: { m: 3 } } }))).toBe(1);
    const copy = ok(await py("POST", `/threads/${id}/copy`));
    expect(copy.thread_id).not.toBe(id);
    expect(ok(await py("POST", "/threads/prune", { json: { thread_ids: [copy.thread_id] } }))).toEqual({ pruned_count: 1 });
    expect(ok(await py("POST", "/threads/prune", { json: { thread_ids: [], strategy: "keep_latest" } }))).toEqual({ pruned_count: 0 });
    expect((await py("DELETE", `/threads/${id}`)).status).toBe(204);
  });

  it("get_state (subgraphs=false; by checkpoint id; by checkpoint), update_state, get_history (before as an id or a checkpoint)", async () => {
    const threadId = await pausedThread();
    const state = ok(await py("GET", `/threads/${threadId}/state`, { params: { subgraphs: false } }));
    const checkpointId = state.checkpoint.checkpoint_id;
    expect(ok(await py("GET", `/threads/${threadId}/state/${checkpointId}`, { params: { subgraphs: false } })).checkpoint.checkpoint_id).toBe(
      checkpointId,
    );
    const atCheckpoint = ok(
      await py("POST", `/threads/${threadId}/state/checkpoint`, {
        json: { checkpoint: { checkpoint_id: checkpointId, checkpoint_ns: "" }, subgraphs: true },
      }),
    );
    expect(atCheckpoint.checkpoint.checkpoint_id).toBe(checkpointId);

    const history = ok(await py("POST", `/threads/${threadId}/history`, { json: { limit: 10 } }));
    const older = ok(await py("POST", `/threads/${threadId}/history`, { json: { limit: 10, before: checkpointId } }));
    expect(older.map((s: Json) => s.checkpoint.checkpoint_id)).toEqual(history.slice(1).map((s: Json) => s.checkpoint.checkpoint_id));
    const asCheckpoint = ok(
      await py("POST", `/threads/${threadId}/history`, {
        json: {
          limit: 10,
          before: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: checkpointId },
          metadata: { source: "loop" },
          checkpoint: { checkpoint_ns: "" },
        },
      }),
    );
    expect(asCheckpoint.length).toBeGreaterThan(0);
    expect(asCheckpoint.every((s: Json) => s.checkpoint.checkpoint_id !== checkpointId)).toBe(true);

    const updated = ok(
      await py("POST", `/threads/${threadId}/state`, { json: { values: { topic: "dogs" }, checkpoint_id: checkpointId, as_node: "write_draft" } }),
    );
    expect(updated.checkpoint.checkpoint_id).toBeDefined();
    // update_state(thread_id, None, as_node=...) always sends "values", here null: the node ran without writes
    ok(await py("POST", `/threads/${threadId}/state`, { json: { values: null, as_node: "ask_human" } }));
    expect(ok(await py("GET", `/threads/${threadId}/state`, { params: { subgraphs: false } })).next).toEqual(["finish"]);
  });

  it("join_stream with its default stream_mode 'run_modes'", async () => {
    const thread = ok(await py("POST", "/threads", { json: {} }));
    const controller = new AbortController();
    const res = await fetch(`${t.url}/threads/${thread.thread_id}/stream${httpxQuery({ stream_mode: "run_modes" })}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    controller.abort();
  });
});

describe("assistants, crons and store, as the Python SDK sends them", () => {
  // get_schemas derives schemas from TypeScript types: the budget of such tests
  it(
    "assistants: create, get, get_graph (xray=false), get_schemas, get_subgraphs (recurse=false), update, search, count, get_versions, set_latest, delete",
    { timeout: SCHEMA_DERIVING_TIMEOUT_MS },
    async () => {
      const created = ok(
        await py("POST", "/assistants", {
          json: {
            graph_id: "trivial",
            config: { tags: ["x"] },
            context: { c: 1 },
            metadata: { py: 1 },
            if_exists: "raise",
            name: "py",
            description: "d",
          },
        }),
      );
      const id = created.assistant_id;
      expect(ok(await py("GET", `/assistants/${id}`)).name).toBe("py");
      expect(ok(await py("GET", `/assistants/${id}/graph`, { params: { xray: false } })).nodes.length).toBeGreaterThan(0);
      ok(await py("GET", `/assistants/${id}/graph`, { params: { xray: 1 } }));
      ok(await py("GET", `/assistants/${id}/schemas`));
      ok(await py("GET", `/assistants/${id}/subgraphs`, { params: { recurse: false } }));
      ok(await py("PATCH", `/assistants/${id}`, { json: { graph_id: "trivial", config: {}, context: {}, metadata: { py: 2 }, name: "py2" } }));
      const found = ok(
        await py("POST", "/assistants/search", {
          json: {
            limit: 10,
            offset: 0,
            metadata: { py: 2 },
            graph_id: "trivial",
            name: "py2",
            sort_by: "created_at",
            sort_order: "desc",
            select: ["assistant_id"],
          },
        }),
      );
      expect(found).toEqual([{ assistant_id: id }]);
      // search(response_format="object") reads the next page's offset from X-Pagination-Next
      const page = await py("POST", "/assistants/search", { json: { limit: 1, offset: 0 } });
      expect(page.headers.get("x-pagination-next")).toBe("1");
      expect(ok(await py("POST", "/assistants/count", { json: { metadata: { py: 2 }, graph_id: "trivial", name: "py2" } }))).toBe(1);
      expect(ok(await py("POST", `/assistants/${id}/versions`, { json: { limit: 10, offset: 0, metadata: { py: 2 } } }))).toHaveLength(1);
      ok(await py("POST", `/assistants/${id}/latest`, { json: { version: 1 } }));
      expect((await py("DELETE", `/assistants/${id}`, { params: { delete_threads: true } })).status).toBe(204);
    },
  );

  it("crons: create_for_thread, create, update (end_time None), search, count, delete", async () => {
    const thread = ok(await py("POST", "/threads", { json: {} }));
    const forThread = ok(
      await py("POST", `/threads/${thread.thread_id}/runs/crons`, {
        json: {
          schedule: "0 0 1 1 *",
          input: { value: 1 },
          config: { tags: [] },
          metadata: { m: 1 },
          assistant_id: "trivial",
          webhook: "https://example.org/h",
          multitask_strategy: "enqueue",
          end_time: "2030-01-01T00:00:00+00:00",
          enabled: true,
          timezone: "Europe/Paris",
          stream_mode: "values",
          stream_subgraphs: false,
          stream_resumable: false,
          durability: "async",
        },
      }),
    );
    const stateless = ok(
      await py("POST", "/runs/crons", {
        json: { schedule: "0 0 1 1 *", input: { value: 1 }, assistant_id: "trivial", on_run_completed: "keep", enabled: false, timezone: "UTC" },
      }),
    );
    ok(await py("PATCH", `/runs/crons/${stateless.cron_id}`, { json: { schedule: "0 1 1 1 *", metadata: { m: 2 }, enabled: true, end_time: null } }));
    const found = ok(
      await py("POST", "/runs/crons/search", {
        json: {
          assistant_id: "trivial",
          thread_id: thread.thread_id,
          enabled: true,
          limit: 10,
          offset: 0,
          metadata: { m: 1 },
          sort_by: "created_at",
          sort_order: "desc",
          select: ["cron_id"],
        },
      }),
    );
    expect(found).toEqual([{ cron_id: forThread.cron_id }]);
    expect(ok(await py("POST", "/runs/crons/count", { json: { assistant_id: "trivial", thread_id: thread.thread_id } }))).toBe(1);
    expect((await py("DELETE", `/runs/crons/${forThread.cron_id}`)).status).toBe(204);
    expect((await py("DELETE", `/runs/crons/${stateless.cron_id}`)).status).toBe(204);
  });

  it("store: put_item, get_item (dot-joined namespace, refresh_ttl), search_items, list_namespaces, delete_item (DELETE with a body)", async () => {
    expect((await py("PUT", "/store/items", { json: { namespace: ["py", "u1"], key: "k", value: { v: 1 }, index: false } })).status).toBe(204);
    expect(ok(await py("GET", "/store/items", { params: { key: "k", namespace: "py.u1", refresh_ttl: true } })).value).toEqual({ v: 1 });
    const found = ok(await py("POST", "/store/items/search", { json: { namespace_prefix: ["py"], filter: { v: 1 }, limit: 10, offset: 0 } }));
    expect(found.items).toHaveLength(1);
    expect(ok(await py("POST", "/store/namespaces", { json: { prefix: ["py"], limit: 100, offset: 0 } })).namespaces).toEqual([["py", "u1"]]);
    expect((await py("DELETE", "/store/items", { json: { key: "k", namespace: ["py", "u1"] } })).status).toBe(204);
  });
});
