/**
 * The run engine's parts for one process: events in memory, runs in an in-memory queue, cancels
 * as direct calls. Startup recovery plays the lease reaper's role: the previous process is dead,
 * so every run it left active is taken back.
 */
import type { Logger } from "pino";
import type { Run, Storage } from "../../storage/types.js";
import type { DispatchHandlers, RunDispatcher, RunEngineParts, StopChannel, StopRequest } from "./engine.js";
import { LocalRunEventBroker } from "./local-broker.js";
import { LocalRunQueue } from "./queue.js";
import { recoverRuns } from "./recovery.js";

export interface LocalPartsOptions {
  storage: Storage;
  logger: Logger;
  concurrency: number;
  maxAttempts: number;
  resumableRetentionMs: number;
}

export class LocalRunDispatcher implements RunDispatcher {
  readonly #queue: LocalRunQueue;
  #handlers: DispatchHandlers | null = null;

  constructor(private readonly options: LocalPartsOptions) {
    this.#queue = new LocalRunQueue({
      concurrency: options.concurrency,
      execute: (run) => this.#handlers!.execute({ runId: run.runId, threadId: run.threadId }),
      onError: (error, run) => options.logger.error({ err: error, run_id: run.runId }, "run execution failed"),
    });
  }

  async start(handlers: DispatchHandlers): Promise<void> {
    this.#handlers = handlers;
    const { storage, logger, maxAttempts } = this.options;
    for (const run of await recoverRuns(storage, logger, maxAttempts)) this.submit(run);
  }

  submit(run: Run): void {
    this.#queue.submit({ runId: run.run_id, threadId: run.thread_id, notBefore: run.not_before ? Date.parse(run.not_before) : 0 });
  }

  withdraw(runId: string): void {
    this.#queue.remove(runId);
  }

  waiting(threadId: string): string[] {
    return this.#queue.waiting(threadId);
  }

  stop(): void {
    this.#queue.stop();
  }

  async drained(): Promise<void> {
    await this.#queue.drained();
  }

  async close(): Promise<void> {}

  get load(): { running: number; waiting: number } {
    return { running: this.#queue.runningCount, waiting: this.#queue.waitingCount };
  }
}

export class LocalStopChannel implements StopChannel {
  readonly #handlers = new Set<(request: StopRequest) => void>();

  async send(request: StopRequest): Promise<void> {
    for (const handler of this.#handlers) handler(request);
  }

  listen(handler: (request: StopRequest) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}

export function localRunParts(options: LocalPartsOptions): RunEngineParts {
  return {
    broker: new LocalRunEventBroker({ retentionMs: options.resumableRetentionMs }),
    dispatcher: new LocalRunDispatcher(options),
    stops: new LocalStopChannel(),
  };
}
