/**
 * A firing of a cron is an ordinary run, started as the API starts one: on the cron's thread
 * (subject to its multitask rules), or on a new thread whose fate `on_run_completed` decides.
 * It runs as the user who created the cron, whose Auth handlers authorize it as they would a
 * request of theirs.
 */
import type { RequestAuth } from "../auth/index.js";
import type { CronLauncher } from "../runtime/crons/scheduler.js";
import type { Cron } from "../storage/types.js";
import { startRun, type RunDeps } from "./runs.js";

/** The caller a cron's firings act as: its stored creator (null without authentication). */
export type CronCaller = (user: Cron["auth_user"]) => RequestAuth;

export function cronLauncher(deps: RunDeps, callerOf: CronCaller): CronLauncher {
  return async (cron) => {
    const metadata = { ...(cron.payload.metadata as Record<string, unknown> | undefined), cron_id: cron.cron_id };
    const request = { ...cron.payload, metadata, assistant_id: cron.assistant_id! };
    const threadId = cron.thread_id ?? null;
    const body = threadId ? request : { ...request, on_completion: cron.on_run_completed ?? "delete" };
    await startRun(deps, callerOf(cron.auth_user), { threadId, body });
  };
}
