/**
 * A thread's stream (GET /threads/{id}/stream) over the in-process broker: which events a client
 * gets live, after a reconnect (`Last-Event-ID`), in run order, and that leaving frees everything.
 */
import { describe, expect, it } from "vitest";
import type { RunOutcome } from "../../src/runtime/runs/broker.js";
import { LocalRunEventBroker } from "../../src/runtime/runs/local-broker.js";
import type { SseEvent } from "../../src/runtime/streams/event-names.js";
import { parseThreadEventId, threadEvents, type ThreadCursor, type ThreadStreamMode } from "../../src/runtime/streams/thread-events.js";
import { eventually } from "../support/runs.js";

const ALL: ThreadStreamMode[] = ["run_modes", "lifecycle", "state_update"];
const done = (values: unknown = { n: 1 }): RunOutcome => ({ status: "success", values, error: null });

/** Reads the thread stream in the background; `stop()` leaves like a client closing the connection. */
async function reader(broker: LocalRunEventBroker, options: { modes?: ThreadStreamMode[]; after?: ThreadCursor } = {}) {
  const controller = new AbortController();
  const stream = await threadEvents(broker, "t", { modes: new Set(options.modes ?? ALL), after: options.after, signal: controller.signal });
  const seen: SseEvent[] = [];
  const reading = (async () => {
    for await (const event of stream) seen.push(event);
  })();
  const ids = () => seen.map((e) => e.id);
  return {
    seen,
    ids,
    names: () => seen.map((e) => e.event),
    until: (count: number) =>
      eventually(async () => (seen.length >= count ? true : undefined), 2_000, `${count} thread events, got ${ids().join(", ")}`),
    stop: async () => {
      controller.abort();
      await reading;
    },
  };
}

/** A run on thread "t" that emits its metadata and one values event. */
async function startRun(broker: LocalRunEventBroker, runId: string, resumable = false) {
  await broker.open(runId, { threadId: "t", resumable });
  broker.publish(runId, { mode: "metadata", ns: [], data: { run_id: runId, attempt: 1 } });
  broker.publish(runId, { mode: "values", ns: [], data: { step: 1 } });
}

describe("thread event ids", () => {
  it("reads -1, <run>:<n>, <run>:state and <run>:done, and nothing else", () => {
    expect(parseThreadEventId("-1")).toBe("start");
    expect(parseThreadEventId("r1:0")).toEqual({ runId: "r1", position: 0 });
    expect(parseThreadEventId("r1:12")).toEqual({ runId: "r1", position: 12 });
    expect(parseThreadEventId("a:b:3")).toEqual({ runId: "a:b", position: 3 });
    expect(parseThreadEventId("r1:state")).toEqual({ runId: "r1", position: "state" });
    expect(parseThreadEventId("r1:done")).toEqual({ runId: "r1", position: "done" });
    for (const bad of ["", "r1", ":3", "r1:", "r1:x", "r1:-2", "r1:1.5", "5"]) expect(parseThreadEventId(bad), bad).toBeNull();
  });
});

describe("thread stream", () => {
  it("sends a new run's start, events, state and end, named and numbered per run", async () => {
    const broker = new LocalRunEventBroker();
    const client = await reader(broker);
    await startRun(broker, "r1");
    broker.publish("r1", { mode: "updates", ns: ["child:1"], data: { a: 1 } });
    broker.finish("r1", done({ n: 2 }));
    await client.until(6);
    expect(client.seen).toEqual([
      { id: "r1:0", event: "run_start", data: { run_id: "r1", attempt: 1 } },
      { id: "r1:1", event: "metadata", data: { run_id: "r1", attempt: 1 } },
      { id: "r1:2", event: "values", data: { step: 1 } },
      { id: "r1:3", event: "updates|child:1", data: { a: 1 } },
      { id: "r1:state", event: "state_update", data: { run_id: "r1", values: { n: 2 } } },
      { id: "r1:done", event: "run_done", data: { run_id: "r1", status: "success", error: null } },
    ]);
    await client.stop();
    expect([broker.subscribers, broker.threadWatchers]).toEqual([0, 0]);
  });

  it("does not report a run as done when its end could not be stored: its error event is the last", async () => {
    const broker = new LocalRunEventBroker();
    const client = await reader(broker);
    await startRun(broker, "r1");
    const unstored = { error: "StorageUnavailableError", message: "the run's end could not be stored: disk full" };
    broker.publish("r1", { mode: "error", ns: [], data: unstored });
    broker.finish("r1", { status: "error", values: { n: 1 }, error: unstored, unstored });
    await startRun(broker, "r2");
    broker.finish("r2", done());
    await client.until(9);
    expect(client.ids()).toEqual(["r1:0", "r1:1", "r1:2", "r1:3", "r2:0", "r2:1", "r2:2", "r2:state", "r2:done"]);
    expect(client.seen[3]).toEqual({ id: "r1:3", event: "error", data: unstored });
    await client.stop();
  });

  it("sends only the asked modes", async () => {
    const broker = new LocalRunEventBroker();
    const lifecycle = await reader(broker, { modes: ["lifecycle"] });
    const state = await reader(broker, { modes: ["state_update"] });
    const runModes = await reader(broker, { modes: ["run_modes"] });
    await startRun(broker, "r1");
    broker.finish("r1", { status: "error", values: { n: 1 }, error: { error: "Boom", message: "bad" } });
    await startRun(broker, "r2");
    broker.finish("r2", done(null)); // no state: no state_update
    await startRun(broker, "r3");
    broker.finish("r3", done({ n: 3 }));
    await lifecycle.until(6);
    await state.until(2);
    await runModes.until(9);
    expect(lifecycle.ids()).toEqual(["r1:0", "r1:done", "r2:0", "r2:done", "r3:0", "r3:done"]);
    expect(lifecycle.seen[1].data).toEqual({ run_id: "r1", status: "error", error: { error: "Boom", message: "bad" } });
    expect(runModes.ids()).toEqual(["r1:1", "r1:2", "r1:done", "r2:1", "r2:2", "r2:done", "r3:1", "r3:2", "r3:done"]);
    expect(state.ids()).toEqual(["r1:state", "r3:state"]);
    for (const client of [lifecycle, state, runModes]) await client.stop();
  });

  it("joins a run already under way from now on, without a start it already sent", async () => {
    const broker = new LocalRunEventBroker();
    await startRun(broker, "r1");
    const client = await reader(broker);
    broker.publish("r1", { mode: "values", ns: [], data: { step: 2 } });
    broker.finish("r1", done());
    await client.until(3);
    expect(client.ids()).toEqual(["r1:3", "r1:state", "r1:done"]);
    await client.stop();
  });

  it("follows a run that opened and ended while a reconnecting client's stream started once", async () => {
    // r2 opens (the watch follows it), runs and ends while the held runs are being listed
    class Racing extends LocalRunEventBroker {
      override async threadRuns(threadId: string) {
        await startRun(this, "r2", true);
        this.finish("r2", done({ n: 2 }));
        return super.threadRuns(threadId);
      }
    }
    const broker = new Racing({ retentionMs: 60_000 });
    await startRun(broker, "r1", true);
    broker.finish("r1", done({ n: 1 }));
    const client = await reader(broker, { after: { runId: "r1", position: "done" } });
    await startRun(broker, "r3"); // in run order, a later run's events prove nothing more of r2 is coming
    await eventually(async () => (client.ids().includes("r3:2") ? true : undefined), 2_000, "r3's events");
    expect(client.ids()).toEqual(["r2:0", "r2:1", "r2:2", "r2:state", "r2:done", "r3:0", "r3:1", "r3:2"]);
    await client.stop();
    await broker.close();
  });

  it("resumes after the event a reconnecting client names, then every later held run", async () => {
    const cases: Array<[ThreadCursor, string[]]> = [
      ["start", ["r1:0", "r1:1", "r1:2", "r1:state", "r1:done", "r2:0", "r2:1", "r2:2"]],
      [{ runId: "r1", position: 1 }, ["r1:2", "r1:state", "r1:done", "r2:0", "r2:1", "r2:2"]],
      [{ runId: "r1", position: 0 }, ["r1:1", "r1:2", "r1:state", "r1:done", "r2:0", "r2:1", "r2:2"]],
      [{ runId: "r1", position: "state" }, ["r1:done", "r2:0", "r2:1", "r2:2"]],
      [{ runId: "r1", position: "done" }, ["r2:0", "r2:1", "r2:2"]],
      [{ runId: "r2", position: 1 }, ["r2:2"]],
      [{ runId: "r2", position: 2 }, []],
      [{ runId: "r0", position: "done" }, ["r1:0", "r1:1", "r1:2", "r1:state", "r1:done", "r2:0", "r2:1", "r2:2"]],
    ];
    for (const [after, expected] of cases) {
      // r1 ended (resumable: its events are still held), r2 is under way
      const broker = new LocalRunEventBroker({ retentionMs: 60_000 });
      await startRun(broker, "r1", true);
      broker.finish("r1", done({ n: 1 }));
      await startRun(broker, "r2", true);
      const client = await reader(broker, { after });
      // a live event proves the replay is complete: it comes after every replayed one
      const probe = broker.publish("r2", { mode: "values", ns: [], data: "live" });
      await client.until(expected.length + 1);
      expect(client.ids(), JSON.stringify(after)).toEqual([...expected, `r2:${probe.id}`]);
      await client.stop();
      expect([broker.subscribers, broker.threadWatchers]).toEqual([0, 0]);
      await broker.close();
    }
  });

  it("passes a later run's events on only after the earlier run ended", async () => {
    const broker = new LocalRunEventBroker();
    const client = await reader(broker, { modes: ["run_modes"] });
    await broker.open("r1", { threadId: "t" });
    await broker.open("r2", { threadId: "t" }); // enqueued behind r1
    broker.publish("r2", { mode: "values", ns: [], data: "r2 early" });
    broker.publish("r1", { mode: "values", ns: [], data: "r1" });
    await client.until(1);
    expect(client.ids()).toEqual(["r1:1"]);
    broker.finish("r1", done());
    broker.publish("r2", { mode: "values", ns: [], data: "r2 late" });
    broker.finish("r2", done());
    await client.until(5);
    expect(client.ids()).toEqual(["r1:1", "r1:done", "r2:1", "r2:2", "r2:done"]);
    await client.stop();
  });

  it("ends at once for a client that already left, and frees a run's subscription when the client leaves", async () => {
    const broker = new LocalRunEventBroker();
    await startRun(broker, "r1");
    const gone = await threadEvents(broker, "t", { modes: new Set(ALL), signal: AbortSignal.abort() });
    const seen: SseEvent[] = [];
    for await (const event of gone) seen.push(event);
    expect(seen).toEqual([]);
    expect([broker.subscribers, broker.threadWatchers]).toEqual([0, 0]);

    const client = await reader(broker);
    expect([broker.subscribers, broker.threadWatchers]).toEqual([1, 1]);
    await client.stop();
    expect([broker.subscribers, broker.threadWatchers]).toEqual([0, 0]);
    broker.publish("r1", { mode: "values", ns: [], data: "after the client left" });
    expect(client.seen).toEqual([]);
  });

  it("orders runs by id even when their channels open out of order (notices read late by another process)", async () => {
    const broker = new LocalRunEventBroker();
    const client = await reader(broker, { modes: ["run_modes"] });
    await broker.open("r3", { threadId: "t" });
    await broker.open("r1", { threadId: "t" });
    await broker.open("r2", { threadId: "t" });
    broker.publish("r3", { mode: "values", ns: [], data: 3 });
    broker.publish("r2", { mode: "values", ns: [], data: 2 });
    broker.publish("r1", { mode: "values", ns: [], data: 1 });
    await client.until(1);
    expect(client.ids()).toEqual(["r1:1"]);
    broker.finish("r2", done());
    broker.finish("r3", done());
    broker.finish("r1", done());
    await client.until(6);
    expect(client.ids()).toEqual(["r1:1", "r1:done", "r2:1", "r2:done", "r3:1", "r3:done"]);
    await client.stop();
  });
});
