/**
 * A caller's view of runs for several reads in a row, authorized once (`threads:read`, no
 * thread named): A2A rebuilds a task from its first run, the later runs of its thread and the
 * checkpoints they wrote, follows its latest run and cancels it.
 */
import type { RequestAuth } from "../auth/index.js";
import type { RunEventStream, RunOutcome, SubscribeOptions } from "../runtime/runs/broker.js";
import { threadHistory, type HistoryOptions, type ThreadStateDeps } from "../runtime/threads/state.js";
import type { ThreadState } from "../runtime/threads/state-view.js";
import type { Page, Run, RunListQuery } from "../storage/types.js";
import type { RunDeps } from "./runs.js";

export interface RunReader {
  get(runId: string): Promise<Run>;
  /** The thread's runs, newest first. */
  list(threadId: string, query: RunListQuery): Promise<Page<Run>>;
  /** The thread's states, newest checkpoint first. */
  history(threadId: string, options: HistoryOptions): Promise<ThreadState[]>;
  /** The run's end, waiting for it; null when `signal` fired first. */
  outcome(run: Run, signal?: AbortSignal): Promise<RunOutcome | null>;
  /** The run's events (see RunEngine.events); null once they are gone. */
  events(runId: string, options: SubscribeOptions & { signal?: AbortSignal }): Promise<RunEventStream | null>;
  /** Interrupts the run, then waits until it stopped. */
  cancel(run: Run, reason: string): Promise<void>;
}

export async function runReader(deps: RunDeps & ThreadStateDeps, auth: RequestAuth): Promise<RunReader> {
  const { scope } = await auth.authorize("threads:read", {});
  return {
    get: (runId) => deps.storage.runs.get(runId, scope),
    list: (threadId, query) => deps.storage.runs.list(threadId, query, scope),
    history: (threadId, options) => threadHistory(deps, threadId, scope, options),
    outcome: (run, signal) => deps.runs.outcome(run, scope, signal),
    events: (runId, options) => deps.runs.events(runId, options),
    async cancel(run, reason) {
      await deps.runs.cancel(run, "interrupt", reason);
      await deps.runs.outcome(run, scope);
    },
  };
}
