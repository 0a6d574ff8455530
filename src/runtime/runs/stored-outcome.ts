/**
 * How a run ended, rebuilt from storage, for runs whose broker channel is gone (they ended
 * before the caller asked): the run's status and error, and its thread's current values.
 */
import { NotFoundError } from "../../storage/errors.js";
import type { Run, Storage } from "../../storage/types.js";
import type { RunOutcome } from "./broker.js";
import { resultValues } from "./final-state.js";

export async function storedOutcome(storage: Storage, run: Run): Promise<RunOutcome> {
  const status = run.status === "pending" || run.status === "running" ? "interrupted" : run.status;
  let values: unknown = null;
  try {
    const thread = await storage.threads.get(run.thread_id);
    const interrupts = (thread.interrupts ?? {}) as Record<string, Array<Record<string, unknown>>>;
    values = resultValues({ values: thread.values ?? null, interrupts, next: [] });
  } catch (error) {
    // a temporary thread is deleted once its run ends
    if (!(error instanceof NotFoundError)) throw error;
  }
  return { status, values, error: run.error };
}
