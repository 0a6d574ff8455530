import { afterEach, describe, expect, it, vi } from "vitest";
import { replayedEvents, replaysAfterId, runEvents, type RunEvent, type RunOutcome } from "../../src/runtime/runs/broker.js";
import { LocalRunEventBroker } from "../../src/runtime/runs/local-broker.js";
import { eventually } from "../support/runs.js";

const done: RunOutcome = { status: "success", values: { ok: true }, error: null };
const ev = (data: unknown) => ({ mode: "values", ns: [], data });

async function collect(broker: LocalRunEventBroker, runId: string, lastEventId?: string) {
  const events: RunEvent[] = [];
  let ended: RunOutcome | null = null;
  const off = await broker.subscribe(runId, { event: (e) => events.push(e), end: (o) => (ended = o) }, { lastEventId });
  return { events, ended: () => ended, off };
}

describe("LocalRunEventBroker", () => {
  it("numbers events per run and delivers them live, then the outcome", async () => {
    const broker = new LocalRunEventBroker();
    await broker.open("r", { threadId: "t" });
    const sub = await collect(broker, "r");
    expect(broker.publish("r", ev(1)).id).toBe("1");
    expect(broker.publish("r", ev(2)).id).toBe("2");
    broker.finish("r", done);
    expect(sub.events.map((e) => [e.id, e.data])).toEqual([
      ["1", 1],
      ["2", 2],
    ]);
    expect(sub.ended()).toEqual(done);
  });

  it("replays buffered events after Last-Event-ID while the run is active", async () => {
    const broker = new LocalRunEventBroker();
    await broker.open("r", { threadId: "t" });
    for (const n of [1, 2, 3]) broker.publish("r", ev(n));
    expect((await collect(broker, "r", "1")).events.map((e) => e.data)).toEqual([2, 3]);
    expect((await collect(broker, "r", "-1")).events.map((e) => e.data)).toEqual([1, 2, 3]);
    expect((await collect(broker, "r")).events).toEqual([]);
  });

  it("frees an ordinary run's events at its end, a resumable run's after the retention", async () => {
    const broker = new LocalRunEventBroker({ retentionMs: 50 });
    await broker.open("plain", { threadId: "t" });
    await broker.open("kept", { resumable: true, threadId: "t" });
    broker.publish("plain", ev(1));
    broker.publish("kept", ev(1));
    broker.finish("plain", done);
    broker.finish("kept", done);
    expect(await broker.isOpen("plain")).toBe(false);
    expect(await broker.subscribe("plain", { event: () => {}, end: () => {} })).toBeNull();
    const late = await collect(broker, "kept", "-1");
    expect(late.events.map((e) => e.data)).toEqual([1]);
    expect(late.ended()).toEqual(done);
    expect(broker.size).toBe(1); // the resumable run's events stay for the retention
    await eventually(async () => (broker.size === 0 ? true : undefined), 2_000, "the retention to end");
  });

  it("ignores events for runs it does not carry, and unsubscribes", async () => {
    const broker = new LocalRunEventBroker();
    expect(broker.publish("ghost", ev(1)).id).toBe("0");
    await broker.open("r", { threadId: "t" });
    const sub = await collect(broker, "r");
    sub.off!();
    broker.publish("r", ev(1));
    expect(sub.events).toEqual([]);
    await broker.close();
    expect(broker.size).toBe(0);
  });

  it("iterates a run's events until its end (async iterator for SSE writers)", async () => {
    const broker = new LocalRunEventBroker();
    await broker.open("r", { threadId: "t" });
    broker.publish("r", ev("before"));
    const stream = (await runEvents(broker, "r", { lastEventId: "-1" }))!;
    const seen: unknown[] = [];
    const reading = (async () => {
      for await (const event of stream.events) seen.push(event.data);
    })();
    broker.publish("r", ev("during"));
    setTimeout(() => {
      broker.publish("r", ev("late"));
      broker.finish("r", done);
    }, 10);
    await reading;
    expect(seen).toEqual(["before", "during", "late"]);
    expect(await stream.outcome).toEqual(done);
    expect(await runEvents(broker, "r")).toBeNull();
  });

  it("stops iterating when the reader's signal aborts", async () => {
    const broker = new LocalRunEventBroker();
    await broker.open("r", { threadId: "t" });
    const controller = new AbortController();
    const stream = (await runEvents(broker, "r", { signal: controller.signal }))!;
    const reading = (async () => {
      const seen: unknown[] = [];
      for await (const event of stream.events) seen.push(event.data);
      return seen;
    })();
    broker.publish("r", ev(1));
    setTimeout(() => controller.abort(), 10);
    expect(await reading).toEqual([1]);
    expect(await stream.outcome).toBeNull();
  });
});

describe("replay from Last-Event-ID or a checkpoint", () => {
  const held: RunEvent[] = [
    { id: "1", mode: "metadata", ns: [], data: { attempt: 1 } },
    { id: "2", mode: "values", ns: [], data: "a", checkpointId: "ck-a" },
    { id: "3", mode: "metadata", ns: [], data: { attempt: 2 }, checkpointId: "ck-b" },
    { id: "4", mode: "values", ns: [], data: "b", checkpointId: "ck-b" },
    { id: "5", mode: "values", ns: [], data: "c", checkpointId: "ck-c" },
  ];
  const ids = (options: Parameters<typeof replayedEvents>[1]) => replayedEvents(held, options).map((e) => e.id);

  it("reads only a non-negative, finite Last-Event-ID as an event number", () => {
    expect(replaysAfterId({ lastEventId: "3" })).toBe(3);
    expect(replaysAfterId({ lastEventId: "0" })).toBe(0);
    expect(replaysAfterId({ lastEventId: "-1" })).toBeNull();
    expect(replaysAfterId({ lastEventId: "Infinity" })).toBeNull();
    expect(replaysAfterId({ lastEventId: "abc" })).toBeNull();
    expect(replaysAfterId({})).toBeNull();
  });

  it("replays the events after a numbered id; -1 or any other id replays all; none replays nothing", () => {
    expect(ids({ lastEventId: "3" })).toEqual(["4", "5"]);
    expect(ids({ lastEventId: "0" })).toEqual(["1", "2", "3", "4", "5"]);
    expect(ids({ lastEventId: "5" })).toEqual([]);
    expect(ids({ lastEventId: "-1" })).toEqual(["1", "2", "3", "4", "5"]);
    expect(ids({})).toEqual([]);
    // a numbered id wins over a checkpoint
    expect(ids({ lastEventId: "4", afterCheckpoint: "ck-a" })).toEqual(["5"]);
  });

  it("replays from the first event at or after a checkpoint, earlier metadata events first", () => {
    expect(ids({ afterCheckpoint: "ck-b" })).toEqual(["1", "3", "4", "5"]);
    expect(ids({ afterCheckpoint: "ck-c" })).toEqual(["1", "3", "5"]);
    // a checkpoint from before the run: everything; newer than every event: only the metadata
    expect(ids({ afterCheckpoint: "ck-0" })).toEqual(["1", "2", "3", "4", "5"]);
    expect(ids({ afterCheckpoint: "ck-z" })).toEqual(["1", "3"]);
  });
});

describe("LocalRunEventBroker channel lifetime", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps a finished resumable run's events for ten minutes by default", async () => {
    vi.useFakeTimers();
    const broker = new LocalRunEventBroker();
    await broker.open("r", { threadId: "t", resumable: true });
    broker.publish("r", ev(1));
    broker.finish("r", done);
    vi.advanceTimersByTime(9 * 60_000);
    expect(await broker.isOpen("r")).toBe(true);
    vi.advanceTimersByTime(60_001);
    expect(await broker.isOpen("r")).toBe(false);
    expect(await broker.threadRuns("t")).toEqual([]);
  });

  it("makes an open run resumable when it is opened again with stream_resumable", async () => {
    const broker = new LocalRunEventBroker({ retentionMs: 60_000 });
    await broker.open("r", { threadId: "t" });
    await broker.open("r", { threadId: "t", resumable: true });
    await broker.open("r", { threadId: "t" }); // does not make it ordinary again
    broker.publish("r", ev(1));
    broker.finish("r", done);
    const late = await collect(broker, "r", "-1");
    expect(late.events.map((e) => e.data)).toEqual([1]);
    await broker.close();
  });

  it("keeps the first outcome when a run is finished twice", async () => {
    const broker = new LocalRunEventBroker({ retentionMs: 60_000 });
    await broker.open("r", { threadId: "t", resumable: true });
    broker.finish("r", done);
    broker.finish("r", { status: "error", values: null, error: { error: "Late", message: "late" } });
    expect((await collect(broker, "r", "-1")).ended()).toEqual(done);
    expect(broker.publish("r", ev("after the end")).id).toBe("0");
    await broker.close();
  });

  it("starts a fresh channel when a finished resumable run is opened again (a new attempt)", async () => {
    const broker = new LocalRunEventBroker({ retentionMs: 60_000 });
    await broker.open("r", { threadId: "t", resumable: true });
    broker.publish("r", ev("first attempt"));
    broker.finish("r", done);
    await broker.open("r", { threadId: "t" });
    expect(await broker.threadRuns("t")).toEqual([{ runId: "r", active: true }]);
    const sub = await collect(broker, "r", "-1");
    expect(sub.events).toEqual([]);
    expect(sub.ended()).toBeNull();
    expect(broker.publish("r", ev("second attempt")).id).toBe("1");
    broker.finish("r", done);
    expect(sub.events.map((e) => e.data)).toEqual(["second attempt"]);
    expect(await broker.isOpen("r")).toBe(false); // the new channel is an ordinary one
  });

  it("holds events up to exactly the byte bound", async () => {
    const broker = new LocalRunEventBroker({ maxBufferedBytes: 356 });
    await broker.open("r", { threadId: "t" });
    broker.publish("r", { ...ev(1), size: 100 });
    broker.publish("r", { ...ev(2), size: 100 });
    broker.publish("r", { ...ev(3), size: 156 });
    expect((await collect(broker, "r", "-1")).events.map((e) => e.id)).toEqual(["1", "2", "3"]);
    broker.publish("r", { ...ev(4), size: 100 });
    expect((await collect(broker, "r", "-1")).events.map((e) => e.id)).toEqual(["2", "3", "4"]);
    await broker.close();
  });

  it("frees a reader's subscription when its signal aborts while the run goes on", async () => {
    const broker = new LocalRunEventBroker();
    await broker.open("r", { threadId: "t" });
    const controller = new AbortController();
    const stream = (await runEvents(broker, "r", { signal: controller.signal }))!;
    expect(broker.subscribers).toBe(1);
    controller.abort();
    expect(broker.subscribers).toBe(0);
    expect(await stream.outcome).toBeNull();
    expect(await broker.isOpen("r")).toBe(true);
    // an already aborted signal: no events, no subscription left behind
    const gone = (await runEvents(broker, "r", { signal: AbortSignal.abort() }))!;
    broker.publish("r", ev(1));
    const seen: RunEvent[] = [];
    for await (const event of gone.events) seen.push(event);
    expect(seen).toEqual([]);
    expect(broker.subscribers).toBe(0);
    expect(await gone.outcome).toBeNull();
  });

  it("frees the subscription when the reader breaks out of the iteration", async () => {
    const broker = new LocalRunEventBroker();
    await broker.open("r", { threadId: "t" });
    const stream = (await runEvents(broker, "r", { lastEventId: "-1" }))!;
    broker.publish("r", ev(1));
    broker.publish("r", ev(2));
    for await (const event of stream.events) {
      expect(event.data).toBe(1);
      break;
    }
    expect(broker.subscribers).toBe(0);
    expect(await stream.outcome).toBeNull();
  });
});
