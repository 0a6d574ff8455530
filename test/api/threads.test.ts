import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/runs.js";
import { json, startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

describe("threads", () => {
  it("creates with a chosen id, gets, patches metadata and deletes", async () => {
    const threadId = crypto.randomUUID();
    const thread = await t.client.threads.create({ threadId, metadata: { a: 1 }, graphId: "agent" });
    expect(thread).toMatchObject({ thread_id: threadId, status: "idle", metadata: { a: 1, graph_id: "agent" } });
    expect(await t.client.threads.get(threadId)).toEqual(thread);

    const patched = await t.client.threads.update(threadId, { metadata: { b: 2 } });
    expect(patched.metadata).toEqual({ a: 1, b: 2, graph_id: "agent" });
    expect(Date.parse(patched.updated_at)).toBeGreaterThanOrEqual(Date.parse(thread.updated_at));

    await t.client.threads.delete(threadId);
    await expect(t.client.threads.get(threadId)).rejects.toMatchObject({ status: 404 });
    await expect(t.client.threads.delete(threadId)).rejects.toMatchObject({ status: 404 });
  });

  it("honours if_exists", async () => {
    const threadId = crypto.randomUUID();
    await t.client.threads.create({ threadId, metadata: { first: true } });
    await expect(t.client.threads.create({ threadId })).rejects.toMatchObject({ status: 409 });
    const same = await t.client.threads.create({ threadId, ifExists: "do_nothing", metadata: { first: false } });
    expect(same.metadata).toEqual({ first: true });
  });

  it("searches by ids, metadata and status with sorting, paging and select; counts", async () => {
    const tag = crypto.randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await t.client.threads.create({ metadata: { tag, i } })).thread_id);

    const newestFirst = await t.client.threads.search({ metadata: { tag } });
    expect(newestFirst.map((x) => x.thread_id)).toEqual([...ids].reverse());
    const oldestFirst = await t.client.threads.search({ metadata: { tag }, sortBy: "created_at", sortOrder: "asc", limit: 2 });
    expect(oldestFirst.map((x) => x.thread_id)).toEqual(ids.slice(0, 2));
    const skipped = await t.client.threads.search({ metadata: { tag }, sortBy: "created_at", sortOrder: "asc", offset: 2 });
    expect(skipped.map((x) => x.thread_id)).toEqual(ids.slice(2));

    expect((await t.client.threads.search({ ids: [ids[1]] })).map((x) => x.thread_id)).toEqual([ids[1]]);
    expect(await t.client.threads.search({ metadata: { tag }, status: "busy" })).toEqual([]);
    const picked = await t.client.threads.search({ metadata: { tag, i: 0 }, select: ["thread_id", "status"] });
    expect(picked).toEqual([{ thread_id: ids[0], status: "idle" }]);

    expect(await t.client.threads.count({ metadata: { tag } })).toBe(3);
    expect(await t.client.threads.count({ metadata: { tag }, status: "idle" })).toBe(3);
    expect(await t.client.threads.count({ metadata: { tag }, status: "error" })).toBe(0);
  });

  it("copies a thread under a new id", async () => {
    const source = await t.client.threads.create({ metadata: { copied: "yes" } });
    const copy = await t.client.threads.copy(source.thread_id);
    expect(copy.thread_id).not.toBe(source.thread_id);
    expect(copy.metadata).toEqual({ copied: "yes" });
    expect((await t.client.threads.get(copy.thread_id)).thread_id).toBe(copy.thread_id);
  });

  it("prunes threads", async () => {
    const a = await t.client.threads.create();
    const b = await t.client.threads.create();
    const result = await t.client.threads.prune([a.thread_id, b.thread_id, crypto.randomUUID()]);
    expect(result).toEqual({ pruned_count: 2 });
    await expect(t.client.threads.get(a.thread_id)).rejects.toMatchObject({ status: 404 });
  });

  it("shows a thread's TTL only on request", async () => {
    // an hour: the thread cannot expire while it is looked at, however slow the machine
    const thread = await t.client.threads.create({ ttl: { ttl: 60, strategy: "delete" } });
    expect(thread).not.toHaveProperty("ttl");
    const shown = await json(await fetch(`${t.url}/threads/${thread.thread_id}?include=ttl`));
    expect(shown.ttl).toEqual({ ttl: 60, strategy: "delete" });
    expect(await json(await fetch(`${t.url}/threads/${thread.thread_id}`))).not.toHaveProperty("ttl");
  });

  it("deletes a thread when its TTL runs out, and only that thread", async () => {
    const lasting = await t.client.threads.create({ ttl: { ttl: 60, strategy: "delete" } });
    const expiring = await t.client.threads.create({ ttl: { ttl: 0.005, strategy: "delete" } }); // 0.3 s
    // the sweep may run late on a loaded machine: wait on the thread being gone, not on a clock
    await eventually(
      async () => ((await t.client.threads.get(expiring.thread_id).catch((error) => error)).status === 404 ? true : undefined),
      30_000,
      "the expired thread to be deleted",
    );
    expect((await t.client.threads.get(lasting.thread_id)).thread_id).toBe(lasting.thread_id);
  }, 60_000);

  it("searches and counts by state values", async () => {
    const tag = crypto.randomUUID();
    const start = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    const threads = [];
    for (const value of [start, start + 10]) {
      const thread = await t.client.threads.create({ metadata: { tag } });
      await t.client.runs.wait(thread.thread_id, "trivial", { input: { value } }); // three nodes add 1 each
      threads.push(thread.thread_id);
    }
    const found = await t.client.threads.search({ values: { value: start + 3 } });
    expect(found.map((x) => x.thread_id)).toEqual([threads[0]]);
    expect(found[0].values).toEqual({ value: start + 3 });
    expect((await t.client.threads.search({ metadata: { tag }, values: { value: start + 13 } })).map((x) => x.thread_id)).toEqual([threads[1]]);
    expect(await t.client.threads.search({ metadata: { tag }, values: { value: start } })).toEqual([]);
    expect(await t.client.threads.count({ metadata: { tag }, values: { value: start + 13 } })).toBe(1);
    expect(await t.client.threads.count({ metadata: { tag }, values: { value: -1 } })).toBe(0);
  });

  it("extracts values by path in a search", async () => {
    const tag = crypto.randomUUID();
    await t.client.threads.create({ metadata: { tag, nested: { list: [1, 2, 3] } } });
    const [found] = await t.client.threads.search({
      metadata: { tag },
      extract: { last: "metadata.nested.list.-1", missing: "values.nope" },
    });
    expect((found as unknown as { extracted: unknown }).extracted).toEqual({ last: 3, missing: null });
  });

  it("answers a patch with 204 when asked for a minimal answer", async () => {
    const thread = await t.client.threads.create();
    const res = await fetch(`${t.url}/threads/${thread.thread_id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", prefer: "return=minimal" },
      body: JSON.stringify({ metadata: { minimal: true } }),
    });
    expect(res.status).toBe(204);
    expect((await t.client.threads.get(thread.thread_id)).metadata).toEqual({ minimal: true });
  });

  it("rejects a malformed thread id with 422 naming the field", async () => {
    const res = await fetch(`${t.url}/threads/not-a-uuid`);
    expect(res.status).toBe(422);
    expect((await json(res)).detail).toMatch(/thread_id/);
  });

  it("keeps threads across a restart", async () => {
    const thread = await t.client.threads.create({ metadata: { durable: true } });
    t = await t.restart();
    expect((await t.client.threads.get(thread.thread_id)).metadata).toEqual({ durable: true });
  });
});
