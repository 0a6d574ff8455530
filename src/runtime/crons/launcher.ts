import { UNSCOPED } from "../../storage/scope.js";
import { createRun, type RunCreationDeps } from "../runs/create.js";
import type { CronLauncher } from "./scheduler.js";

/**
 * A firing of a cron is an ordinary run, created as the API would create it: on the cron's thread
 * (subject to its multitask rules), or on a new thread whose fate `on_run_completed` decides.
 */
export function cronLauncher(services: RunCreationDeps): CronLauncher {
  return async (cron) => {
    const scope = UNSCOPED;
    const metadata = { ...(cron.payload.metadata as Record<string, unknown> | undefined), cron_id: cron.cron_id };
    const request = { ...cron.payload, metadata, assistant_id: cron.assistant_id! };
    if (cron.thread_id) await createRun(services, cron.thread_id, request, scope);
    else await createRun(services, null, { ...request, on_completion: cron.on_run_completed ?? "delete" }, scope);
  };
}
