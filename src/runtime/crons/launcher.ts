import { UNSCOPED } from "../../storage/scope.js";
import { createRun, type RunCreationDeps } from "../runs/create.js";
import type { CronLauncher } from "./scheduler.js";

/**
 * A firing of a cron is an ordinary run, created as the API would create it: on the cron's thread
 * (subject to its multitask rules), or on a new thread whose fate `on_run_completed` decides.
 * It runs as the user who created the cron, who was authorized then.
 */
export function cronLauncher(services: RunCreationDeps): CronLauncher {
  return async (cron) => {
    const access = { thread: UNSCOPED, assistant: UNSCOPED, user: cron.auth_user };
    const metadata = { ...(cron.payload.metadata as Record<string, unknown> | undefined), cron_id: cron.cron_id };
    const request = { ...cron.payload, metadata, assistant_id: cron.assistant_id! };
    if (cron.thread_id) await createRun(services, cron.thread_id, request, access);
    else await createRun(services, null, { ...request, on_completion: cron.on_run_completed ?? "delete" }, access);
  };
}
