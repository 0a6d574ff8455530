import type { Cron } from "../../storage/types.js";
import { createRun, type RunAccess, type RunCreationDeps } from "../runs/create.js";
import type { RunRequest } from "../runs/request.js";
import type { CronLauncher } from "./scheduler.js";

/**
 * Authorizes a firing's run as the cron's user (its Auth's `threads:create_run` handler, as for
 * a run created through the API): the scope of its thread (or of the new thread) and what the
 * handler leaves in the request.
 */
export type FiringAuthorizer = <B extends RunRequest>(
  user: Cron["auth_user"],
  threadId: string | null,
  body: B,
) => Promise<{ access: RunAccess; body: B }>;

/**
 * A firing of a cron is an ordinary run, created as the API would create it: on the cron's thread
 * (subject to its multitask rules), or on a new thread whose fate `on_run_completed` decides.
 * It runs as the user who created the cron.
 */
export function cronLauncher(services: RunCreationDeps, authorize: FiringAuthorizer): CronLauncher {
  return async (cron) => {
    const metadata = { ...(cron.payload.metadata as Record<string, unknown> | undefined), cron_id: cron.cron_id };
    const request = { ...cron.payload, metadata, assistant_id: cron.assistant_id! };
    const threadId = cron.thread_id ?? null;
    const body = threadId ? request : { ...request, on_completion: cron.on_run_completed ?? "delete" };
    const authorized = await authorize(cron.auth_user, threadId, body);
    await createRun(services, threadId, authorized.body, authorized.access);
  };
}
