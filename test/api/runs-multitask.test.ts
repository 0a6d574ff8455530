import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { json, startTestServer, type TestServer } from "../support/server.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: RUNS_CONFIG, runs: { shutdownGraceMs: 200 } });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const newThread = async () => (await t.client.threads.create()).thread_id;
/** A run of `slow` that takes steps * delay_ms. */
const slow = (steps: number, delayMs: number) => ({ input: { steps, delay_ms: delayMs } });
const statusOf = async (threadId: string, runId: string) => (await t.client.runs.get(threadId, runId)).status;
const running = (threadId: string, runId: string) =>
  eventually(async () => ((await statusOf(threadId, runId)) === "running" ? true : undefined), 5_000, "the run to start");
/** Ids of the run's checkpoints on the thread. */
const checkpointsOf = async (threadId: string, runId: string) =>
  (await t.server.services.storage.checkpoints.list({ thread_id: threadId, metadata: { run_id: runId } })).map((c) => c.checkpoint_id);

describe("multitask strategies", () => {
  it("rejects a second run by default with 409, changing nothing", async () => {
    const threadId = await newThread();
    const first = await t.client.runs.create(threadId, "slow", slow(2, 150));
    const res = await fetch(`${t.url}/threads/${threadId}/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "trivial", input: { value: 1 } }),
    });
    expect(res.status).toBe(409);
    expect((await json(res)).detail).toMatch(/already has an active run.*multitask_strategy/);
    expect((await t.client.runs.list(threadId)).map((r) => r.run_id)).toEqual([first.run_id]);
    expect((await t.client.threads.get(threadId)).metadata).toMatchObject({ graph_id: "slow" });
    await t.client.runs.join(threadId, first.run_id);
  });

  it("lets exactly one of many racing creates through with reject", async () => {
    const threadId = await newThread();
    const results = await Promise.allSettled(
      // a slow run, so the winner is still active when the last request arrives on a loaded machine
      Array.from({ length: 25 }, () => t.client.runs.create(threadId, "slow", slow(2, 3000))),
    );
    const passed = results.filter((r) => r.status === "fulfilled");
    expect(passed).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ status: 409 });
    expect(await t.client.runs.list(threadId)).toHaveLength(1);
    await t.client.runs.cancel(threadId, passed[0].value.run_id, true);
  });

  it("enqueues runs behind the active one, in order", async () => {
    const threadId = await newThread();
    // the first run lasts 2 s so the others are still queued when checked on a loaded machine
    const first = await t.client.runs.create(threadId, "slow", slow(2, 1000));
    const second = await t.client.runs.create(threadId, "slow", { ...slow(3, 10), multitaskStrategy: "enqueue" });
    const third = await t.client.runs.create(threadId, "slow", { ...slow(4, 10), multitaskStrategy: "enqueue" });
    expect(await statusOf(threadId, second.run_id)).toBe("pending");
    const result = (await t.client.runs.join(threadId, third.run_id)) as { log: string[]; completed: number };
    // each run continued the thread: 2 steps, then 1 more (completed < 3), then 1 more (< 4)
    expect(result.completed).toBe(4);
    const runs = await t.client.runs.list(threadId);
    expect(runs.map((r) => r.status)).toEqual(["success", "success", "success"]);
    const ended = (id: string) => Date.parse(runs.find((r) => r.run_id === id)!.updated_at);
    expect(ended(first.run_id)).toBeLessThanOrEqual(ended(second.run_id));
    expect(ended(second.run_id)).toBeLessThanOrEqual(ended(third.run_id));
  });

  it("interrupts the active run, keeping its progress, then starts the new one", async () => {
    const threadId = await newThread();
    const first = await t.client.runs.create(threadId, "slow", slow(20, 50));
    await running(threadId, first.run_id);
    await eventually(async () => ((await checkpointsOf(threadId, first.run_id)).length >= 3 ? true : undefined));
    const second = await t.client.runs.create(threadId, "trivial", { input: { value: 1 }, multitaskStrategy: "interrupt" });
    await t.client.runs.join(threadId, second.run_id);
    const stopped = await t.client.runs.get(threadId, first.run_id);
    expect(stopped.status).toBe("interrupted");
    expect(stopped.cancel_reason).toMatch(new RegExp(`replaced by run ${second.run_id}`));
    expect((await checkpointsOf(threadId, first.run_id)).length).toBeGreaterThanOrEqual(3);
    expect(await statusOf(threadId, second.run_id)).toBe("success");
  });

  it("rolls the active run back: deleted with its checkpoints, the thread as before it", async () => {
    const threadId = await newThread();
    await t.client.runs.wait(threadId, "slow", slow(1, 0));
    const before = await t.client.threads.get(threadId);
    const doomed = await t.client.runs.create(threadId, "slow", slow(20, 50));
    await running(threadId, doomed.run_id);
    await eventually(async () => ((await checkpointsOf(threadId, doomed.run_id)).length >= 2 ? true : undefined));
    const next = await t.client.runs.create(threadId, "slow", {
      input: null,
      multitaskStrategy: "rollback",
      config: { configurable: { delay_ms: 0 } },
    });
    const result = (await t.client.runs.join(threadId, next.run_id)) as { completed: number; log: string[] };
    await expect(t.client.runs.get(threadId, doomed.run_id)).rejects.toMatchObject({ status: 404 });
    expect(await checkpointsOf(threadId, doomed.run_id)).toEqual([]);
    // continuing the thread from where it was before the rolled-back run: the first run's state
    expect(before.values).toMatchObject({ completed: 1 });
    expect(result).toMatchObject({ completed: 1, log: ["step 1"] });
    expect((await t.client.runs.list(threadId)).map((r) => r.run_id)).not.toContain(doomed.run_id);
  });

  it("interrupts and rolls back queued runs too", async () => {
    const threadId = await newThread();
    const first = await t.client.runs.create(threadId, "slow", slow(20, 50));
    const queued = await t.client.runs.create(threadId, "trivial", { input: { value: 1 }, multitaskStrategy: "enqueue" });
    const last = await t.client.runs.create(threadId, "trivial", { input: { value: 5 }, multitaskStrategy: "rollback" });
    expect(await t.client.runs.join(threadId, last.run_id)).toMatchObject({ value: 8 });
    await expect(t.client.runs.get(threadId, first.run_id)).rejects.toMatchObject({ status: 404 });
    await expect(t.client.runs.get(threadId, queued.run_id)).rejects.toMatchObject({ status: 404 });
  });
});

describe("cancelling runs", () => {
  it("interrupts a running run and waits for it to stop", async () => {
    const threadId = await newThread();
    const run = await t.client.runs.create(threadId, "slow", slow(20, 50));
    await running(threadId, run.run_id);
    // cancelled after its first steps, the thread keeps them and has work left
    await eventually(async () => ((await checkpointsOf(threadId, run.run_id)).length >= 2 ? true : undefined));
    const res = await fetch(`${t.url}/threads/${threadId}/runs/${run.run_id}/cancel?wait=1&action=interrupt`, { method: "POST" });
    expect(res.status).toBe(204);
    const stopped = await t.client.runs.get(threadId, run.run_id);
    expect(stopped).toMatchObject({ status: "interrupted", cancel_reason: "cancelled by a client (interrupt)" });
    // no interrupt is pending: the thread is idle (as after useStream's stop()), with work left
    const thread = await t.client.threads.get(threadId);
    expect(thread.status).toBe("idle");
    expect((await t.client.threads.getState(threadId)).next.length).toBeGreaterThan(0);
    expect(await t.client.runs.join(threadId, run.run_id)).toMatchObject({ steps: 20 });
  });

  it("answers 202 without wait, and marks a steering cancel as taken", async () => {
    const threadId = await newThread();
    const run = await t.client.runs.create(threadId, "slow", slow(20, 50));
    await running(threadId, run.run_id);
    await t.client.runs.cancel(threadId, run.run_id, false, "interrupt", { reason: "taken" });
    await t.client.runs.join(threadId, run.run_id);
    expect((await t.client.runs.get(threadId, run.run_id)).cancel_reason).toMatch(/^taken:/);
    const bad = await fetch(`${t.url}/threads/${threadId}/runs/${run.run_id}/cancel?action=rollback&reason=taken`, { method: "POST" });
    expect(bad.status).toBe(422);
  });

  it("rolls back a running run: the run and its checkpoints go", async () => {
    const threadId = await newThread();
    const run = await t.client.runs.create(threadId, "slow", slow(20, 50));
    await running(threadId, run.run_id);
    await eventually(async () => ((await checkpointsOf(threadId, run.run_id)).length >= 2 ? true : undefined));
    await t.client.runs.cancel(threadId, run.run_id, true, "rollback");
    await expect(t.client.runs.get(threadId, run.run_id)).rejects.toMatchObject({ status: 404 });
    expect(await checkpointsOf(threadId, run.run_id)).toEqual([]);
    expect(await t.client.threads.get(threadId)).toMatchObject({ status: "idle", values: null });
  });

  it("cancels a waiting run without running it", async () => {
    const threadId = await newThread();
    // the first run lasts 2 s so the others are still queued when checked on a loaded machine
    const first = await t.client.runs.create(threadId, "slow", slow(2, 1000));
    const queued = await t.client.runs.create(threadId, "trivial", { input: { value: 1 }, multitaskStrategy: "enqueue" });
    await t.client.runs.cancel(threadId, queued.run_id, true);
    expect(await t.client.runs.get(threadId, queued.run_id)).toMatchObject({ status: "interrupted" });
    await t.client.runs.join(threadId, first.run_id);
    expect((await t.client.threads.get(threadId)).values).not.toHaveProperty("value");
    // cancelling a finished run changes nothing
    await t.client.runs.cancel(threadId, first.run_id, true);
    expect(await statusOf(threadId, first.run_id)).toBe("success");
  });

  it("cancels many: by thread, by ids, by status", async () => {
    const a = await newThread();
    const b = await newThread();
    // 5 s runs (cancelled long before they end): still running when the cancels arrive on a loaded machine
    const ra = await t.client.runs.create(a, "slow", slow(20, 250));
    const rb = await t.client.runs.create(b, "slow", slow(20, 250));
    const rb2 = await t.client.runs.create(b, "slow", { ...slow(1, 0), multitaskStrategy: "enqueue" });
    await t.client.runs.cancelMany({ threadId: b, runIds: [rb2.run_id] });
    expect(await statusOf(b, rb2.run_id)).toBe("interrupted");
    await t.client.runs.cancelMany({ threadId: a });
    await t.client.runs.join(a, ra.run_id);
    expect(await statusOf(a, ra.run_id)).toBe("interrupted");
    await running(b, rb.run_id);
    await t.client.runs.cancelMany({ status: "running", action: "interrupt" });
    await t.client.runs.join(b, rb.run_id);
    expect(await statusOf(b, rb.run_id)).toBe("interrupted");

    const res = await fetch(`${t.url}/runs/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run_ids: [rb.run_id] }),
    });
    expect(res.status).toBe(422);
  });

  it("stops the runs of a deleted thread", async () => {
    const threadId = await newThread();
    const run = await t.client.runs.create(threadId, "slow", slow(20, 50));
    const queued = await t.client.runs.create(threadId, "slow", { ...slow(1, 0), multitaskStrategy: "enqueue" });
    await running(threadId, run.run_id);
    // a stream join has subscribed once its headers arrive, so the deletion surely comes after it
    const joined = await fetch(`${t.url}/threads/${threadId}/runs/${queued.run_id}/stream`);
    expect(joined.status).toBe(200);
    await t.client.threads.delete(threadId);
    await joined.text(); // the queued run's stream ends: nobody is left waiting on a deleted thread
    await expect(t.client.runs.get(threadId, run.run_id)).rejects.toMatchObject({ status: 404 });
    const leftovers = await eventually(async () => {
      const all = await t.server.services.storage.checkpoints.list({ thread_id: threadId });
      return all.length === 0 ? all : undefined;
    });
    expect(leftovers).toEqual([]);
  });

  it("cancels the run when the client waiting on it disconnects", async () => {
    const threadId = await newThread();
    const controller = new AbortController();
    const waiting = t.client.runs.wait(threadId, "slow", { ...slow(20, 50), signal: controller.signal });
    const runId = await eventually(async () => {
      const [run] = await t.client.runs.list(threadId);
      return run?.status === "running" ? run.run_id : undefined;
    });
    controller.abort();
    await expect(waiting).rejects.toThrow();
    await eventually(async () => ((await statusOf(threadId, runId)) === "interrupted" ? true : undefined));
  });
});
