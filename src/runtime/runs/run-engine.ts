/**
 * The run engine over swappable parts (see ./engine.ts): the dispatcher hands this process the
 * runs it executes, a RunExecutor executes them, the broker carries their events and ends, and
 * the stop channel brings cancels to the process executing the run. The broker's whole
 * lifecycle (open, finish, close) is kept here: callers only subscribe.
 */
import type { BaseStore } from "@langchain/langgraph";
import type { Tracer } from "@opentelemetry/api";
import type { LangSmith } from "./langsmith.js";
import type { Logger } from "pino";
import { StorageUnavailableError } from "../../storage/errors.js";
import type { Assistant, Run, RunEventRows, Scope, Storage } from "../../storage/types.js";
import type { GraphRegistry } from "../graphs/index.js";
import type { SseEvent } from "../streams/event-names.js";
import { threadEvents, type ThreadEventsOptions } from "../streams/thread-events.js";
import { threadProtocolEvents, type ThreadProtocolOptions } from "../protocol/thread-events.js";
import { heldRun } from "../protocol/agent-tree.js";
import type { ProtocolEvent } from "../protocol/run-events.js";
import {
  runEvents,
  type RunEvent,
  type RunEventBroker,
  type RunEventStream,
  type RunOutcome,
  type SubscribeOptions,
  type Unsubscribe,
} from "./broker.js";
import type {
  CancelAction,
  CreationLease,
  DispatchedRun,
  RunDispatcher,
  RunEngine,
  RunEngineOptions,
  RunEngineParts,
  StopChannel,
  StopRequest,
} from "./engine.js";
import { RunExecutor, unlessDeleted, unstoredEnd, type RunCheckpointer } from "./executor.js";
import { restingStatus } from "./recovery.js";
import { RunCancelled, RunNotHeld, ServerStopping } from "./stop-reasons.js";
import { storedOutcome } from "./stored-outcome.js";
import { LocalCluster, type Cluster } from "../cluster.js";
import { newProcessId } from "../process-id.js";
import { WebhookDispatcher, type WebhookTargets } from "./webhook.js";

export interface RunEngineDeps {
  storage: Storage;
  graphs: GraphRegistry;
  checkpointer: RunCheckpointer;
  store?: BaseStore;
  logger: Logger;
  /** Where webhook deliveries owed by other processes are announced (default: this process only). */
  cluster?: Cluster;
  /**
   * This process's name among the deployment's (PostgreSQL: the worker id whose worker lock tells
   * it is alive): its webhook claims are not taken over while it lives. Default: a new one.
   */
  workerId?: string;
  /** The `webhooks` settings and this server's URL (default: no settings, no URL). */
  webhookTargets?: WebhookTargets;
  /** OpenTelemetry: a span per run execution and per graph step when tracing is on. */
  tracer?: Tracer;
  /** LangSmith: runs traced there, feedback URLs in their streams; null when not configured. */
  langsmith?: LangSmith | null;
}

export const RUN_ENGINE_DEFAULTS = {
  concurrency: 10,
  runTimeoutMs: 60 * 60_000,
  maxAttempts: 3,
  shutdownGraceMs: 30_000,
  resumableRetentionMs: 10 * 60_000,
  leaseMs: 6_000,
  sendWebhooks: true,
} as const satisfies Required<RunEngineOptions>;

/** How long a cancel for a run this process does not execute (yet) is remembered: a claim may be on its way. */
const EARLY_STOP_MEMORY_MS = 60_000;

const NO_CHANNEL = Symbol("no channel");

const isActive = (run: Run) => run.status === "pending" || run.status === "running";

export class ComposedRunEngine implements RunEngine {
  readonly #deps: RunEngineDeps;
  readonly #options: Required<RunEngineOptions>;
  readonly #broker: RunEventBroker;
  readonly #dispatcher: RunDispatcher;
  readonly #stops: StopChannel;
  readonly #executor: RunExecutor;
  /** Null when webhooks are disabled. */
  readonly #webhooks: WebhookDispatcher | null;
  /** Executing runs: how to stop them, and their thread. */
  readonly #executing = new Map<string, { control: AbortController; threadId: string }>();
  /** Cancels of runs not executing here when they came, by run id, oldest first (see EARLY_STOP_MEMORY_MS). */
  readonly #earlyStops = new Map<string, { request: StopRequest; at: number }>();
  /**
   * The assistant record read by the request that created a run leased here at its creation, by
   * run id, until its execution (which starts at once) ends: the executor need not read it again.
   * Only for such runs: one waiting for a claim may run anywhere, later, with a newer version.
   */
  readonly #creationAssistants = new Map<string, Assistant>();
  /** Open thread streams by thread: ended when the thread is deleted. */
  readonly #threadStreams = new Map<string, Set<AbortController>>();
  #unlisten: () => void = () => {};
  #removeHooks: () => void = () => {};
  #stopping = false;

  constructor(deps: RunEngineDeps, parts: RunEngineParts, options: RunEngineOptions = {}) {
    this.#deps = deps;
    this.#options = { ...RUN_ENGINE_DEFAULTS, ...options };
    this.#broker = parts.broker;
    this.#dispatcher = parts.dispatcher;
    this.#stops = parts.stops;
    const owner = deps.workerId ?? newProcessId();
    this.#webhooks = this.#options.sendWebhooks
      ? new WebhookDispatcher(deps.storage.webhooks, owner, deps.logger, deps.webhookTargets ? { targets: deps.webhookTargets } : {})
      : null;
    this.#executor = new RunExecutor({
      ...deps,
      broker: this.#broker,
      webhooks: this.#webhooks,
      timeoutMs: this.#options.runTimeoutMs,
      creationAssistant: (runId) => this.#creationAssistants.get(runId),
    });
  }

  async start(): Promise<void> {
    this.#unlisten = this.#stops.listen((request) => this.#onStop(request));
    this.#removeHooks = this.#deps.storage.addThreadHooks({
      delete: (threadId) => this.#stops.send({ threadId, action: "interrupt", reason: "its thread was deleted" }),
    });
    await this.#webhooks?.start(this.#deps.cluster ?? new LocalCluster());
    await this.#dispatcher.start({
      execute: (run) => this.#execute(run),
      lost: (runId) => this.#executing.get(runId)?.control.abort(new RunNotHeld("its lease was taken over")),
    });
  }

  submit(run: Run, assistant?: Assistant): void {
    // While stopping, a new run stays pending in storage: the next start (or another process) takes
    // it. (One leased here at its creation is taken back once its lease lapses.)
    if (this.#stopping) return;
    // leased here at its creation: the dispatcher executes it at once
    if (assistant && run.status === "running") this.#creationAssistants.set(run.run_id, assistant);
    this.#open(run);
    this.#dispatcher.submit(run);
  }

  leaseAtCreation(): CreationLease | null {
    if (this.#stopping) return null;
    return this.#dispatcher.leaseAtCreation?.() ?? null;
  }

  async cancel(run: Run, action: CancelAction, reason: string): Promise<void> {
    const executing = this.#executing.get(run.run_id);
    if (executing) {
      executing.control.abort(new RunCancelled(action, reason));
      return;
    }
    // A stopping server leaves waiting runs for its next start; the only cancels that reach it
    // now come from clients its shutdown disconnected, which did not leave the run themselves.
    if (this.#stopping) return;
    this.#dispatcher.withdraw(run.run_id);
    const { storage } = this.#deps;
    let outcome: RunOutcome;
    let events: RunEventRows | undefined;
    let cancelled: Run | null | undefined;
    try {
      outcome = await storedOutcome(storage, { ...run, status: "interrupted", error: null });
      // with its end event when events live in storage: a crash cannot leave one without the other
      events = this.#broker.stoppedEvents?.(run.run_id, run.thread_id, outcome);
      // Atomic against a claim: either the run is still pending and ends here, or it runs somewhere.
      // It never started, so it wrote nothing: rolling back is deleting the run.
      cancelled = await unlessDeleted(
        storage.runs.endIf(run.run_id, "pending", {
          update: action === "rollback" ? null : { status: "interrupted", cancel_reason: reason },
          ...(events ? { events } : {}),
        }),
      );
    } catch (error) {
      if (storage.durableInOrder) await this.#cancelNotStored(run, error);
      throw error;
    }
    if (!cancelled) {
      const current = await unlessDeleted(storage.runs.get(run.run_id));
      if (current?.status === "running") await this.#stops.send({ runId: run.run_id, action, reason });
      return;
    }
    try {
      await this.#releaseThread(run.thread_id);
    } finally {
      // its end is stored: announced even if the thread's status could not be
      this.#broker.finish(run.run_id, outcome, events !== undefined);
    }
  }

  async outcome(run: Run, scope?: Scope, signal?: AbortSignal, created = false): Promise<RunOutcome | null> {
    for (;;) {
      if (signal?.aborted) return null;
      const outcome = await this.#awaitEnd(run.run_id, signal, created);
      if (outcome !== NO_CHANNEL) {
        if (outcome?.unstored) throw new StorageUnavailableError(outcome.unstored.message);
        return outcome;
      }
      // No channel: the run ended already, or is stored but not yet scheduled here.
      const current = await this.#deps.storage.runs.get(run.run_id, scope);
      if (!isActive(current) || !(await this.#reopen(current))) return storedOutcome(this.#deps.storage, current);
    }
  }

  async events(runId: string, options: SubscribeOptions & { signal?: AbortSignal } = {}): Promise<RunEventStream | null> {
    const stream = await runEvents(this.#broker, runId, options);
    if (stream) return stream;
    const current = await unlessDeleted(this.#deps.storage.runs.get(runId));
    if (!current || !isActive(current) || !(await this.#reopen(current))) return null;
    return runEvents(this.#broker, runId, options);
  }

  holdsEvents(runId: string): Promise<boolean> {
    return this.#broker.isOpen(runId);
  }

  async threadEvents(threadId: string, options: ThreadEventsOptions): Promise<AsyncIterable<SseEvent>> {
    return threadEvents(this.#broker, threadId, { ...options, signal: this.#untilThreadGone(threadId, options.signal) });
  }

  heldRun(runId: string): Promise<{ events: RunEvent[]; outcome: RunOutcome | null } | null> {
    return heldRun(this.#broker, runId);
  }

  async threadProtocolEvents(threadId: string, options: ThreadProtocolOptions): Promise<AsyncIterable<ProtocolEvent>> {
    return threadProtocolEvents(this.#broker, threadId, { ...options, signal: this.#untilThreadGone(threadId, options.signal) });
  }

  /** Aborted with `signal`, or when the thread is deleted: a thread's stream has nothing more to say once it is gone. */
  #untilThreadGone(threadId: string, signal: AbortSignal): AbortSignal {
    const ended = new AbortController();
    let streams = this.#threadStreams.get(threadId);
    if (!streams) this.#threadStreams.set(threadId, (streams = new Set()));
    streams.add(ended);
    const forget = () => {
      streams.delete(ended);
      if (streams.size === 0 && this.#threadStreams.get(threadId) === streams) this.#threadStreams.delete(threadId);
    };
    ended.signal.addEventListener("abort", forget, { once: true });
    signal.addEventListener("abort", () => ended.abort(), { once: true });
    if (signal.aborted) ended.abort();
    return ended.signal;
  }

  async shutdown(graceMs = this.#options.shutdownGraceMs): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#removeHooks();
    this.#dispatcher.stop();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.#dispatcher.drained(), grace]);
    clearTimeout(timer);
    for (const { control } of this.#executing.values()) control.abort(new ServerStopping());
    await this.#dispatcher.drained();
    this.#unlisten();
    await this.#webhooks?.close(Math.min(graceMs, 5_000));
    await this.#dispatcher.close();
    await this.#stops.close();
    await this.#broker.close();
  }

  /** The broker (diagnostics, tests: what it holds). */
  get broker(): RunEventBroker {
    return this.#broker;
  }

  /** Runs executing and waiting here (diagnostics, tests). */
  get load(): { running: number; waiting: number } {
    return this.#dispatcher.load;
  }

  /** The run's outcome once it ends; null if `signal` fires first; NO_CHANNEL if its events are not held. */
  #awaitEnd(runId: string, signal: AbortSignal | undefined, fromStart: boolean): Promise<RunOutcome | null | typeof NO_CHANNEL> {
    return new Promise((resolve, reject) => {
      let unsubscribe: Unsubscribe | null = null;
      const onAbort = () => {
        unsubscribe?.();
        resolve(null);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const subscriber = {
        event: () => {},
        end: (outcome: RunOutcome) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(outcome);
        },
      };
      this.#broker.subscribe(runId, subscriber, { endOnly: true, ...(fromStart ? { fromStart } : {}) }).then((subscribed) => {
        if (!subscribed) {
          signal?.removeEventListener("abort", onAbort);
          resolve(NO_CHANNEL);
        } else {
          unsubscribe = subscribed;
          if (signal?.aborted) subscribed();
        }
      }, reject);
    });
  }

  #open(run: Run): void {
    // one leased here at its creation is executed here, its first attempt published from here: said
    // now, its waiters here need not ask the database where its stream stands
    // (its creation stored its first event then, unless it is a protocol run: RunCreate.lease)
    const publisher =
      run.status === "running"
        ? { publisher: true, attempt: run.attempt, deferDurability: run.kwargs.durability !== "sync", openedByCreation: !run.kwargs.protocol }
        : {};
    this.#broker.open(run.run_id, { resumable: run.kwargs.resumable, threadId: run.thread_id, ...publisher }).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error, run_id: run.run_id }, "cannot open the run's event channel");
    });
  }

  /**
   * An active run without a channel: stored an instant ago and not submitted yet, or left by a
   * shutdown. Opens it as `submit` would; false while stopping (nothing will end it here).
   */
  async #reopen(run: Run): Promise<boolean> {
    if (this.#stopping) return false;
    await this.#broker.open(run.run_id, { resumable: run.kwargs.resumable, threadId: run.thread_id });
    return true;
  }

  async #execute(run: DispatchedRun): Promise<void> {
    const control = new AbortController();
    this.#executing.set(run.runId, { control, threadId: run.threadId });
    const early = this.#earlyStops.get(run.runId);
    if (early) {
      this.#earlyStops.delete(run.runId);
      control.abort(new RunCancelled(early.request.action, early.request.reason));
    }
    try {
      await this.#executor.execute(run, control);
    } finally {
      this.#executing.delete(run.runId);
      this.#creationAssistants.delete(run.runId);
    }
  }

  #onStop(request: StopRequest): void {
    // made only for a run to stop: an Error captures a stack (a stateless run's end deletes its thread)
    const stop = () => new RunCancelled(request.action, request.reason);
    if ("runId" in request) {
      const executing = this.#executing.get(request.runId);
      if (executing) executing.control.abort(stop());
      else this.#rememberEarlyStop(request.runId, request);
      return;
    }
    // the thread's runs were deleted with it: stop them
    for (const runId of this.#dispatcher.waiting(request.threadId)) {
      this.#dispatcher.withdraw(runId);
      this.#broker.finish(runId, { status: "interrupted", values: null, error: null });
    }
    for (const stream of [...(this.#threadStreams.get(request.threadId) ?? [])]) stream.abort();
    for (const executing of this.#executing.values()) {
      if (executing.threadId === request.threadId) executing.control.abort(stop());
    }
  }

  #rememberEarlyStop(runId: string, request: StopRequest): void {
    const now = Date.now();
    for (const [id, { at }] of this.#earlyStops) {
      if (now - at < EARLY_STOP_MEMORY_MS) break;
      this.#earlyStops.delete(id);
    }
    this.#earlyStops.delete(runId);
    this.#earlyStops.set(runId, { request, at: now });
  }

  /**
   * A waiting run's cancel failed (lowdb: a storage outage, the change held in memory only): a run
   * still waiting goes back in the queue, and the waiters of one that memory holds ended get the
   * error rather than wait for an end nobody will announce.
   */
  async #cancelNotStored(run: Run, error: unknown): Promise<void> {
    const active = await this.#deps.storage.runs.active(run.thread_id);
    if (active.some((r) => r.run_id === run.run_id && r.status === "pending")) this.#dispatcher.submit(run);
    else this.#broker.finish(run.run_id, unstoredEnd(error));
  }

  /** After a waiting run was cancelled: a thread left without active runs is busy no more. */
  async #releaseThread(threadId: string): Promise<void> {
    const { storage } = this.#deps;
    if ((await storage.runs.active(threadId)).length > 0) return;
    const thread = await unlessDeleted(storage.threads.get(threadId));
    if (thread?.status === "busy") await unlessDeleted(storage.threads.update(threadId, { status: restingStatus(thread) }));
  }
}
