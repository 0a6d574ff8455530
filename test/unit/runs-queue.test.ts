import { describe, expect, it, vi } from "vitest";
import { LocalRunQueue, type QueuedRun } from "../../src/runtime/runs/queue.js";
import { eventually } from "../support/runs.js";

/** A queue whose runs finish when the test says so. */
function harness(concurrency: number) {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const errors: unknown[] = [];
  const queue = new LocalRunQueue({
    concurrency,
    execute: (run: QueuedRun) =>
      new Promise<void>((resolve) => {
        started.push(run.runId);
        finish.set(run.runId, resolve);
      }),
    onError: (error) => errors.push(error),
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const end = async (runId: string) => {
    finish.get(runId)!();
    await settle();
  };
  return { queue, started, end, settle, errors };
}

const run = (runId: string, threadId: string, notBefore = 0): QueuedRun => ({ runId, threadId, notBefore });

describe("LocalRunQueue", () => {
  it("starts a run in the same turn a slot frees up, never more than `concurrency` at once", async () => {
    const { queue, started, end, settle } = harness(2);
    for (const id of ["a", "b", "c", "d"]) queue.submit(run(id, `t-${id}`));
    await settle();
    expect(started).toEqual(["a", "b"]);
    expect(queue.runningCount).toBe(2);
    expect(queue.waitingCount).toBe(2);
    await end("b");
    expect(started).toEqual(["a", "b", "c"]);
    await end("a");
    await end("c");
    expect(started).toEqual(["a", "b", "c", "d"]);
    await end("d");
    expect(queue.runningCount + queue.waitingCount).toBe(0);
  });

  it("runs one run per thread at a time, in submission order, without blocking other threads", async () => {
    const { queue, started, end, settle } = harness(10);
    queue.submit(run("1", "t"));
    queue.submit(run("2", "t"));
    queue.submit(run("x", "other"));
    queue.submit(run("3", "t"));
    await settle();
    expect(started).toEqual(["1", "x"]);
    expect(queue.waiting("t")).toEqual(["2", "3"]);
    await end("1");
    expect(started).toEqual(["1", "x", "2"]);
    await end("2");
    expect(started).toEqual(["1", "x", "2", "3"]);
  });

  it("holds a delayed run on a timer without holding its thread", async () => {
    const { queue, started, end, settle } = harness(10);
    const at = Date.now();
    queue.submit(run("later", "t", at + 120));
    queue.submit(run("now", "t"));
    await settle();
    expect(started).toEqual(["now"]);
    await end("now");
    expect(started).toEqual(["now"]);
    await eventually(async () => (started.length === 2 ? true : undefined), 2_000, "the delayed run");
    expect(Date.now() - at).toBeGreaterThanOrEqual(120); // not before its time
    expect(started).toEqual(["now", "later"]);
  });

  it("removes waiting runs (and their timers) but not executing ones", async () => {
    const { queue, started, end, settle } = harness(1);
    queue.submit(run("a", "t1"));
    queue.submit(run("b", "t2"));
    queue.submit(run("c", "t3", Date.now() + 60_000));
    await settle();
    expect(queue.remove("a")).toBe(false);
    expect(queue.remove("b")).toBe(true);
    expect(queue.remove("c")).toBe(true);
    expect(queue.has("b")).toBe(false);
    await end("a");
    expect(started).toEqual(["a"]);
    expect(queue.waitingCount).toBe(0);
  });

  it("ignores duplicate submissions and keeps going after a failing execution", async () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const queue = new LocalRunQueue({
      concurrency: 1,
      execute: async (r) => {
        ran.push(r.runId);
        if (r.runId === "bad") throw new Error("boom");
      },
      onError: (error) => errors.push(error),
    });
    queue.submit(run("bad", "t"));
    queue.submit(run("bad", "t"));
    queue.submit(run("good", "t"));
    await queue.drained();
    await new Promise((resolve) => setImmediate(resolve));
    await queue.drained();
    expect(ran).toEqual(["bad", "good"]);
    expect(errors).toHaveLength(1);
  });

  it("stops taking runs: waiting ones are dropped, executing ones drain", async () => {
    const { queue, started, end, settle } = harness(1);
    queue.submit(run("a", "t1"));
    queue.submit(run("b", "t2"));
    await settle();
    queue.stop();
    queue.submit(run("c", "t3"));
    const drained = queue.drained();
    await end("a");
    await drained;
    expect(started).toEqual(["a"]);
    expect(queue.waitingCount).toBe(0);
  });

  it("orders a thread's waiting runs by start time, then submission", async () => {
    const { queue, started, settle } = harness(10);
    const now = Date.now();
    queue.submit(run("active", "t"));
    queue.submit(run("late", "t", now + 60_000));
    queue.submit(run("soon", "t", now + 30_000));
    queue.submit(run("due-1", "t"));
    queue.submit(run("soon-2", "t", now + 30_000));
    queue.submit(run("due-2", "t"));
    await settle();
    expect(started).toEqual(["active"]);
    expect(queue.waiting("t")).toEqual(["due-1", "due-2", "soon", "soon-2", "late"]);
    for (const id of queue.waiting("t")) expect(queue.remove(id)).toBe(true);
  });

  it("starts a run due exactly now at once, without a timer", () => {
    const { queue } = harness(10);
    const now = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(now);
    try {
      queue.submit(run("r", "t", now));
      expect(queue.waiting("t")).toEqual([]);
      expect(queue.runningCount).toBe(1);
    } finally {
      clock.mockRestore();
    }
  });

  it("knows its waiting and executing runs, and nothing else", async () => {
    const { queue, settle } = harness(1);
    queue.submit(run("a", "t1"));
    queue.submit(run("b", "t2"));
    queue.submit(run("b", "t2")); // a duplicate of a waiting run
    await settle();
    expect(queue.waitingCount).toBe(1);
    expect(queue.has("a")).toBe(true);
    expect(queue.has("b")).toBe(true);
    expect(queue.has("ghost")).toBe(false);
    expect(queue.remove("ghost")).toBe(false);
    expect(queue.waiting("ghost")).toEqual([]);
  });

  it("clears the timer of a delayed run that is removed or dropped at stop", () => {
    vi.useFakeTimers();
    try {
      const { queue } = harness(10);
      queue.submit(run("a", "t1", Date.now() + 60_000));
      queue.submit(run("b", "t2", Date.now() + 60_000));
      expect(vi.getTimerCount()).toBe(2);
      expect(queue.remove("a")).toBe(true);
      expect(vi.getTimerCount()).toBe(1);
      queue.stop();
      expect(vi.getTimerCount()).toBe(0);
      expect(queue.waiting("t2")).toEqual([]);
      expect(queue.has("b")).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("resolves drained() only once every executing run has ended", async () => {
    const { queue, end, settle } = harness(2);
    queue.submit(run("a", "t1"));
    queue.submit(run("b", "t2"));
    await settle();
    let drained = false;
    const draining = queue.drained().then(() => (drained = true));
    await end("a");
    expect(drained).toBe(false);
    await end("b");
    await draining;
    expect(drained).toBe(true);
  });

  it("rejects a senseless concurrency", () => {
    expect(() => new LocalRunQueue({ concurrency: 0, execute: async () => {}, onError: () => {} })).toThrow(/concurrency/);
  });
});
