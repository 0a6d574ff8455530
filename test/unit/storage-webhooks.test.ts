/**
 * The webhook outbox contract, on every backend: a run's end and the delivery it owes are one
 * commit; a delivery has one claimer at a time; a lapsed claim (its process died) is claimed
 * again; completion and retries only by the claimer.
 */
import { describe, expect, it } from "vitest";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import type { Storage } from "../../src/storage/types.js";
import { eventually } from "../support/runs.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();

async function runningRun(storage: Storage) {
  const thread = await storage.threads.create();
  const kwargs = parseRunRequest({ assistant_id: "a", input: {}, webhook: "http://127.0.0.1:9/hook" }, { stateless: false }).kwargs;
  const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
  return storage.runs.update(run.run_id, { status: "running", attempt: 1 });
}

describe("webhook outbox", () => {
  it("stores a run's end with the delivery it owes; the payload sees the stored run", async () => {
    const { storage } = await open();
    const run = await runningRun(storage);
    expect(await storage.webhooks.nextDueInMs()).toBeNull();
    const stored = await storage.runs.end(run.run_id, {
      update: { status: "success", error: null, cancel_reason: null },
      webhook: { url: "http://127.0.0.1:9/hook", payload: (r) => ({ run_id: r.run_id, status: r.status, updated_at: r.updated_at }) },
    });
    expect(stored.status).toBe("success");
    expect((await storage.runs.get(run.run_id)).status).toBe("success");
    expect(await storage.webhooks.nextDueInMs()).toBe(0);
    const [delivery, ...rest] = await storage.webhooks.claim("p1", 10, 30_000);
    expect(rest).toEqual([]);
    expect(delivery).toMatchObject({
      run_id: run.run_id,
      thread_id: run.thread_id,
      url: "http://127.0.0.1:9/hook",
      payload: { run_id: run.run_id, status: "success", updated_at: stored.updated_at },
      attempts: 1,
      claimed_by: "p1",
    });
  });

  it("a rollback deletes the run and still owes its delivery; an end without a webhook owes nothing", async () => {
    const { storage } = await open();
    const rolledBack = await runningRun(storage);
    const stored = await storage.runs.end(rolledBack.run_id, {
      update: null,
      webhook: { url: "http://h/1", payload: (r) => ({ run_id: r.run_id }) },
    });
    expect(stored.run_id).toBe(rolledBack.run_id);
    await expect(storage.runs.get(rolledBack.run_id)).rejects.toMatchObject({ kind: "not_found" });
    const plain = await runningRun(storage);
    await storage.runs.end(plain.run_id, { update: { status: "error", error: { error: "E", message: "m" }, cancel_reason: null } });
    expect((await storage.runs.get(plain.run_id)).error).toEqual({ error: "E", message: "m" });
    expect((await storage.webhooks.claim("p1", 10, 30_000)).map((d) => d.run_id)).toEqual([rolledBack.run_id]);
  });

  it("refuses the end of a missing run and records no delivery", async () => {
    const { storage } = await open();
    await expect(
      storage.runs.end("missing", { update: { status: "success" }, webhook: { url: "http://h/1", payload: () => ({}) } }),
    ).rejects.toMatchObject({ kind: "not_found" });
    expect(await storage.webhooks.nextDueInMs()).toBeNull();
  });

  it("gives a delivery to one claimer at a time; only the claimer completes or retries it", async () => {
    const { storage } = await open();
    const run = await runningRun(storage);
    await storage.runs.end(run.run_id, { update: { status: "success" }, webhook: { url: "http://h/1", payload: () => ({ n: 1 }) } });
    const [first, second] = await Promise.all([storage.webhooks.claim("p1", 5, 30_000), storage.webhooks.claim("p2", 5, 30_000)]);
    expect(first.length + second.length).toBe(1);
    const [mine] = first.length ? first : second;
    const owner = mine.claimed_by!;
    const other = owner === "p1" ? "p2" : "p1";
    expect(await storage.webhooks.complete(mine.delivery_id, other)).toBe(false);
    expect(await storage.webhooks.retryAfter(mine.delivery_id, other, 0)).toBe(false);
    // claimed: next claimable when the claim lapses, about 30 s from now
    expect(await storage.webhooks.nextDueInMs()).toBeGreaterThan(20_000);
    expect(await storage.webhooks.retryAfter(mine.delivery_id, owner, 60_000)).toBe(true);
    expect(await storage.webhooks.claim(other, 5, 30_000)).toEqual([]);
    expect(await storage.webhooks.nextDueInMs()).toBeGreaterThan(50_000);
    expect(await storage.webhooks.retryAfter(mine.delivery_id, owner, 0)).toBe(false); // the claim was released
  });

  it("a claim that lapses (its process died) is claimed again, attempts counted; completion removes it", async () => {
    const { storage } = await open();
    const run = await runningRun(storage);
    await storage.runs.end(run.run_id, { update: { status: "success" }, webhook: { url: "http://h/1", payload: () => ({}) } });
    const [dead] = await storage.webhooks.claim("dead", 5, 50);
    expect(dead.attempts).toBe(1);
    const [taken] = await eventually(
      async () => {
        const claimed = await storage.webhooks.claim("survivor", 5, 30_000);
        return claimed.length ? claimed : undefined;
      },
      5_000,
      "the lapsed claim to be claimed again",
    );
    expect(taken).toMatchObject({ delivery_id: dead.delivery_id, attempts: 2, claimed_by: "survivor" });
    expect(await storage.webhooks.complete(dead.delivery_id, "dead")).toBe(false);
    expect(await storage.webhooks.complete(dead.delivery_id, "survivor")).toBe(true);
    expect(await storage.webhooks.nextDueInMs()).toBeNull();
  });

  it("keeps owed deliveries across a restart", async () => {
    const temp = await open();
    const run = await runningRun(temp.storage);
    await temp.storage.runs.end(run.run_id, { update: { status: "success" }, webhook: { url: "http://h/1", payload: () => ({ kept: true }) } });
    await temp.storage.close();
    const reopened = await temp.reopen();
    expect((await reopened.webhooks.claim("p1", 5, 30_000)).map((d) => d.payload)).toEqual([{ kept: true }]);
  });
});
