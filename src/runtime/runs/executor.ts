/**
 * Executes one run from start to end: marks it running (counting the attempt), streams the graph
 * into the broker, then stores the run's end and the thread's new state, finishes the broker
 * channel (waking join/wait), sends the webhook and removes a temporary thread.
 *
 * Nothing a graph does can escape: a graph error ends the run as `error` with the error stored;
 * an abort ends it as `interrupted` (cancel; rollback also deletes it and its checkpoints),
 * `timeout`, or back to `pending` (server shutdown: it resumes at the next start).
 */
import type { BaseCheckpointSaver, BaseStore } from "@langchain/langgraph";
import { context, trace, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { GraphStepTracer } from "../../telemetry/graph-steps.js";
import type { LangSmith } from "./langsmith.js";
import { NotFoundError, RunTakenOverError, StorageUnavailableError } from "../../storage/errors.js";
import type { Assistant, Run, RunEnd, RunError, Storage, ThreadStatus, ThreadUpdate } from "../../storage/types.js";
import type { AnyCompiledGraph, GraphRegistry } from "../graphs/index.js";
import { runToApi } from "./api-shape.js";
import type { RunEventBroker, RunOutcome } from "./broker.js";
import { completedState, readFinalState, resultValues, threadStatusAfter, type FinalState } from "./final-state.js";
import { buildGraphCall } from "./graph-call.js";
import { streamGraph, type StreamChunk } from "./graph-stream.js";
import { RunStreamTranslator } from "../streams/translate.js";
import { ProtocolStreamTranslator } from "../streams/protocol-events.js";
import { protocolSeqBase } from "../protocol/sequence.js";
import { RunEventRelay } from "./event-relay.js";
import { storedOutcome } from "./stored-outcome.js";
import type { DispatchedRun } from "./engine.js";
import { RunCancelled, RunNotHeld, RunTimedOut, ServerStopping } from "./stop-reasons.js";

/**
 * What a run saves through: it can settle its saves (see StorageCheckpointSaver.deferringDurability),
 * and, when it defers durability, tell when a checkpoint's save is applied (`applied`).
 */
type RunSaver = BaseCheckpointSaver & { settle(): Promise<void>; applied?(checkpointId: string): Promise<void> };

/** A checkpointer that can also remove what one run saved (rollback) and defer durability. */
export type RunCheckpointer = RunSaver & {
  deleteRun(threadId: string, runId: string): Promise<unknown>;
  deferringDurability(): RunSaver;
};

export interface RunExecutorDeps {
  storage: Storage;
  graphs: GraphRegistry;
  checkpointer: RunCheckpointer;
  store?: BaseStore;
  broker: RunEventBroker;
  /** Wakes the webhook dispatcher once an end owing a delivery is stored; null: webhooks are disabled. */
  webhooks: { wake(): void } | null;
  logger: Logger;
  /** Per-run time limit in ms; 0 = none. */
  timeoutMs: number;
  /** OpenTelemetry: the execution is a span (`run`), its graph steps spans under it. */
  tracer?: Tracer;
  /** LangSmith: the run traced there, its `feedback_keys` answered with a `feedback` event. */
  langsmith?: LangSmith | null;
  /** The assistant record the request creating the run read, while the run executes in that process (else undefined: read it). */
  creationAssistant?: (runId: string) => Assistant | undefined;
}

type Ending =
  | { kind: "done"; status: RunOutcome["status"]; error: RunError | null; cancelReason: string | null; rollback: boolean }
  | { kind: "suspended" }
  /** Another process (or a cancel that came first) holds the run now: record nothing. */
  | { kind: "not-held" }
  /**
   * The database went away under a run claimed in it: record nothing, like a process that died.
   * Its lease lapses and it is retried from its last checkpoint, the attempt counted (or ends
   * once its attempts are exhausted), wherever the database is reachable.
   */
  | { kind: "cut" };

/** `{error, message}` of anything thrown. */
export function describeError(error: unknown): RunError {
  if (error instanceof Error) {
    const name = error.name && error.name !== "Error" ? error.name : error.constructor?.name || "Error";
    return { error: name, message: error.message || String(error) };
  }
  return { error: "Error", message: typeof error === "string" ? error : (JSON.stringify(error) ?? String(error)) };
}

/** What a run's waiters get when its end could not be stored (RunOutcome.unstored): the storage error. */
export function unstoredEnd(error: unknown): RunOutcome & { unstored: RunError } {
  const unstored = { error: "StorageUnavailableError", message: `the run's end could not be stored: ${describeError(error).message}` };
  return { status: "error", values: null, error: unstored, unstored };
}

/** Runs a storage call whose target may have been deleted meanwhile (thread deleted during the run): undefined then. */
export async function unlessDeleted<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Whether `error` (or what caused it) says the storage could not be reached. */
function isStorageOutage(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    if (cause instanceof StorageUnavailableError) return true;
  }
  return false;
}

/**
 * A write of the run's bookkeeping before its end. On a storage whose writes become durable in
 * order (lowdb) a failed one is applied all the same and goes to disk with the next durable
 * write, so its outage is left to the run's end, which carries it or fails itself.
 */
function carriedByTheEnd<T>(storage: Storage, write: Promise<T>, applied: T): Promise<T> {
  return write.catch((error: unknown) => {
    if (storage.durableInOrder && isStorageOutage(error)) return applied;
    throw error;
  });
}

/** The root graph's checkpoint with nothing left to run: the graph completed, its last events are out. */
function isFinalCheckpoint(chunk: StreamChunk): boolean {
  return chunk.mode === "checkpoints" && chunk.ns.length === 0 && (chunk.data as { next?: unknown[] }).next?.length === 0;
}

/** The id of the checkpoint a `checkpoints` chunk shows. */
function checkpointIdOf(chunk: StreamChunk): string | undefined {
  const id = (chunk.data as { config?: { configurable?: { checkpoint_id?: unknown } } }).config?.configurable?.checkpoint_id;
  return typeof id === "string" ? id : undefined;
}

export class RunExecutor {
  constructor(private readonly deps: RunExecutorDeps) {}

  /** Executes the run; `control` is aborted with a stop reason to cancel it. Never rejects. */
  async execute(dispatched: DispatchedRun, control: AbortController): Promise<void> {
    const { storage, logger } = this.deps;
    const { broker } = this.deps;
    const { runId } = dispatched;
    let run: Run;
    if (dispatched.claimed) {
      run = dispatched.claimed;
    } else {
      try {
        // Among its thread's active runs as they are now, not once durable: a run may be
        // dispatched while its creation is still on its way to disk (see startRun).
        const active = (await storage.runs.active(dispatched.threadId)).find((r) => r.run_id === runId);
        run = active ?? (await storage.runs.get(runId));
      } catch (error) {
        if (!(error instanceof NotFoundError)) logger.error({ err: error, run_id: runId }, "cannot read run to execute");
        broker.finish(runId, { status: "interrupted", values: null, error: null });
        return;
      }
      if (run.status !== "pending") {
        // cancelled between its creation and its start
        broker.finish(runId, await storedOutcome(storage, run));
        return;
      }
    }
    const log = logger.child({ run_id: run.run_id, thread_id: run.thread_id });
    try {
      await this.#execute(run, dispatched.claimed !== undefined, control, log);
    } catch (error) {
      if (error instanceof RunTakenOverError) {
        // another process executes it now and records its end: this execution records nothing
        log.warn({ attempt: error.attempt }, "run taken over by another process; this execution's end is not stored");
        broker.abandon?.(runId, error.attempt);
        return;
      }
      if (dispatched.claimed && isStorageOutage(error)) {
        // its end could not be stored: it is retried once its lease lapses, and that attempt ends it
        log.warn({ err: error }, "run cut by a database outage; it resumes once its lease lapses");
        broker.abandon?.(runId, dispatched.claimed.attempt);
        return;
      }
      if (isStorageOutage(error)) {
        // Its end is not known to be stored: no waiter may take it for the run's end. The end
        // reaches the disk with a later write (a claim of the webhook it owes retries one), else
        // a restart finds the run running and retries it.
        log.error({ err: error }, "run bookkeeping cut by a storage outage; an end not announced yet is not taken for one");
        const end = unstoredEnd(error);
        broker.publish(runId, { mode: "error", ns: [], data: end.unstored });
        broker.finish(runId, end);
        if (run.kwargs.webhook) this.deps.webhooks?.wake();
        return;
      }
      log.error({ err: error }, "run bookkeeping failed");
      // whoever waits on the run must not wait forever (a no-op if its end was announced)
      broker.finish(runId, { status: "error", values: null, error: describeError(error) });
    }
  }

  #execute(run: Run, claimed: boolean, control: AbortController, log: Logger): Promise<void> {
    const { tracer } = this.deps;
    if (!tracer) return this.#executeRun(run, claimed, control, log);
    // a child of the request that created the run when it starts from there (a run leased at
    // creation), else the root of a trace of its own (claimed by another process, or later)
    const attributes = {
      "langgraph.run_id": run.run_id,
      "langgraph.thread_id": run.thread_id,
      "langgraph.assistant_id": run.assistant_id,
      "langgraph.run.attempt": claimed ? run.attempt : run.attempt + 1,
      "langgraph.run.claimed": claimed,
    };
    return tracer.startActiveSpan("run", { attributes }, async (span) => {
      try {
        await this.#executeRun(run, claimed, control, log);
      } catch (error) {
        span.setStatus({ code: 2, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  async #executeRun(run: Run, claimed: boolean, control: AbortController, log: Logger): Promise<void> {
    const relay = new RunEventRelay(this.deps.broker, run.run_id);
    try {
      await this.#executeRelaying(run, claimed, control, log, relay);
    } finally {
      relay.flush(); // bookkeeping failed: the events go before the end the caller announces
    }
  }

  async #executeRelaying(run: Run, claimed: boolean, control: AbortController, log: Logger, relay: RunEventRelay): Promise<void> {
    const { storage, broker } = this.deps;
    // a claim stored the run as running and counted the attempt already
    const attempt = claimed ? run.attempt : run.attempt + 1;
    const kwargs = run.kwargs;
    // event ids continue after those of an earlier attempt
    const deferDurability = kwargs.durability !== "sync";
    await broker.open(run.run_id, { resumable: kwargs.resumable, threadId: run.thread_id, publisher: true, attempt, deferDurability });
    // Stored while the graph already starts: a crash before it lands leaves the run pending,
    // which restarts it just the same. Only a pending run becomes running: a cancel that came
    // first wins, and this execution stops without recording anything.
    const marked = claimed ? Promise.resolve(run) : this.#markRunning(run, attempt);
    marked.then(
      (stored) => {
        if (stored === null) control.abort(new RunNotHeld("it was cancelled before it started"));
      },
      () => {},
    );
    const timer = this.deps.timeoutMs > 0 ? setTimeout(() => control.abort(new RunTimedOut(this.deps.timeoutMs)), this.deps.timeoutMs) : null;

    // with durability "sync" every step waits for its checkpoint to be on disk
    const saver = kwargs.durability === "sync" ? this.deps.checkpointer : this.deps.checkpointer.deferringDurability();
    let graph: AnyCompiledGraph | undefined;
    let completed: FinalState | null = null;
    /** The end of the graph's stream, when the run completed before it (see #run). */
    let tail: Promise<void> = Promise.resolve();
    let ending: Ending;
    try {
      completed = await this.#run(run, attempt, control.signal, saver, relay, {
        onGraph: (g) => (graph = g),
        onTail: (rest) => {
          tail = rest.then(
            () => {},
            (error: unknown) => {
              // stopped after its end (its temporary thread's deletion stops the thread's runs): no failure
              if (!control.signal.aborted) log.warn({ err: error }, "the graph failed after its final checkpoint; the run had completed");
            },
          );
        },
      });
      // The run's checkpoints are durable before its success is: waited for here, unless the
      // storage makes writes durable in order, where the durability of the run's end (written
      // after them) carries them.
      if (!storage.durableInOrder) await saver.settle();
      ending = { kind: "done", status: "success", error: null, cancelReason: null, rollback: false };
    } catch (error) {
      relay.hold();
      ending = claimed && !control.signal.aborted && isStorageOutage(error) ? { kind: "cut" } : this.#ending(error, control.signal);
      if (ending.kind === "done" && ending.error) {
        relay.send({ mode: "error", ns: [], data: ending.error });
        if (ending.status === "error") log.info({ err: error }, "run failed");
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (this.deps.tracer) trace.getActiveSpan()?.setAttribute("langgraph.run.ending", ending.kind === "done" ? ending.status : ending.kind);
    if (ending.kind === "not-held") {
      broker.abandon?.(run.run_id, attempt);
      return;
    }
    if (ending.kind === "cut") {
      log.warn("run cut by a database outage; it resumes once its lease lapses");
      broker.abandon?.(run.run_id, attempt);
      return;
    }
    if ((await marked) === undefined) {
      // the run was deleted with its thread while it ran
      relay.flush();
      broker.finish(run.run_id, { status: "interrupted", values: null, error: null });
      await this.#removeOrphanCheckpoints(run.thread_id);
      return;
    }
    if (ending.kind === "suspended") {
      // back to pending only while it is still this execution's: another process may have taken it
      // over. A handoff, not a failure: it does not count against the run's attempts.
      const handedBack = { status: "pending", handoffs: (run.handoffs ?? 0) + 1 } as const;
      const suspended = await unlessDeleted(storage.runs.updateIf(run.run_id, "running", handedBack, attempt));
      if (suspended === null) log.warn({ attempt }, "the run is no longer this execution's (taken over, or ended): not put back to pending");
      broker.abandon?.(run.run_id, attempt);
      return;
    }
    await this.#finish(run, ending, { graph, completed }, log, relay);
    await tail;
  }

  /**
   * Stores the run as running (its attempt counted) if it is still pending: the run as stored,
   * null if it is not pending any more, undefined if it is gone. On a storage whose writes are
   * durable in order this resolves once the update is applied: the run's end, stored later and
   * announced once durable, carries it to disk (see carriedByTheEnd), so the end need not wait
   * for it first.
   */
  #markRunning(run: Run, attempt: number): Promise<Run | null | undefined> {
    const { storage } = this.deps;
    return new Promise((resolve, reject) => {
      const applied = storage.durableInOrder ? resolve : undefined;
      const write = unlessDeleted(storage.runs.updateIf(run.run_id, "pending", { status: "running", attempt }, undefined, applied));
      carriedByTheEnd(storage, write, run).then(resolve, reject);
    });
  }

  /**
   * Resolves the graph and streams it into the broker. Returns the thread's state when the graph
   * completed (its final checkpoint carries it: no need to read it back), else null.
   *
   * A graph's stream ends a while after its final checkpoint (a timer of its store, the saves'
   * promises), so with a saver that tells when a save is applied this returns as soon as the
   * final checkpoint and every save before it are applied: the run's end, stored next, comes
   * after them in storage (and in the same commit-log write). The rest of the stream is handed
   * to `onTail`; it emits nothing (the `debug` and `events` modes, which do, wait for the end).
   */
  async #run(
    run: Run,
    attempt: number,
    signal: AbortSignal,
    saver: RunSaver,
    relay: RunEventRelay,
    hooks: { onGraph: (graph: AnyCompiledGraph) => void; onTail: (rest: Promise<unknown>) => void },
  ): Promise<FinalState | null> {
    const { storage, graphs, store } = this.deps;
    const kwargs = run.kwargs;
    // at once: it tells the client the run started, nothing of its state
    // a protocol run's events are numbered on its thread from this attempt's start (protocol/sequence.ts)
    const seqBase = protocolSeqBase();
    const protocolData = kwargs.protocol ? { seq_base: seqBase } : {};
    this.deps.broker.publish(run.run_id, { mode: "metadata", ns: [], data: { run_id: run.run_id, attempt, ...protocolData } });
    const assistant = this.deps.creationAssistant?.(run.run_id) ?? (await storage.assistants.get(run.assistant_id));
    const resume = attempt > 1 && (await this.#wroteCheckpoint(run));
    const call = buildGraphCall(assistant, run, { attempt, resume });
    const { tracer, langsmith } = this.deps;
    const callbacks = [];
    if (tracer) {
      const span = trace.getActiveSpan();
      span?.addEvent("started", { "langgraph.graph_id": call.graphId, "langgraph.run.resumed": resume });
      callbacks.push(new GraphStepTracer(tracer, context.active()));
    }
    if (langsmith) {
      callbacks.push(langsmith.tracer(kwargs));
      if (kwargs.feedback_keys?.length) await this.#publishFeedbackUrls(run, kwargs.feedback_keys, langsmith);
    }
    if (callbacks.length > 0) call.config.callbacks = callbacks;
    const graph = await graphs.resolveGraph(call.graphId, call.config, { checkpointer: saver, store: store ?? null });
    hooks.onGraph(graph);
    if (kwargs.strict_resume && kwargs.command?.resume !== undefined && !resume) {
      const state = await readFinalState(graph, run.thread_id);
      if (Object.keys(state.interrupts).length === 0) {
        throw Object.assign(new Error("strict_resume: the thread has no pending interrupt to resume"), {
          name: "NoInterruptToResume",
        });
      }
    }
    const translator = kwargs.protocol ? new ProtocolStreamTranslator(seqBase) : new RunStreamTranslator(kwargs.stream_mode);
    if (translator instanceof ProtocolStreamTranslator && kwargs.answers?.length && !resume) relay.send(translator.answered(kwargs.answers));
    // `debug` has an event right after the final checkpoint, and LangChain callback events come
    // until the stream ends: those runs wait for it
    const applied = call.callbackEvents || call.streamModes.includes("debug") ? undefined : saver.applied?.bind(saver);
    let finalSeen = false;
    let completeEarly!: (state: FinalState) => void;
    const completedEarly = new Promise<FinalState>((resolve) => (completeEarly = resolve));
    // A resumed attempt's graph starts by restating the checkpoint it continues from (its first
    // chunk, `values`), which the attempt before it streamed already: the clients, reconnected
    // after their last event, would get that state twice.
    let first = true;
    const streamed = (async () => {
      let completed: FinalState | null = null;
      for await (const chunk of streamGraph(graph, call, run.run_id, signal)) {
        const restated = first && resume && chunk.ns.length === 0 && chunk.mode === "values";
        first = false;
        if (restated) continue;
        for (const event of translator.translate(chunk)) relay.send(event);
        if (isFinalCheckpoint(chunk)) {
          // the graph emits nothing after its final checkpoint
          relay.hold();
          const state = completedState((chunk.data as { values?: unknown }).values);
          completed = state;
          const id = checkpointIdOf(chunk);
          if (applied && id !== undefined) {
            finalSeen = true;
            void applied(id).then(() => completeEarly(state));
          }
        }
      }
      relay.hold();
      return completed;
    })();
    // whichever comes first: the stream's end (or its error), or the final checkpoint applied
    const completed = await Promise.race([streamed, completedEarly]);
    if (finalSeen) hooks.onTail(streamed);
    return completed;
  }

  /**
   * The run's `feedback` event: a presigned LangSmith URL per key, right after `metadata`. A
   * LangSmith that cannot be reached leaves the run without it (logged), not failed.
   */
  async #publishFeedbackUrls(run: Run, keys: readonly string[], langsmith: LangSmith): Promise<void> {
    try {
      const urls = await langsmith.feedbackUrls(run.run_id, keys);
      this.deps.broker.publish(run.run_id, { mode: "feedback", ns: [], data: urls });
    } catch (error) {
      this.deps.logger.warn({ err: error, run_id: run.run_id }, "cannot create the run's LangSmith feedback URLs");
    }
  }

  /** Whether the thread's latest checkpoint was written by this run (a crashed attempt got that far). */
  async #wroteCheckpoint(run: Run): Promise<boolean> {
    const tuple = await this.deps.checkpointer.getTuple({ configurable: { thread_id: run.thread_id, checkpoint_ns: "" } });
    return (tuple?.metadata as Record<string, unknown> | undefined)?.run_id === run.run_id;
  }

  #ending(error: unknown, signal: AbortSignal): Ending {
    const reason: unknown = signal.aborted ? signal.reason : undefined;
    if (reason instanceof ServerStopping) return { kind: "suspended" };
    if (reason instanceof RunNotHeld) return { kind: "not-held" };
    if (reason instanceof RunCancelled) {
      return { kind: "done", status: "interrupted", error: null, cancelReason: reason.reason, rollback: reason.action === "rollback" };
    }
    if (reason instanceof RunTimedOut) {
      return { kind: "done", status: "timeout", error: describeError(reason), cancelReason: null, rollback: false };
    }
    return { kind: "done", status: "error", error: describeError(error), cancelReason: null, rollback: false };
  }

  #threadUpdate(ending: Extract<Ending, { kind: "done" }>, state: FinalState | null, othersActive: boolean): ThreadUpdate & { status: ThreadStatus } {
    return {
      status: threadStatusAfter(ending.status, state, othersActive),
      error: ending.error,
      ...(state ? { values: state.values as ThreadUpdate["values"], interrupts: state.interrupts as ThreadUpdate["interrupts"] } : {}),
    };
  }

  /** The webhook delivery the run's end owes, if it asked for one and webhooks are enabled. */
  #webhook(run: Run, outcome: RunOutcome, log: Logger): RunEnd["webhook"] | undefined {
    const url = run.kwargs.webhook;
    if (!url) return undefined;
    if (!this.deps.webhooks) {
      log.info({ webhook: url }, "webhook not sent: webhooks are disabled (http.disable_webhooks)");
      return undefined;
    }
    // the run as stored, in its final status (a rollback deletes it: the row as it was)
    return { url, payload: (stored) => ({ ...runToApi({ ...stored, status: outcome.status }), values: outcome.values, error: outcome.error }) };
  }

  /**
   * The thread was deleted while the run still wrote checkpoints: those written after the
   * thread's checkpoints were removed would be orphans.
   */
  async #removeOrphanCheckpoints(threadId: string): Promise<void> {
    const { storage, checkpointer } = this.deps;
    if (await unlessDeleted(storage.threads.get(threadId))) return;
    await checkpointer.deleteThread(threadId);
  }

  /** `ran`: the graph (to read the thread's state from) and its state if it completed. */
  async #finish(
    run: Run,
    ending: Extract<Ending, { kind: "done" }>,
    ran: { graph: AnyCompiledGraph | undefined; completed: FinalState | null },
    log: Logger,
    relay: RunEventRelay,
  ) {
    const { storage, broker } = this.deps;
    const kwargs = run.kwargs;
    if (ending.rollback) await carriedByTheEnd(storage, this.deps.checkpointer.deleteRun(run.thread_id, run.run_id), 0);
    let state: FinalState | null = ending.status === "success" ? ran.completed : null;
    if (!state && ran.graph) {
      try {
        state = await readFinalState(ran.graph, run.thread_id);
      } catch (error) {
        log.warn({ err: error }, "cannot read the thread's state after the run");
      }
    }

    const outcome: RunOutcome = {
      status: ending.status,
      values: state ? resultValues(state) : null,
      error: ending.error,
    };
    // The run's end, the webhook it owes and (events in storage) its end event are one commit:
    // a crash leaves all or none of them.
    const webhook = this.#webhook(run, outcome, log);
    // a broker keeping events in storage takes every event now, to commit them with the end
    if (broker.closingEvents) relay.flush();
    const events = (await broker.closingEvents?.(run.run_id, outcome)) ?? null;
    const storeEnd = (thread?: RunEnd["thread"]) =>
      unlessDeleted(
        storage.runs.end(run.run_id, {
          update: ending.rollback ? null : { status: ending.status, error: ending.error, cancel_reason: ending.cancelReason },
          run,
          ...(webhook ? { webhook } : {}),
          ...(events ? { events } : {}),
          ...(thread ? { thread } : {}),
        }),
      );
    let stored: Run | undefined;
    /** A temporary thread's deletion, when it was started with the run's end. */
    let removal: Promise<void | undefined> | null = null;
    if (events) {
      // Events in storage (PostgreSQL): the thread's new state is in the statement that stores the
      // run's end and wakes its waiters, one commit (it reads whether another run keeps it busy).
      // A temporary thread is deleted below: no point recording its state.
      stored = await storeEnd(kwargs.temporary ? undefined : this.#threadUpdate(ending, state, false));
      // the run is gone with its thread (deleted during the run)
      if (stored === undefined) await this.#removeOrphanCheckpoints(run.thread_id);
    } else {
      // Only microtasks pass between reading the thread's other active runs and writing its status
      // (in-memory storage reads), so a run created meanwhile sets `busy` after this write. Both
      // writes share one flush, and `finish` below wakes the waiters.
      const others = (await storage.runs.active(run.thread_id)).filter((r) => r.run_id !== run.run_id);
      const threadWrite = kwargs.temporary
        ? Promise.resolve(run.thread_id)
        : unlessDeleted(storage.threads.update(run.thread_id, this.#threadUpdate(ending, state, others.length > 0)));
      const ended = storeEnd();
      // A temporary thread's deletion goes right behind the end, in its flush: on a storage whose
      // writes are durable in order, it is never durable without the end before it.
      if (kwargs.temporary && storage.durableInOrder) {
        removal = unlessDeleted(storage.threads.delete(run.thread_id));
        removal.catch(() => undefined); // awaited below, unless the end failed first (and it with it)
      }
      const [runStored, thread] = await Promise.all([ended, threadWrite]);
      stored = runStored;
      if (thread === undefined) await this.#removeOrphanCheckpoints(run.thread_id);
    }

    relay.flush(); // a no-op when the events went with the run's end
    broker.finish(run.run_id, outcome, events !== null && stored !== undefined);
    if (webhook && stored) this.deps.webhooks?.wake();
    if (kwargs.temporary) await (removal ?? unlessDeleted(storage.threads.delete(run.thread_id)));
  }
}
