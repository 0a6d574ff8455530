/**
 * The in-process run engine: a LocalRunQueue decides when runs start, a RunExecutor executes
 * them, a LocalRunEventBroker carries their events and ends. Cancelling a running run aborts
 * its signal with a stop reason; cancelling a waiting one takes it out of the queue.
 */
import type { BaseStore } from "@langchain/langgraph";
import type { Logger } from "pino";
import { NotFoundError } from "../../storage/errors.js";
import type { Run, Scope, Storage } from "../../storage/types.js";
import type { GraphRegistry } from "../graphs/index.js";
import { LocalRunEventBroker, type RunOutcome } from "./broker.js";
import type { CancelAction, RunEngine, RunEngineOptions } from "./engine.js";
import { RunExecutor, type RunCheckpointer } from "./executor.js";
import { LocalRunQueue, type QueuedRun } from "./queue.js";
import { recoverRuns, restingStatus } from "./recovery.js";
import type { RunKwargs } from "./request.js";
import { RunCancelled, ServerStopping } from "./stop-reasons.js";
import { storedOutcome } from "./stored-outcome.js";
import { WebhookSender } from "./webhook.js";

export interface LocalRunEngineDeps {
  storage: Storage;
  graphs: GraphRegistry;
  checkpointer: RunCheckpointer;
  store?: BaseStore;
  logger: Logger;
}

export const RUN_ENGINE_DEFAULTS = {
  concurrency: 10,
  runTimeoutMs: 60 * 60_000,
  maxAttempts: 3,
  shutdownGraceMs: 30_000,
  resumableRetentionMs: 10 * 60_000,
} as const satisfies Required<RunEngineOptions>;

const isActive = (run: Run) => run.status === "pending" || run.status === "running";

export class LocalRunEngine implements RunEngine {
  readonly broker: LocalRunEventBroker;
  readonly #deps: LocalRunEngineDeps;
  readonly #options: Required<RunEngineOptions>;
  readonly #queue: LocalRunQueue;
  readonly #executor: RunExecutor;
  readonly #webhooks: WebhookSender;
  /** Executing runs: how to stop them, and their thread. */
  readonly #executing = new Map<string, { control: AbortController; threadId: string }>();
  readonly #removeHooks: () => void;
  #stopping = false;

  constructor(deps: LocalRunEngineDeps, options: RunEngineOptions = {}) {
    this.#deps = deps;
    this.#options = { ...RUN_ENGINE_DEFAULTS, ...options };
    this.broker = new LocalRunEventBroker({ retentionMs: this.#options.resumableRetentionMs });
    this.#webhooks = new WebhookSender(deps.logger);
    this.#executor = new RunExecutor({
      ...deps,
      broker: this.broker,
      webhooks: this.#webhooks,
      timeoutMs: this.#options.runTimeoutMs,
    });
    this.#queue = new LocalRunQueue({
      concurrency: this.#options.concurrency,
      execute: (run) => this.#execute(run),
      onError: (error, run) => deps.logger.error({ err: error, run_id: run.runId }, "run execution failed"),
    });
    this.#removeHooks = deps.storage.addThreadHooks({ delete: async (threadId) => this.#threadDeleted(threadId) });
  }

  async start(): Promise<void> {
    const runs = await recoverRuns(this.#deps.storage, this.#deps.logger, this.#options.maxAttempts);
    for (const run of runs) this.submit(run);
  }

  submit(run: Run): void {
    // While stopping, a new run stays pending in storage: the next start picks it up.
    if (this.#stopping) return;
    this.broker.open(run.run_id, { resumable: (run.kwargs as unknown as RunKwargs).resumable, threadId: run.thread_id });
    this.#queue.submit({
      runId: run.run_id,
      threadId: run.thread_id,
      notBefore: run.not_before ? Date.parse(run.not_before) : 0,
    });
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
    this.#queue.remove(run.run_id);
    const { storage } = this.#deps;
    let current: Run;
    try {
      current = await storage.runs.get(run.run_id);
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    if (!isActive(current)) return;
    // It never started, so it wrote nothing: rolling back is deleting the run.
    if (action === "rollback") await storage.runs.delete(run.run_id);
    else await storage.runs.update(run.run_id, { status: "interrupted", cancel_reason: reason });
    await this.#releaseThread(run.thread_id);
    this.broker.finish(run.run_id, await storedOutcome(storage, { ...current, status: "interrupted" }));
  }

  outcome(run: Run, scope?: Scope, signal?: AbortSignal): Promise<RunOutcome | null> {
    if (signal?.aborted) return Promise.resolve(null);
    return new Promise<RunOutcome | null>((resolve, reject) => {
      const onAbort = () => {
        unsubscribe?.();
        resolve(null);
      };
      const unsubscribe = this.broker.subscribe(run.run_id, {
        event: () => {},
        end: (outcome) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(outcome);
        },
      });
      if (unsubscribe) {
        signal?.addEventListener("abort", onAbort, { once: true });
        return;
      }
      // No channel: the run ended already, or is stored but not yet scheduled.
      this.#deps.storage.runs.get(run.run_id, scope).then((current) => {
        if (isActive(current) && !this.#stopping) {
          this.broker.open(current.run_id, { threadId: current.thread_id });
          this.outcome(current, scope, signal).then(resolve, reject);
        } else {
          storedOutcome(this.#deps.storage, current).then(resolve, reject);
        }
      }, reject);
    });
  }

  async shutdown(graceMs = this.#options.shutdownGraceMs): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#removeHooks();
    this.#queue.stop();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.#queue.drained(), grace]);
    clearTimeout(timer);
    for (const { control } of this.#executing.values()) control.abort(new ServerStopping());
    await this.#queue.drained();
    await this.#webhooks.close(Math.min(graceMs, 5_000));
    this.broker.close();
  }

  /** Runs executing and waiting (diagnostics, tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.#queue.runningCount, waiting: this.#queue.waitingCount };
  }

  async #execute(run: QueuedRun): Promise<void> {
    const control = new AbortController();
    this.#executing.set(run.runId, { control, threadId: run.threadId });
    try {
      await this.#executor.execute(run.runId, control);
    } finally {
      this.#executing.delete(run.runId);
    }
  }

  /** After a waiting run was cancelled: a thread left without active runs is busy no more. */
  async #releaseThread(threadId: string): Promise<void> {
    const { storage } = this.#deps;
    if ((await storage.runs.active(threadId)).length > 0) return;
    try {
      const thread = await storage.threads.get(threadId);
      if (thread.status === "busy") await storage.threads.update(threadId, { status: restingStatus(thread) });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  /** The thread's runs were deleted with it: stop them. */
  #threadDeleted(threadId: string): void {
    for (const runId of this.#queue.waiting(threadId)) {
      this.#queue.remove(runId);
      this.broker.finish(runId, { status: "interrupted", values: null, error: null });
    }
    for (const executing of this.#executing.values()) {
      if (executing.threadId === threadId) executing.control.abort(new RunCancelled("interrupt", "its thread was deleted"));
    }
  }
}
