/**
 * What the engine does with what a stopped process left behind (startup recovery), and how it
 * answers for runs that ended before anyone asked: the thread's status and the values join/wait
 * return.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { resultValues, threadStatusAfter, type FinalState } from "../../src/runtime/runs/final-state.js";
import { recoverRuns, restingStatus } from "../../src/runtime/runs/recovery.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { storedOutcome } from "../../src/runtime/runs/stored-outcome.js";
import type { Storage } from "../../src/storage/types.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();
const logger = pino({ level: "silent" });

async function runOn(storage: Storage, threadId: string) {
  const kwargs = parseRunRequest({ assistant_id: "a", input: { x: 1 } }, { stateless: false }).kwargs;
  return (await storage.runs.create({ thread_id: threadId, assistant_id: "a", kwargs, multitask_strategy: "enqueue" })).run;
}

describe("startup recovery", () => {
  it("retries runs a crash cut short, fails those out of attempts, and restarts pending runs oldest first", async () => {
    const { storage } = await open();
    const t1 = await storage.threads.create();
    const t2 = await storage.threads.create();
    const t3 = await storage.threads.create();
    const cut = await runOn(storage, t1.thread_id);
    await storage.runs.update(cut.run_id, { status: "running", attempt: 1 });
    const exhausted = await runOn(storage, t2.thread_id);
    await storage.runs.update(exhausted.run_id, { status: "running", attempt: 3 });
    const behind = await runOn(storage, t3.thread_id);
    const queued = await runOn(storage, t3.thread_id);
    await storage.runs.update(behind.run_id, { status: "running", attempt: 3 });
    await storage.runs.update(queued.run_id, { status: "pending" });
    // three executions, two of them handed back by stopping servers: one failure, retried
    const t4 = await storage.threads.create();
    const handedBack = await runOn(storage, t4.thread_id);
    await storage.runs.update(handedBack.run_id, { status: "running", attempt: 3, handoffs: 2 });

    const restart = await recoverRuns(storage, logger, 3);
    expect(restart.map((r) => r.run_id)).toEqual([cut.run_id, queued.run_id, handedBack.run_id]);
    expect(await storage.runs.get(handedBack.run_id)).toMatchObject({ status: "pending", attempt: 3, handoffs: 2 });
    expect(await storage.runs.get(cut.run_id)).toMatchObject({ status: "pending", attempt: 1 });
    const error = { error: "RunAttemptsExhausted", message: "the server stopped 3 times while executing this run; it is not retried again" };
    expect(await storage.runs.get(exhausted.run_id)).toMatchObject({ status: "error", error });
    expect(await storage.threads.get(t2.thread_id)).toMatchObject({ status: "error", error });
    // a thread whose failed run has another one queued behind it stays busy
    expect(await storage.runs.get(behind.run_id)).toMatchObject({ status: "error", error });
    expect((await storage.threads.get(t3.thread_id)).status).toBe("busy");
    expect((await storage.threads.get(t1.thread_id)).status).toBe("busy");
  });

  it("releases busy threads without an active run to the status their state implies, and marks threads of pending runs busy", async () => {
    const { storage } = await open();
    const idle = await storage.threads.create();
    await storage.threads.update(idle.thread_id, { status: "busy" });
    const interrupted = await storage.threads.create();
    await storage.threads.update(interrupted.thread_id, { status: "busy", interrupts: { task: [{ value: "ask" }] } });
    const failed = await storage.threads.create();
    await storage.threads.update(failed.thread_id, { status: "busy", error: { error: "Boom", message: "bad" } });
    const waiting = await storage.threads.create();
    const run = await runOn(storage, waiting.thread_id);
    // a crash between storing the run and marking its thread busy
    await storage.threads.update(waiting.thread_id, { status: "idle" });

    expect((await recoverRuns(storage, logger, 3)).map((r) => r.run_id)).toEqual([run.run_id]);
    expect((await storage.threads.get(idle.thread_id)).status).toBe("idle");
    expect((await storage.threads.get(interrupted.thread_id)).status).toBe("interrupted");
    expect((await storage.threads.get(failed.thread_id)).status).toBe("error");
    expect((await storage.threads.get(waiting.thread_id)).status).toBe("busy");
  });

  it("rests a thread by what its last run left", () => {
    expect(restingStatus({ error: null, interrupts: {} })).toBe("idle");
    expect(restingStatus({ error: null, interrupts: undefined as never })).toBe("idle");
    expect(restingStatus({ error: null, interrupts: { t: [] } })).toBe("interrupted");
    expect(restingStatus({ error: { error: "E", message: "m" }, interrupts: { t: [] } })).toBe("error");
  });
});

describe("a run's outcome", () => {
  const state = (values: unknown, interrupts: FinalState["interrupts"] = {}, next: string[] = []): FinalState => ({ values, interrupts, next });

  it("answers the values, with __interrupt__ listing every pending interrupt", () => {
    expect(resultValues(state({ a: 1 }))).toEqual({ a: 1 });
    expect(resultValues(state(null))).toBeNull();
    expect(resultValues(state({ a: 1 }, { t1: [{ value: "x" }], t2: [{ value: "y" }, { value: "z" }] }))).toEqual({
      a: 1,
      __interrupt__: [{ value: "x" }, { value: "y" }, { value: "z" }],
    });
    for (const values of [null, [1, 2], "text"]) {
      expect(resultValues(state(values, { t: [{ value: "x" }] }))).toEqual({ __interrupt__: [{ value: "x" }] });
    }
  });

  it("sets the thread's status from the run's end", () => {
    expect(threadStatusAfter("success", state({}), true)).toBe("busy");
    expect(threadStatusAfter("error", state({}), false)).toBe("error");
    expect(threadStatusAfter("timeout", null, false)).toBe("error");
    expect(threadStatusAfter("interrupted", null, false)).toBe("idle");
    expect(threadStatusAfter("success", state({}, { t: [{ value: 1 }] }), false)).toBe("interrupted");
    expect(threadStatusAfter("success", state({}, {}, ["node"]), false)).toBe("interrupted");
    expect(threadStatusAfter("interrupted", state({}, {}, ["node"]), false)).toBe("idle"); // cancelled mid-way
    expect(threadStatusAfter("success", state({}), false)).toBe("idle");
  });

  it("rebuilds an ended run's outcome from storage, even when its temporary thread is gone", async () => {
    const { storage } = await open();
    const thread = await storage.threads.create();
    const run = await runOn(storage, thread.thread_id);
    await storage.threads.update(thread.thread_id, { values: { n: 1 }, interrupts: { t: [{ value: "ask" }] } });
    expect(await storedOutcome(storage, { ...run, status: "success" })).toEqual({
      status: "success",
      values: { n: 1, __interrupt__: [{ value: "ask" }] },
      error: null,
    });
    const error = { error: "Boom", message: "bad" };
    expect(await storedOutcome(storage, { ...run, status: "running", error })).toMatchObject({ status: "interrupted", error });
    expect((await storedOutcome(storage, { ...run, status: "pending" })).status).toBe("interrupted");
    await storage.threads.delete(thread.thread_id);
    expect(await storedOutcome(storage, { ...run, status: "success" })).toEqual({ status: "success", values: null, error: null });
  });
});
