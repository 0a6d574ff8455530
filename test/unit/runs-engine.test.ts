import { InMemoryStore, MemorySaver } from "@langchain/langgraph";
import { WebhookPolicy } from "../../src/runtime/webhooks/policy.js";
import { StorageCheckpointSaver } from "../../src/runtime/checkpointer.js";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadGraphRegistry, type GraphRegistry } from "../../src/runtime/graphs/index.js";
import { localRunParts } from "../../src/runtime/runs/local-parts.js";
import type { LocalRunEventBroker } from "../../src/runtime/runs/local-broker.js";
import { ComposedRunEngine, RUN_ENGINE_DEFAULTS, type RunEngineDeps } from "../../src/runtime/runs/run-engine.js";
import type { RunEngineOptions } from "../../src/runtime/runs/engine.js";
import { parseRunRequest, type RunRequest } from "../../src/runtime/runs/request.js";
import { ensureSystemAssistants } from "../../src/runtime/system-assistants.js";
import type { Run, Storage } from "../../src/storage/types.js";
import { eventually, RUNS_CONFIG, webhookReceiver } from "../support/runs.js";

/** The engine a single-process server composes (src/runtime/deployment.ts), without the server. */
function localRunEngine(deps: RunEngineDeps, options: RunEngineOptions = {}): ComposedRunEngine {
  const settings = { ...RUN_ENGINE_DEFAULTS, ...options };
  return new ComposedRunEngine(deps, localRunParts({ storage: deps.storage, logger: deps.logger, ...settings }), settings);
}
import { openTempStorage, tempDir, TEST_SHARDS, TEST_STORAGE } from "./storage-helpers.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { nodeFileIO, type FileIO } from "../../src/storage/lowdb/durable-file.js";
import { prepareRun, startRun } from "../../src/runtime/runs/create.js";
import { startRunAndFollow } from "../../src/app/run-streams.js";
import { NO_AUTH } from "../../src/auth/index.js";
import type { RunEvent, RunOutcome } from "../../src/runtime/runs/broker.js";
import { StorageUnavailableError } from "../../src/storage/errors.js";

/**
 * File calls whose syncs (fdatasync) of the commit log wait while `held` (or fail, with `failing`), and whose
 * log writes fail as on a full disk (writing nothing) from the first one `fillDiskAt` matches.
 */
function gatedLogSyncs() {
  let release: () => void = () => {};
  const gate = {
    held: null as Promise<void> | null,
    failing: false,
    full: false,
    fullAt: null as { matches: (text: string) => boolean; once: boolean } | null,
  };
  /** The text of every log write made so far. */
  const writes: string[] = [];
  /** How many log fsyncs had started when each write was made (writes with the same count share the next fsync). */
  const syncsBefore: number[] = [];
  let syncs = 0;
  const io: FileIO = {
    rename: nodeFileIO.rename,
    async open(file, flags) {
      const fh = await nodeFileIO.open(file, flags);
      if (!/log-\d+\.ndjson$/.test(file)) return fh;
      return {
        writeFile: () => Promise.reject(new Error("the commit log writes at its offset")),
        write: async (buffer: Buffer, offset: number, length: number, position: number) => {
          const text = buffer.toString("utf8", offset, offset + length);
          if (gate.fullAt?.matches(text)) {
            if (gate.fullAt.once) gate.fullAt = null;
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          }
          if (gate.full) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          writes.push(text);
          syncsBefore.push(syncs);
          return fh.write(buffer, offset, length, position);
        },
        close: () => fh.close(),
        sync: () => Promise.reject(new Error("the commit log syncs with fdatasync")),
        datasync: async () => {
          syncs += 1;
          await gate.held;
          if (gate.failing) throw new Error("disk gone");
          return fh.datasync();
        },
      };
    },
  };
  return {
    io,
    writes,
    syncsBefore,
    hold: () => {
      gate.held = new Promise<void>((resolve) => (release = resolve));
    },
    release: () => release(),
    fail: () => ((gate.failing = true), release()),
    /** The disk is full from the first log write holding `text` (only for that write, with `once`). */
    fillDiskAt: (text: string, options: { once?: boolean } = {}) => {
      gate.fullAt = {
        matches: (written) => {
          if (!written.includes(text)) return false;
          if (!options.once) gate.full = true;
          return true;
        },
        once: options.once ?? false,
      };
    },
    heal: () => {
      gate.failing = false;
      gate.full = false;
      gate.fullAt = null;
    },
  };
}

/** MemorySaver that can also forget a run's checkpoints (what the engine needs for rollback). */
/** MemorySaver saves are instantly "durable": nothing to defer or settle. */
class TestSaver extends MemorySaver {
  deleted: string[] = [];
  async deleteRun(_threadId: string, runId: string) {
    this.deleted.push(runId);
  }
  async settle() {}
  deferringDurability() {
    return this;
  }
}

let registry: GraphRegistry | undefined;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

async function engine(options: RunEngineOptions = {}) {
  registry ??= await loadGraphRegistry(RUNS_CONFIG);
  const { storage, done } = await openTempStorage();
  await ensureSystemAssistants(storage, registry);
  const checkpointer = new TestSaver();
  const runs = localRunEngine({ storage, graphs: registry, checkpointer, logger: pino({ level: "silent" }) }, options);
  await runs.start();
  cleanup.push(async () => {
    await runs.shutdown(0);
    await done();
  });
  return { runs, storage, checkpointer, graphs: registry };
}

/** A run of a graph that yields to the event loop for a while: the flushes before its end are done before it is written. */
const SLOW_RUN = { assistant_id: "slow", input: { steps: 1, delay_ms: 200 } };
const SLOW_RESULT = { steps: 1, delay_ms: 200, completed: 1, log: ["step 1"] };

/** Stores a run the way the HTTP layer does (without the HTTP layer) and schedules it. */
async function submit(env: { runs: ComposedRunEngine; storage: Storage; graphs: GraphRegistry }, threadId: string, body: RunRequest) {
  const parsed = parseRunRequest(body, { stateless: false });
  const { run } = await env.storage.runs.create({
    thread_id: threadId,
    assistant_id: env.graphs.defaultAssistantId(body.assistant_id),
    kwargs: parsed.kwargs,
    multitask_strategy: "enqueue",
    not_before: parsed.notBefore ? new Date(parsed.notBefore).toISOString() : null,
  });
  env.runs.submit(run);
  return run;
}

describe("run engine (local parts)", () => {
  it("executes a run: success, attempt counted, thread values and status stored, events published", async () => {
    const env = await engine();
    const thread = await env.storage.threads.create();
    const run = await submit(env, thread.thread_id, { assistant_id: "trivial", input: { value: 1 }, stream_mode: ["values", "updates"] });
    const modes: string[] = [];
    await env.runs.broker.subscribe(run.run_id, { event: (e) => modes.push(e.mode), end: () => {} });
    const outcome = await env.runs.outcome(run);
    expect(outcome).toEqual({ status: "success", values: { value: 4 }, error: null });
    expect(modes[0]).toBe("metadata");
    expect(modes.filter((m) => m === "updates")).toHaveLength(3);
    expect(await env.storage.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 1 });
    expect(await env.storage.threads.get(thread.thread_id)).toMatchObject({ status: "idle", values: { value: 4 } });
    expect((env.runs.broker as LocalRunEventBroker).size).toBe(0);
    // the slot is freed right after the run's end is announced
    await new Promise((resolve) => setImmediate(resolve));
    expect(env.runs.load).toEqual({ running: 0, waiting: 0 });
  });

  it("sends a run's last events only with its end, once the end is stored", async () => {
    const env = await engine();
    const thread = await env.storage.threads.create();
    const run = await submit(env, thread.thread_id, { assistant_id: "trivial", input: { value: 1 }, stream_mode: ["values"] });
    // the run's stored status at the moment each event reaches a subscriber (read as of the call)
    const seen: Array<{ mode: string; status: Promise<string> }> = [];
    await env.runs.broker.subscribe(run.run_id, {
      event: (e) => seen.push({ mode: e.mode, status: env.storage.runs.get(run.run_id).then((r) => r.status) }),
      end: () => {},
    });
    await env.runs.outcome(run);
    const statuses = await Promise.all(seen.map(async ({ mode, status }) => `${mode}: ${await status}`));
    expect(statuses[0]).toBe("metadata: running");
    expect(statuses.at(-1)).toBe("values: success");
    expect(statuses.filter((s) => s.startsWith("values"))).toHaveLength(4);
  });

  it("publishes LangChain callback events for the events stream mode, beside the other modes", async () => {
    const env = await engine();
    const thread = await env.storage.threads.create();
    const run = await submit(env, thread.thread_id, {
      assistant_id: "agent",
      input: { messages: [{ role: "user", content: "hi there" }] },
      stream_mode: ["events", "updates", "messages-tuple"],
    });
    const seen: Array<{ mode: string; data: unknown }> = [];
    await env.runs.broker.subscribe(run.run_id, { event: (e) => seen.push(e), end: () => {} });
    await env.runs.outcome(run);
    const events = seen.filter((e) => e.mode === "events").map((e) => (e.data as { event: string }).event);
    expect(events).toContain("on_chain_start");
    expect(events).toContain("on_chat_model_stream");
    expect(seen.filter((e) => e.mode === "updates")).toHaveLength(1);
    expect(seen.filter((e) => e.mode === "messages").length).toBeGreaterThanOrEqual(3);
    expect(seen.some((e) => e.mode === "values" || e.mode === "checkpoints")).toBe(false);
  });

  it("records a graph error on the run and the thread", async () => {
    const env = await engine();
    const thread = await env.storage.threads.create();
    const run = await submit(env, thread.thread_id, { assistant_id: "failing", input: { message: "nope" } });
    const errors: unknown[] = [];
    await env.runs.broker.subscribe(run.run_id, { event: (e) => e.mode === "error" && errors.push(e.data), end: () => {} });
    const outcome = await env.runs.outcome(run);
    expect(outcome).toMatchObject({ status: "error", error: { error: "ExampleFailure", message: "nope" } });
    expect(errors).toEqual([{ error: "ExampleFailure", message: "nope" }]);
    expect(await env.storage.threads.get(thread.thread_id)).toMatchObject({ status: "error", error: { error: "ExampleFailure" } });
  });

  it("cancels: interrupt keeps the run, rollback deletes it and its checkpoints", async () => {
    const env = await engine();
    const thread = await env.storage.threads.create();
    // (through streamEvents: the events mode must stop on cancel too)
    const kept = await submit(env, thread.thread_id, { assistant_id: "slow", input: { steps: 20, delay_ms: 50 }, stream_mode: ["events"] });
    const dropped = await submit(env, thread.thread_id, { assistant_id: "slow", input: { steps: 20, delay_ms: 50 } });
    const running = (runId: string) =>
      eventually(async () => ((await env.storage.runs.get(runId)).status === "running" ? true : undefined), 5_000, `${runId} running`);
    await running(kept.run_id);
    await env.runs.cancel(kept, "interrupt", "test");
    expect(await env.runs.outcome(kept)).toMatchObject({ status: "interrupted" });
    expect(await env.storage.runs.get(kept.run_id)).toMatchObject({ status: "interrupted", cancel_reason: "test" });
    await running(dropped.run_id);
    await env.runs.cancel(dropped, "rollback", "test");
    await env.runs.outcome(dropped);
    await expect(env.storage.runs.get(dropped.run_id)).rejects.toMatchObject({ kind: "not_found" });
    expect(env.checkpointer.deleted).toEqual([dropped.run_id]);
  });

  it("ends a run past the time limit as timeout", async () => {
    const env = await engine({ runTimeoutMs: 100 });
    const thread = await env.storage.threads.create();
    const run = await submit(env, thread.thread_id, { assistant_id: "slow", input: { steps: 5, delay_ms: 100 } });
    expect(await env.runs.outcome(run)).toMatchObject({ status: "timeout", error: { error: "TimeoutError" } });
  });

  it("answers outcome() from storage for a run that ended before the question", async () => {
    const env = await engine();
    const thread = await env.storage.threads.create();
    const run = await submit(env, thread.thread_id, { assistant_id: "trivial", input: { value: 0 } });
    await env.runs.outcome(run);
    expect(await env.runs.outcome(run)).toEqual({ status: "success", values: { value: 3 }, error: null });
    const controller = new AbortController();
    const waiting = await submit(env, thread.thread_id, { assistant_id: "slow", input: { steps: 3, delay_ms: 100 } });
    const pending = env.runs.outcome(waiting, undefined, controller.signal);
    controller.abort();
    expect(await pending).toBeNull();
  });

  it("retries a run left running by a crash and gives up after maxAttempts", async () => {
    registry ??= await loadGraphRegistry(RUNS_CONFIG);
    const { storage, done } = await openTempStorage();
    cleanup.push(done);
    await ensureSystemAssistants(storage, registry);
    const thread = await storage.threads.create();
    const { run: retried } = await storage.runs.create({
      thread_id: thread.thread_id,
      assistant_id: registry.defaultAssistantId("trivial"),
      kwargs: parseRunRequest({ assistant_id: "trivial", input: { value: 1 } }, { stateless: false }).kwargs,
      multitask_strategy: "enqueue",
    });
    await storage.runs.update(retried.run_id, { status: "running", attempt: 1 });
    const { run: exhausted } = await storage.runs.create({
      thread_id: (await storage.threads.create()).thread_id,
      assistant_id: registry.defaultAssistantId("trivial"),
      kwargs: parseRunRequest({ assistant_id: "trivial" }, { stateless: false }).kwargs,
      multitask_strategy: "enqueue",
    });
    await storage.runs.update(exhausted.run_id, { status: "running", attempt: 3 });

    const runs = localRunEngine({ storage, graphs: registry, checkpointer: new TestSaver(), logger: pino({ level: "silent" }) }, { maxAttempts: 3 });
    cleanup.unshift(() => runs.shutdown(0));
    await runs.start();
    expect(await runs.outcome(retried)).toMatchObject({ status: "success", values: { value: 4 } });
    expect(await storage.runs.get(retried.run_id)).toMatchObject({ attempt: 2 });
    expect(await storage.runs.get(exhausted.run_id)).toMatchObject({ status: "error", error: { error: "RunAttemptsExhausted" } });
  });

  describe.runIf(TEST_STORAGE === "lowdb")("a run followed from its scheduling (lowdb)", () => {
    /** `withServerParts`: the server's checkpointer (over the same storage) and a store, instead of memory savers. */
    async function gatedEngine(options: { withServerParts?: boolean; logs?: string[] } = {}) {
      registry ??= await loadGraphRegistry(RUNS_CONFIG);
      const gate = gatedLogSyncs();
      const { dir, cleanup: removeDir } = await tempDir();
      const storage = await LowdbStorage.open({ dataDir: dir, shards: TEST_SHARDS, io: gate.io });
      await ensureSystemAssistants(storage, registry);
      const parts = options.withServerParts
        ? { checkpointer: new StorageCheckpointSaver(storage.checkpoints), store: new InMemoryStore() }
        : { checkpointer: new TestSaver() };
      const logger = options.logs ? pino({ level: "warn" }, { write: (line: string) => options.logs!.push(line) }) : pino({ level: "silent" });
      const runs = localRunEngine({ storage, graphs: registry, ...parts, logger });
      await runs.start();
      cleanup.push(async () => {
        gate.heal();
        gate.release();
        await runs.shutdown(0);
        await storage.close();
        await removeDir();
      });
      const deps = { storage, graphs: registry, runs, langsmith: null, webhooks: new WebhookPolicy(null, {}, "dev") };
      const access = { thread: { conditions: [] }, assistant: { conditions: [] }, user: null };
      /** `threadId` null: a stateless run (on a temporary thread, deleted at its end). */
      const start = async (
        threadId: string | null,
        onEvent: (e: RunEvent) => void,
        onEnd: (o: RunOutcome) => void = () => {},
        body: RunRequest = { assistant_id: "trivial", input: { value: 1 } },
        beforeDurable = true,
      ) => {
        const prepared = await prepareRun(deps, body, threadId === null, access);
        const onScheduled = (run: Run) => {
          // registered synchronously (before the run can publish); the promise only tells when
          void runs.broker.subscribe(run.run_id, { event: onEvent, end: onEnd });
        };
        return startRun(deps, threadId, prepared, access, { onScheduled, beforeDurable });
      };
      return { gate, storage, runs, start, dir, deps };
    }

    it("starts executing while its creation is still on its way to disk, and answers once it is durable", async () => {
      const { gate, storage, runs, start } = await gatedEngine();
      const thread = await storage.threads.create();
      const events: string[] = [];
      gate.hold();
      let created = false;
      const starting = start(thread.thread_id, (e) => events.push(e.mode));
      void starting.then(() => (created = true));
      await eventually(async () => (events.includes("metadata") ? true : undefined), 10_000, "the run to start");
      expect(created).toBe(false);
      gate.release();
      const run = await starting;
      expect(await runs.outcome(run)).toEqual({ status: "success", values: { value: 4 }, error: null });
    });

    it("stores its end without waiting for its start to reach the disk, and announces the end once durable", async () => {
      const { gate, storage, start } = await gatedEngine();
      const thread = await storage.threads.create();
      let outcome: RunOutcome | null = null;
      const events: string[] = [];
      gate.hold();
      const starting = start(
        thread.thread_id,
        (e) => events.push(e.mode),
        (o) => (outcome = o),
      );
      await eventually(async () => (events.includes("metadata") ? true : undefined), 10_000, "the run to start");
      // the run's creation and start wait for the held fsync; its end is stored behind them
      // (before, the end waited for that fsync to store the start first)
      await eventually(
        async () => ((await storage.runs.active(thread.thread_id)).length === 0 ? true : undefined),
        10_000,
        "the run's end to be stored",
      );
      expect(outcome).toBeNull();
      gate.release();
      const run = await starting;
      expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 1 });
      await eventually(async () => outcome ?? undefined, 10_000, "the run's end to be announced");
      expect(outcome).toEqual({ status: "success", values: { value: 4 }, error: null });
    });

    it("stores its end in the write of its last checkpoint, without waiting for the graph's store to stop", async () => {
      const { gate, storage, runs, start } = await gatedEngine({ withServerParts: true });
      const thread = await storage.threads.create();
      const run = await start(thread.thread_id, () => {});
      expect(await runs.outcome(run)).toEqual({ status: "success", values: { value: 4 }, error: null });
      // the graph never yields to the event loop: its creation, checkpoints and end are one write
      // (before, its end waited for the stream's end, a timer of its store later: a second write)
      const carrying = gate.writes.filter((text) => text.includes(run.run_id));
      expect(carrying).toHaveLength(1);
      expect(carrying[0]).toContain('"status":"success"');
      expect(carrying[0]).toContain('"checkpoint_id"');
    });

    it("starts a streamed run once its creation is durable, and streams it from its metadata", async () => {
      const { gate, storage, deps } = await gatedEngine();
      const thread = await storage.threads.create();
      const written = gate.writes.length;
      gate.hold();
      const body = { assistant_id: "trivial", input: { value: 1 }, stream_mode: ["values" as const] };
      const following = startRunAndFollow(
        deps,
        NO_AUTH,
        { threadId: thread.thread_id, body },
        { signal: new AbortController().signal, cancelReason: null },
      );
      await eventually(async () => (gate.writes.length > written ? true : undefined), 10_000, "the run's creation to be written");
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      // its creation's fsync is held: not started (a run started while it was held would be running or ended)
      expect((await storage.runs.active(thread.thread_id)).map((run) => run.status)).toEqual(["pending"]);
      gate.release();
      const { events } = await following;
      const modes: string[] = [];
      for await (const event of events!) modes.push(event.mode);
      expect(modes).toEqual(["metadata", "values", "values", "values", "values"]);
    });

    it("logs nothing for a stateless run: the deletion of its thread stops the rest of its graph's stream, no failure", async () => {
      const logs: string[] = [];
      const { start } = await gatedEngine({ withServerParts: true, logs });
      for (let i = 0; i < 5; i++) {
        let ended: (outcome: RunOutcome) => void = () => {};
        const end = new Promise<RunOutcome>((resolve) => (ended = resolve));
        await start(null, () => {}, ended);
        expect((await end).status).toBe("success");
      }
      await new Promise((resolve) => setTimeout(resolve, 50)); // the streams' rest
      expect(logs).toEqual([]);
    });

    it("writes nothing of a stateless run whose temporary thread is deleted before any of its lines left for the disk", async () => {
      const { gate, start } = await gatedEngine({ withServerParts: true });
      let ended: (outcome: RunOutcome) => void = () => {};
      const end = new Promise<RunOutcome>((resolve) => (ended = resolve));
      // a trivial graph never yields to the event loop: its creation's flush has not started at its end
      const run = await start(null, () => {}, ended);
      expect(await end).toEqual({ status: "success", values: { value: 4 }, error: null });
      expect(gate.writes.filter((text) => text.includes(run.thread_id))).toEqual([]);
    });

    it("writes only the deletion of a stateless run's temporary thread once its creation is on disk: its end is withdrawn", async () => {
      const { gate, start } = await gatedEngine({ withServerParts: true });
      let ended: (outcome: RunOutcome) => void = () => {};
      const end = new Promise<RunOutcome>((resolve) => (ended = resolve));
      // a graph that yields to the event loop: its creation is durable before its end is written
      const run = await start(null, () => {}, ended, SLOW_RUN);
      expect((await end).status).toBe("success");
      const deletion = `"d":"${run.thread_id}"`;
      const writesOf = (part: string) => gate.writes.flatMap((text, i) => (text.includes(part) ? [i] : []));
      await eventually(async () => (writesOf(deletion).length > 0 ? true : undefined), 10_000, "the thread's deletion to be written");
      // written once (one record for the thread and its run); the run's end, appended in the
      // same turn as the deletion, is taken back with it
      expect(writesOf(deletion)).toHaveLength(1);
      expect(writesOf(`"d":"${run.run_id}"`)).toEqual(writesOf(deletion));
      expect(writesOf('"status":"success"').filter((i) => gate.writes[i].includes(run.run_id))).toEqual([]);
    });

    it("does not end as a success when its creation cannot be stored", async () => {
      const { gate, storage, start } = await gatedEngine();
      const thread = await storage.threads.create();
      const events: string[] = [];
      let ended: (outcome: RunOutcome) => void = () => {};
      const end = new Promise<RunOutcome>((resolve) => (ended = resolve));
      gate.hold();
      const starting = start(thread.thread_id, (e) => events.push(e.mode), ended);
      const failed = starting.then(
        () => null,
        (error: unknown) => error,
      );
      await eventually(async () => (events.includes("metadata") ? true : undefined), 10_000, "the run to start");
      gate.fail();
      expect(await failed).toBeInstanceOf(Error);
      expect((await end).status).not.toBe("success");
    });

    it("tells no waiter a run ended when its end cannot be stored; the end is durable once the disk recovers", async () => {
      const { gate, storage, runs, start, dir } = await gatedEngine();
      const thread = await storage.threads.create();
      const events: RunEvent[] = [];
      gate.fillDiskAt('"status":"success"');
      // a graph that yields to the event loop: its creation is durable before its end is written
      // (a trivial graph's end goes in the same write as its creation)
      const run = await start(thread.thread_id, (e) => events.push(e), undefined, SLOW_RUN);
      // not a made-up outcome (the old code answered status "error"), and no hang
      await expect(runs.outcome(run)).rejects.toBeInstanceOf(StorageUnavailableError);
      // a stream shows the storage error as its last event
      expect(events.at(-1)).toMatchObject({ mode: "error", data: { error: "StorageUnavailableError" } });
      // a later waiter or read does not report the end memory holds while the disk cannot take it
      await expect(runs.outcome(run)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(storage.runs.get(run.run_id)).rejects.toBeInstanceOf(StorageUnavailableError);

      gate.heal();
      expect(await runs.outcome(run)).toEqual({ status: "success", values: SLOW_RESULT, error: null });
      expect(await storage.threads.get(thread.thread_id)).toMatchObject({ status: "idle", values: SLOW_RESULT });
      await runs.shutdown(0);
      await storage.close();
      const reopened = await LowdbStorage.open({ dataDir: dir, shards: TEST_SHARDS });
      expect(await reopened.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 1 });
      expect(await reopened.threads.get(thread.thread_id)).toMatchObject({ status: "idle" });
      await reopened.close();
    });

    it("stores the end of a run that owes a webhook with the webhook's claim once the disk recovers, then delivers it", async () => {
      const { gate, storage, runs, dir } = await gatedEngine();
      const receiver = await webhookReceiver();
      cleanup.push(() => receiver.close());
      const thread = await storage.threads.create();
      gate.fillDiskAt('"status":"success"');
      const run = await submit({ runs, storage, graphs: registry! }, thread.thread_id, {
        assistant_id: "trivial",
        input: { value: 1 },
        webhook: receiver.url,
      });
      await expect(runs.outcome(run)).rejects.toBeInstanceOf(StorageUnavailableError);
      gate.heal();
      // no request comes: the dispatcher, woken by the failed end, claims the webhook, and that
      // claim's write carries the end (a claim failing too would be retried once it lapses)
      expect(await receiver.next(15_000)).toMatchObject({ run_id: run.run_id, status: "success", values: { value: 4 } });
      const crashed = await LowdbStorage.open({ dataDir: dir, shards: TEST_SHARDS });
      expect(await crashed.runs.get(run.run_id)).toMatchObject({ status: "success" });
      await crashed.close();
    });

    it("gives the waiters of a waiting run whose cancel cannot be stored the storage error, not a hang", async () => {
      const { gate, storage, runs } = await gatedEngine();
      const thread = await storage.threads.create();
      const run = await submit({ runs, storage, graphs: registry! }, thread.thread_id, {
        assistant_id: "trivial",
        input: { value: 1 },
        after_seconds: 60,
      });
      const waiting = runs.outcome(run).then(
        (outcome) => outcome,
        (error: unknown) => error,
      );
      gate.fillDiskAt('"status":"interrupted"');
      await expect(runs.cancel(run, "interrupt", "no longer wanted")).rejects.toBeInstanceOf(StorageUnavailableError);
      const hang = new Promise((resolve) => setTimeout(() => resolve("still waiting"), 5_000).unref());
      expect(await Promise.race([waiting, hang])).toBeInstanceOf(StorageUnavailableError);
      gate.heal();
      expect(await runs.outcome(run)).toMatchObject({ status: "interrupted" });
      expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "interrupted", cancel_reason: "no longer wanted" });
    });

    it("retries a run whose end could not be stored when the server restarts before the disk recovers", async () => {
      const { gate, storage, runs, start, dir } = await gatedEngine();
      const thread = await storage.threads.create();
      gate.fillDiskAt('"status":"success"');
      const run = await start(thread.thread_id, () => {}, undefined, SLOW_RUN);
      await expect(runs.outcome(run)).rejects.toBeInstanceOf(StorageUnavailableError);
      // the process dies: what the disk holds says the run was cut while running
      await runs.shutdown(0);
      const restarted = await LowdbStorage.open({ dataDir: dir, shards: TEST_SHARDS });
      cleanup.unshift(() => restarted.close());
      expect(await restarted.runs.get(run.run_id)).toMatchObject({ status: "running", attempt: 1 });
      const engine = localRunEngine({ storage: restarted, graphs: registry!, checkpointer: new TestSaver(), logger: pino({ level: "silent" }) });
      cleanup.unshift(() => engine.shutdown(0));
      await engine.start();
      expect(await engine.outcome(run)).toEqual({ status: "success", values: SLOW_RESULT, error: null });
      expect(await restarted.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 2 });
    });

    it("ends a run whose running mark could not be stored: its end carries the mark, and no later waiter hangs", async () => {
      const { gate, storage, runs } = await gatedEngine();
      const thread = await storage.threads.create();
      gate.fillDiskAt('"status":"running"', { once: true });
      // scheduled once its creation is durable, and yielding to the event loop: the mark is a
      // write of its own (a trivial graph's end goes in the mark's write)
      const run = await submit({ runs, storage, graphs: registry! }, thread.thread_id, SLOW_RUN);
      const outcome = { status: "success", values: SLOW_RESULT, error: null };
      expect(await runs.outcome(run)).toEqual(outcome);
      // the old code left the run running with nothing executing it: this waited forever
      expect(await runs.outcome(run)).toEqual(outcome);
      expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 1 });
      expect(await storage.threads.get(thread.thread_id)).toMatchObject({ status: "idle" });
    });
  });
});
