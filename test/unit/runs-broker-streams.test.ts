/** The broker features streams rely on: thread index and watchers, the bounded replay buffer. */
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/runtime/runs/broker.js";
import { LocalRunEventBroker } from "../../src/runtime/runs/local-broker.js";

const done = { status: "success" as const, values: null, error: null };

async function replay(broker: LocalRunEventBroker, runId: string, lastEventId = "-1"): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  (await broker.subscribe(runId, { event: (e) => events.push(e), end: () => {} }, { lastEventId }))?.();
  return events;
}

describe("LocalRunEventBroker for streams", () => {
  it("lists a thread's held runs in opening order and tells watchers before any event", async () => {
    const broker = new LocalRunEventBroker({ retentionMs: 60_000 });
    const seen: string[] = [];
    const unwatch = broker.watchThread("t", (runId) => {
      // a watcher subscribing right away (synchronously: the promise only tells when) gets the run's first event
      void broker.subscribe(runId, { event: (e) => seen.push(`${runId}:${e.data}`), end: () => seen.push(`${runId}:end`) });
    });
    await broker.open("a", { threadId: "t", resumable: true });
    await broker.open("b", { threadId: "t" });
    await broker.open("x", { threadId: "other" });
    await broker.open("a", { threadId: "t" }); // idempotent: no second notification
    broker.publish("a", { mode: "values", ns: [], data: 1 });
    broker.finish("a", done);
    expect(seen).toEqual(["a:1", "a:end"]);
    expect(await broker.threadRuns("t")).toEqual([
      { runId: "a", active: false },
      { runId: "b", active: true },
    ]);
    broker.finish("b", done);
    expect(await broker.threadRuns("t")).toEqual([{ runId: "a", active: false }]);
    unwatch();
    await broker.open("c", { threadId: "t" });
    broker.finish("c", done);
    expect(seen).toEqual(["a:1", "a:end", "b:end"]);
    await broker.close();
    expect(await broker.threadRuns("t")).toEqual([]);
  });

  it("bounds the buffer by size, dropping the oldest events but never the newest", async () => {
    const broker = new LocalRunEventBroker({ maxBufferedBytes: 100 });
    await broker.open("r", { threadId: "t" });
    for (let n = 1; n <= 5; n++) broker.publish("r", { mode: "values", ns: [], data: n, size: 30 });
    expect((await replay(broker, "r")).map((e) => e.id)).toEqual(["3", "4", "5"]);
    expect((await replay(broker, "r", "3")).map((e) => e.id)).toEqual(["4", "5"]);
    broker.publish("r", { mode: "values", ns: [], data: "huge", size: 1000 });
    expect((await replay(broker, "r")).map((e) => e.id)).toEqual(["6"]);
  });
});
