/**
 * The PostgreSQL event broker across processes, at the moments a process can die: right after
 * a run's end is stored (by its executor, by a cancel of the pending run, by the reaper ending a
 * run whose attempts are exhausted), and while its run's thread is deleted by another process.
 * Waiters in other processes must end in every case. Two brokers (with their own LISTEN
 * connections) on one database stand for two processes.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Notifications } from "../../src/runtime/postgres/notifications.js";
import { PostgresRunEventBroker } from "../../src/runtime/postgres/run-broker.js";
import { ComposedRunEngine, type RunEngineDeps } from "../../src/runtime/runs/run-engine.js";
import type { RunDispatcher, StopChannel } from "../../src/runtime/runs/engine.js";
import { PostgresRunEventLog } from "../../src/storage/postgres/run-events.js";
import { PostgresRunLeases } from "../../src/storage/postgres/run-leases.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import type { RunEvent, RunOutcome } from "../../src/runtime/runs/broker.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/runs.js";

const logger = pino({ level: "silent" });
let database: TestDatabase;
let storage: PostgresStorage;
const opened: Array<{ notifications: Notifications; broker: PostgresRunEventBroker }> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: 6 });
});
afterAll(async () => {
  for (const { notifications, broker } of opened) {
    await broker.close();
    await notifications.close();
  }
  await storage?.close();
  await database?.drop();
});

/** A broker of its own, as in another process. */
async function process_(events = new PostgresRunEventLog(storage.db)): Promise<PostgresRunEventBroker> {
  const notifications = new Notifications(database.uri, storage.db, logger);
  await notifications.start();
  const broker = new PostgresRunEventBroker({ events, notifications, logger, retentionMs: 60_000 });
  await broker.start();
  opened.push({ notifications, broker });
  return broker;
}

/** An event log that counts its reads of rows after a cursor, and of streams' states. */
class CountingEventLog extends PostgresRunEventLog {
  reads = 0;
  stateReads = 0;
  override after(...args: Parameters<PostgresRunEventLog["after"]>) {
    this.reads++;
    return super.after(...args);
  }
  override state(...args: Parameters<PostgresRunEventLog["state"]>) {
    this.stateReads++;
    return super.state(...args);
  }
}

/** An event log whose reads of a stream's state answer only once `release` is called (the rows it saw may be overtaken meanwhile). */
class HeldStateEventLog extends CountingEventLog {
  #held = true;
  #waiting: Array<() => void> = [];
  override async state(...args: Parameters<PostgresRunEventLog["state"]>) {
    const state = await super.state(...args);
    if (this.#held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return state;
  }
  release(): void {
    this.#held = false;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
  get holding(): number {
    return this.#waiting.length;
  }
}

/** Resolves once every notice sent before now has reached `broker`'s process (notices arrive in order). */
async function noticesArrived(broker: PostgresRunEventBroker): Promise<void> {
  const { notifications } = opened.find((o) => o.broker === broker)!;
  const channel = `lgts_test_${crypto.randomUUID().replaceAll("-", "")}`;
  let arrived = () => {};
  const marker = new Promise<void>((resolve) => (arrived = resolve));
  const off = await notifications.on(channel, () => arrived());
  await notifications.notify(channel, "marker");
  await marker;
  off();
}

async function runningRun() {
  const thread = await storage.threads.create();
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;
  const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
  return storage.runs.update(run.run_id, { status: "running", attempt: 1 });
}

/** Subscribes through `broker`; `ended` resolves with the outcome it reports. */
async function waiter(broker: PostgresRunEventBroker, runId: string) {
  const events: RunEvent[] = [];
  let reportEnd: (outcome: RunOutcome) => void = () => {};
  const ended = new Promise<RunOutcome>((resolve) => (reportEnd = resolve));
  const off = await broker.subscribe(runId, { event: (e) => events.push(e), end: (o) => reportEnd(o) }, { lastEventId: "-1" });
  expect(off).not.toBeNull();
  return { events, ended };
}

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

describe("PostgreSQL run events across processes", () => {
  it("stores a run's end event with its end: the executing process dying right after leaves no waiter hanging", async () => {
    const [executing, other] = [await process_(), await process_()];
    const run = await runningRun();
    await executing.open(run.run_id, { threadId: run.thread_id, publisher: true, attempt: 1 });
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 1 } });
    const waiting = await waiter(other, run.run_id);
    const outcome: RunOutcome = { status: "success", values: { n: 2 }, error: null };
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 2 } });
    const events = await executing.closingEvents(run.run_id, outcome);
    await storage.runs.end(run.run_id, { update: { status: "success" }, events: events! });
    // the process dies here: `finish` never comes
    expect(await within(waiting.ended, 10_000, "the waiter's end")).toEqual(outcome);
    expect(waiting.events.map((e) => [e.id, e.data])).toEqual([
      ["1", { n: 1 }],
      ["2", { n: 2 }],
    ]);
    expect((await storage.runs.get(run.run_id)).status).toBe("success");
  });

  it("commits the events published right before a run's end (the graph's last ones) with the end: nobody gets them before it is stored", async () => {
    const executing = await process_();
    const run = await runningRun();
    await executing.open(run.run_id, { threadId: run.thread_id, publisher: true, attempt: 1, deferDurability: true });
    const local = await waiter(executing, run.run_id);
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 1 } });
    await eventually(async () => (local.events.length === 1 ? true : undefined), 10_000, "the mid-run event");
    // the graph's last events, then its end at once
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 2 } });
    executing.publish(run.run_id, { mode: "updates", ns: [], data: { n: 2 } });
    const outcome: RunOutcome = { status: "success", values: { n: 2 }, error: null };
    const events = await executing.closingEvents(run.run_id, outcome);
    expect(events!.rows.map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(local.events).toHaveLength(1);
    await storage.runs.end(run.run_id, { update: { status: "success" }, events: events!, run });
    expect(local.events).toHaveLength(1);
    executing.finish(run.run_id, outcome, true);
    expect(await within(local.ended, 10_000, "the end")).toEqual(outcome);
    expect(local.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 2 }]);
    const { rows } = await storage.db.query<{ seq: number; x: string }>(
      "SELECT seq, xmin::text AS x FROM run_events WHERE run_id = $1 ORDER BY seq",
      [run.run_id],
    );
    const end = (await storage.db.query<{ x: string }>("SELECT xmin::text AS x FROM runs WHERE run_id = $1", [run.run_id])).rows[0].x;
    expect(rows.map((r) => [r.seq, r.x === end])).toEqual([
      [1, false],
      [2, true],
      [3, true],
      [4, true],
    ]);
  });

  it("hands the rows it writes to its own subscribers without reading them back; another process reads them", async () => {
    const [executingLog, otherLog] = [new CountingEventLog(storage.db), new CountingEventLog(storage.db)];
    const [executing, other] = [await process_(executingLog), await process_(otherLog)];
    const run = await runningRun();
    await executing.open(run.run_id, { threadId: run.thread_id, publisher: true, attempt: 1, deferDurability: true });
    const [local, remote] = [await waiter(executing, run.run_id), await waiter(other, run.run_id)];
    const subscribedReads = executingLog.reads; // each subscription's first read, after its replay
    for (let n = 1; n <= 3; n++) {
      executing.publish(run.run_id, { mode: "values", ns: [], data: { n } });
      await eventually(async () => (remote.events.length === n ? true : undefined), 10_000, `event ${n} in the other process`);
    }
    const outcome: RunOutcome = { status: "success", values: { n: 3 }, error: null };
    const events = await executing.closingEvents(run.run_id, outcome);
    await storage.runs.end(run.run_id, { update: { status: "success" }, events: events! });
    executing.finish(run.run_id, outcome, true);
    expect(await within(local.ended, 10_000, "the local end")).toEqual(outcome);
    expect(await within(remote.ended, 10_000, "the remote end")).toEqual(outcome);
    expect(local.events.map((e) => [e.id, e.data])).toEqual(remote.events.map((e) => [e.id, e.data]));
    expect(local.events).toHaveLength(3);
    await noticesArrived(executing);
    expect(executingLog.reads).toBe(subscribedReads);
    expect(otherLog.reads).toBeGreaterThan(1);
  });

  it("reads the rows announced while a new subscriber read the stream's state, and no rows otherwise", async () => {
    const [executingLog, otherLog] = [new HeldStateEventLog(storage.db), new HeldStateEventLog(storage.db)];
    const [executing, other] = [await process_(executingLog), await process_(otherLog)];
    const run = await runningRun();
    const subscribe = (broker: PostgresRunEventBroker, endOnly = false) => {
      const events: RunEvent[] = [];
      let reportEnd: (outcome: RunOutcome) => void = () => {};
      const ended = new Promise<RunOutcome>((resolve) => (reportEnd = resolve));
      const subscribed = broker.subscribe(run.run_id, { event: (e) => events.push(e), end: (o) => reportEnd(o) }, { fromStart: true, endOnly });
      return { events, ended, subscribed };
    };
    // they have read the state (no rows yet) and not answered; then this process publishes the run
    const [local, localEnd, remote] = [subscribe(executing), subscribe(executing, true), subscribe(other)];
    await eventually(async () => (executingLog.holding === 2 && otherLog.holding === 1 ? true : undefined), 10_000, "the state reads");
    await executing.open(run.run_id, { threadId: run.thread_id, publisher: true, attempt: 1, deferDurability: true });
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 1 } });
    const outcome: RunOutcome = { status: "success", values: { n: 1 }, error: null };
    const events = await executing.closingEvents(run.run_id, outcome);
    await storage.runs.end(run.run_id, { update: { status: "success" }, events: events! });
    executing.finish(run.run_id, outcome, true);
    await Promise.all([noticesArrived(executing), noticesArrived(other)]);
    executingLog.release();
    otherLog.release();
    expect(await local.subscribed).not.toBeNull();
    expect(await remote.subscribed).not.toBeNull();
    expect(await within(local.ended, 10_000, "the local end")).toEqual(outcome);
    expect(await within(remote.ended, 10_000, "the remote end")).toEqual(outcome);
    expect(await within(localEnd.ended, 10_000, "the local end of a waiter needing only that")).toEqual(outcome);
    expect(localEnd.events).toEqual([]);
    expect(local.events.map((e) => e.data)).toEqual([{ n: 1 }]);
    expect(remote.events.map((e) => e.data)).toEqual([{ n: 1 }]);

    // a subscriber to a live run whose state shows nothing it lacks reads no rows
    const quiet = await runningRun();
    const quietLog = new CountingEventLog(storage.db);
    const subscriber = await process_(quietLog);
    const off = await subscriber.subscribe(quiet.run_id, { event: () => {}, end: () => {} }, { fromStart: true });
    expect(off).not.toBeNull();
    off!();
    expect(quietLog.reads).toBe(0);
  });

  it("reads nothing for a waiter that needs only the end and subscribed before this process published the run, even when events are written meanwhile", async () => {
    const log = new HeldStateEventLog(storage.db);
    const executing = await process_(log);
    const run = await runningRun();
    let reportEnd: (outcome: RunOutcome) => void = () => {};
    const ended = new Promise<RunOutcome>((resolve) => (reportEnd = resolve));
    const events: RunEvent[] = [];
    const subscribed = executing.subscribe(
      run.run_id,
      { event: (e) => events.push(e), end: (o) => reportEnd(o) },
      { fromStart: true, endOnly: true },
    );
    await eventually(async () => (log.holding === 1 ? true : undefined), 10_000, "the state read");
    await executing.open(run.run_id, { threadId: run.thread_id, publisher: true, attempt: 1, deferDurability: true });
    // written and handed over while the state is read: not read back
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 1 } });
    await eventually(
      async () => ((await storage.db.query("SELECT 1 FROM run_events WHERE run_id = $1", [run.run_id])).rowCount === 1 ? true : undefined),
      10_000,
      "the event's row",
    );
    await noticesArrived(executing);
    log.release();
    expect(await subscribed).not.toBeNull();
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 2 } });
    const outcome: RunOutcome = { status: "success", values: { n: 2 }, error: null };
    const closing = await executing.closingEvents(run.run_id, outcome);
    await storage.runs.end(run.run_id, { update: { status: "success" }, events: closing! });
    executing.finish(run.run_id, outcome, true);
    expect(await within(ended, 10_000, "the end")).toEqual(outcome);
    await noticesArrived(executing);
    expect(events).toEqual([]);
    expect(log.reads).toBe(0);
  });

  it("answers a waiter for the end of a run it publishes without reading its stream, and reads the end another process stored", async () => {
    const log = new CountingEventLog(storage.db);
    const executing = await process_(log);
    // ended by another process (its thread deleted, say) before this one subscribed: its notice came first
    const run = await runningRun();
    const outcome: RunOutcome = { status: "interrupted", values: null, error: null };
    await storage.db.query("UPDATE runs SET status = 'interrupted' WHERE run_id = $1", [run.run_id]);
    await new PostgresRunEventLog(storage.db).finish(run.run_id, JSON.stringify(outcome));
    await noticesArrived(executing);
    await executing.open(run.run_id, { threadId: run.thread_id, publisher: true, attempt: 1, deferDurability: true });
    let reportEnd: (outcome: RunOutcome) => void = () => {};
    const ended = new Promise<RunOutcome>((resolve) => (reportEnd = resolve));
    expect(await executing.subscribe(run.run_id, { event: () => {}, end: (o) => reportEnd(o) }, { fromStart: true, endOnly: true })).not.toBeNull();
    expect(log.stateReads).toBe(0);
    // its events are refused (no longer its run): its waiter reads the end stored meanwhile
    executing.publish(run.run_id, { mode: "values", ns: [], data: { n: 1 } });
    expect(await within(ended, 10_000, "the end")).toEqual(outcome);
  });

  it("ends the waiters of a dead process's run when another process deletes its thread", async () => {
    const [dead, other] = [await process_(), await process_()];
    const run = await runningRun();
    await dead.open(run.run_id, { threadId: run.thread_id, publisher: true, attempt: 1 });
    dead.publish(run.run_id, { mode: "values", ns: [], data: { n: 1 } });
    await eventually(
      async () => {
        const { rowCount } = await storage.db.query("SELECT 1 FROM run_events WHERE run_id = $1", [run.run_id]);
        return rowCount > 0 ? true : undefined;
      },
      10_000,
      "the event to be written",
    );
    // the executing process is gone (it never finishes the run); a client waits through another
    const waiting = await waiter(other, run.run_id);
    await storage.threads.delete(run.thread_id);
    expect(await within(waiting.ended, 10_000, "the waiter's end")).toEqual({ status: "interrupted", values: null, error: null });
    expect(waiting.events.map((e) => e.data)).toEqual([{ n: 1 }]);
    // a waiter arriving later learns the run is gone
    expect(await other.subscribe(run.run_id, { event: () => {}, end: () => {} })).toBeNull();
  });

  it.each(["interrupt", "rollback"] as const)(
    "stores a pending run's %s cancel with its end event: the cancelling process dying right after leaves no waiter hanging",
    async (action) => {
      const [cancelling, other] = [await process_(), await process_()];
      // the cancelling process dies right after its storage write: its broker's `finish` never comes
      cancelling.finish = () => {};
      const engine = new ComposedRunEngine(
        { storage, logger } as unknown as RunEngineDeps,
        {
          broker: cancelling,
          dispatcher: { withdraw: () => {} } as unknown as RunDispatcher,
          stops: { send: async () => {} } as unknown as StopChannel,
        },
        { sendWebhooks: false },
      );
      const thread = await storage.threads.create();
      const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;
      const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
      const waiting = await waiter(other, run.run_id);
      await engine.cancel(run, action, "cancelled by a test");
      expect(await within(waiting.ended, 10_000, "the waiter's end")).toEqual({ status: "interrupted", values: null, error: null });
      if (action === "rollback") await expect(storage.runs.get(run.run_id)).rejects.toMatchObject({ kind: "not_found" });
      else expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "interrupted", cancel_reason: "cancelled by a test" });
      // a cancel that lost the race to a claim writes nothing
      const second = (await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" })).run;
      await storage.runs.update(second.run_id, { status: "running", attempt: 1 });
      await engine.cancel(second, action, "too late");
      expect(await storage.runs.get(second.run_id)).toMatchObject({ status: "running", cancel_reason: null });
      const { rowCount } = await storage.db.query("SELECT 1 FROM run_events WHERE run_id = $1", [second.run_id]);
      expect(rowCount).toBe(0);
    },
  );

  it("ends a run whose attempts are exhausted with its end event and its thread's status in the reaper's statement", async () => {
    const other = await process_();
    const run = await runningRun();
    const retried = await runningRun();
    await storage.db.query("UPDATE runs SET attempt = 3, lease_owner = 'dead', lease_expires_at = now() - interval '1 s' WHERE run_id = $1", [
      run.run_id,
    ]);
    await storage.db.query("UPDATE runs SET lease_owner = 'dead', lease_expires_at = now() - interval '1 s' WHERE run_id = $1", [retried.run_id]);
    const waiting = await waiter(other, run.run_id);
    const exhausted = { error: "RunAttemptsExhausted", message: "cut 3 times" };
    const outcome: RunOutcome = { status: "error", values: null, error: exhausted };
    // the reaping process dies right after this statement
    const reaped = await new PostgresRunLeases(storage.db).reapExpired("reaper", [], 3, exhausted, JSON.stringify(outcome));
    const mine = reaped.filter((r) => r.run_id === run.run_id || r.run_id === retried.run_id); // earlier tests' runs are reaped too
    expect(Object.fromEntries(mine.map((r) => [r.run_id, r.status]))).toEqual({ [run.run_id]: "error", [retried.run_id]: "pending" });
    expect(await within(waiting.ended, 10_000, "the waiter's end")).toEqual(outcome);
    expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "error", error: exhausted });
    expect(await storage.threads.get(run.thread_id)).toMatchObject({ status: "error", error: exhausted });
    expect((await storage.threads.get(retried.thread_id)).status).toBe("busy");
  });
});
