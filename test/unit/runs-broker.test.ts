import { describe, expect, it } from "vitest";
import { runEvents, type RunEvent, type RunOutcome } from "../../src/runtime/runs/broker.js";
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
