/**
 * Startup recovery: what a previous process left behind, so that no run or thread stays stuck.
 * - `pending` runs start again (in creation order);
 * - `running` runs were cut by a crash: they go back to `pending` and retry (the executor
 *   continues from the run's last checkpoint), unless they already had `maxAttempts` executions,
 *   then they end as `error`;
 * - `busy` threads without an active run get the status their stored state implies, and threads
 *   with a pending run are `busy`.
 */
import type { Logger } from "pino";
import { failedAttempts } from "../../storage/records.js";
import type { Run, Storage, Thread, ThreadStatus } from "../../storage/types.js";

const PAGE = 1000;

/** Status of a thread that has no active run, from what its last run left in it. */
export function restingStatus(thread: Pick<Thread, "error" | "interrupts">): ThreadStatus {
  if (thread.error != null) return "error";
  return Object.keys(thread.interrupts ?? {}).length > 0 ? "interrupted" : "idle";
}

/** Returns the runs to schedule, oldest first. */
export async function recoverRuns(storage: Storage, logger: Logger, maxAttempts: number): Promise<Run[]> {
  for (const run of await storage.runs.withStatus("running")) {
    if (failedAttempts(run) >= maxAttempts) {
      const error = {
        error: "RunAttemptsExhausted",
        message: `the server stopped ${failedAttempts(run)} times while executing this run; it is not retried again`,
      };
      await storage.runs.update(run.run_id, { status: "error", error });
      const othersActive = (await storage.runs.active(run.thread_id)).length > 0;
      await storage.threads.update(run.thread_id, { status: othersActive ? "busy" : "error", error });
      logger.warn({ run_id: run.run_id, attempts: run.attempt }, "run failed: too many interrupted attempts");
    } else {
      await storage.runs.update(run.run_id, { status: "pending" });
      logger.info({ run_id: run.run_id, attempt: run.attempt }, "retrying a run cut short by a restart");
    }
  }
  const pending = await storage.runs.withStatus("pending");
  await releaseIdleBusyThreads(storage);
  // a crash may have come between storing a run and marking its thread busy
  for (const threadId of new Set(pending.map((r) => r.thread_id))) {
    await storage.threads.update(threadId, { status: "busy" });
  }
  return pending.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.run_id.localeCompare(b.run_id));
}

async function releaseIdleBusyThreads(storage: Storage): Promise<void> {
  const busy: Thread[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await storage.threads.search({ filter: { status: "busy" }, limit: PAGE, offset });
    busy.push(...page.items);
    if (page.items.length < PAGE) break;
  }
  for (const thread of busy) {
    if ((await storage.runs.active(thread.thread_id)).length === 0) {
      await storage.threads.update(thread.thread_id, { status: restingStatus(thread) });
    }
  }
}
