/**
 * Crons as every caller creates, changes, searches and deletes them. A cron's run fields are
 * checked as a run's would be when it is created, so that no firing fails on them later; its
 * firings run as the user who created it (see cron-firings.ts).
 */
import type { AuthEventValueMap } from "@langchain/langgraph-sdk/auth";
import type { components } from "../../generated/openapi.js";
import type { RequestAuth } from "../auth/index.js";
import { runnableAssistantScope } from "../auth/run-access.js";
import { invalid } from "../errors.js";
import type { GraphRegistry } from "../runtime/graphs/index.js";
import type { CronScheduler } from "../runtime/crons/scheduler.js";
import { followingFiring } from "../runtime/crons/scheduler.js";
import { checkSchedule } from "../runtime/crons/schedule.js";
import { parseRunRequest } from "../runtime/runs/request.js";
import type { WebhookPolicy } from "../runtime/webhooks/policy.js";
import type { Cron, CronUpdate, Page, Storage } from "../storage/types.js";
import { nullsAsAbsent } from "./nulls.js";

type Schemas = components["schemas"];

/** What cron operations use: storage, the graphs (assistants), the webhook policy, the scheduler. */
export interface CronDeps {
  storage: Storage;
  graphs: GraphRegistry;
  webhooks: Pick<WebhookPolicy, "accept">;
  crons: Pick<CronScheduler, "allowsSeconds" | "nudge">;
}

/** Cron fields that configure the runs it starts (kept as the cron's `payload`). */
const RUN_FIELDS = [
  "input",
  "metadata",
  "config",
  "context",
  "webhook",
  "interrupt_before",
  "interrupt_after",
  "multitask_strategy",
  "checkpoint_during",
  "durability",
  "stream_mode",
  "stream_subgraphs",
  "stream_resumable",
] as const;

function runPayload(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(RUN_FIELDS.filter((f) => body[f] !== undefined).map((f) => [f, body[f]]));
}

/**
 * A cron's run fields checked as a run's would be when it is created (the same 422s: a webhook
 * the `webhooks` settings refuse, contradicting durability fields...), so no firing fails on
 * them later. Returns the payload to store (the webhook as accepted).
 */
function checkedRunPayload(deps: CronDeps, payload: Record<string, unknown>, threadId: string | null): Record<string, unknown> {
  parseRunRequest({ ...payload, assistant_id: "cron" }, { stateless: threadId === null });
  return typeof payload.webhook === "string" ? { ...payload, webhook: deps.webhooks.accept(payload.webhook) } : payload;
}

/** An end time that already passed leaves a cron that never fires: refused. */
function checkEndTime(endTime: string | null | undefined): void {
  if (endTime != null && Date.parse(endTime) <= Date.now()) {
    throw invalid(`body.end_time: ${endTime} is in the past; the cron would never fire`);
  }
}

function nextRunDate(cron: Pick<Cron, "schedule" | "timezone" | "end_time">): string | null {
  return followingFiring(cron, new Date())?.toISOString() ?? null;
}

type CronCreateBody = Schemas["CronCreate"] | Schemas["ThreadCronCreate"];

/** Creates a cron (`crons:create`) whose firings run as the caller; on `threadId` when given. */
export async function createCron(deps: CronDeps, auth: RequestAuth, body: CronCreateBody, threadId: string | null): Promise<Cron> {
  if (threadId && body.on_run_completed === "delete") {
    throw invalid("body.on_run_completed: a thread cron runs on its thread and never deletes it");
  }
  const given = nullsAsAbsent(body);
  // the handler may change the cron (typically its metadata); what it leaves is what is stored
  const { value } = await auth.authorize("crons:create", {
    payload: runPayload(given),
    schedule: given.schedule,
    thread_id: threadId,
    user_id: auth.user?.identity ?? null,
    end_time: given.end_time,
    metadata: given.metadata ?? {},
  } as AuthEventValueMap["crons:create"] & { metadata: Record<string, unknown> });
  const changed = value as typeof value & { metadata?: Record<string, unknown> };
  const fields = { ...given, schedule: changed.schedule, end_time: changed.end_time ?? undefined, metadata: changed.metadata ?? {} };
  // the cron's runs may run a graph as any run may (see authorizeRunCreation)
  const assistantScope = await runnableAssistantScope(auth, deps.graphs, fields.assistant_id);
  const { scope: threadScope } = threadId ? await auth.authorize("threads:read", { thread_id: threadId }) : { scope: undefined };
  const timezone = fields.timezone ?? null;
  checkSchedule(fields.schedule, timezone, deps.crons.allowsSeconds);
  checkEndTime(fields.end_time);
  const payload = checkedRunPayload(deps, { ...runPayload(fields), ...(changed.payload ?? {}) }, threadId);
  const assistantId = deps.graphs.assistantId(fields.assistant_id);
  await deps.storage.assistants.get(assistantId, assistantScope);
  if (threadId) await deps.storage.threads.get(threadId, threadScope);
  const end_time = fields.end_time ?? null;
  const cron = await deps.storage.crons.create({
    assistant_id: assistantId,
    thread_id: threadId,
    schedule: fields.schedule,
    timezone,
    end_time,
    on_run_completed: threadId ? undefined : (fields.on_run_completed ?? "delete"),
    payload,
    metadata: fields.metadata,
    enabled: fields.enabled,
    next_run_date: nextRunDate({ schedule: fields.schedule, timezone, end_time }),
    auth_user: auth.user,
  });
  deps.crons.nudge(cron);
  return cron;
}

/** Changes a cron (`crons:update`): its schedule, run fields (checked again), metadata (merged), switches. */
export async function updateCron(deps: CronDeps, auth: RequestAuth, cronId: string, body: Schemas["CronPatch"]): Promise<Cron> {
  const given = nullsAsAbsent(body, ["end_time"]);
  const { value, scope } = await auth.authorize("crons:update", {
    cron_id: cronId,
    payload: runPayload(given),
    schedule: given.schedule,
    metadata: given.metadata,
  } as AuthEventValueMap["crons:update"] & { metadata?: Record<string, unknown> });
  const changed = value as typeof value & { metadata?: Record<string, unknown> };
  const fields = {
    ...given,
    ...runPayload(changed.payload ?? {}),
    schedule: changed.schedule ?? undefined,
    metadata: changed.metadata ?? undefined,
  };
  const current = await deps.storage.crons.get(cronId, scope);
  if (current.thread_id && fields.on_run_completed === "delete") {
    throw invalid("body.on_run_completed: a thread cron runs on its thread and never deletes it");
  }
  const schedule = fields.schedule ?? current.schedule;
  const timezone = fields.timezone ?? current.timezone;
  const end_time = fields.end_time === undefined ? current.end_time : fields.end_time;
  checkSchedule(schedule, timezone, deps.crons.allowsSeconds);
  if (fields.end_time !== undefined) checkEndTime(fields.end_time);
  const update: CronUpdate = {
    schedule,
    timezone,
    end_time,
    payload: checkedRunPayload(deps, { ...current.payload, ...runPayload(fields) }, current.thread_id),
    next_run_date: nextRunDate({ schedule, timezone, end_time }),
  };
  if (fields.metadata) update.metadata = { ...current.metadata, ...fields.metadata };
  if (fields.enabled !== undefined) update.enabled = fields.enabled;
  if (fields.on_run_completed !== undefined) update.on_run_completed = fields.on_run_completed;
  const cron = await deps.storage.crons.update(cronId, update, scope);
  deps.crons.nudge(cron);
  return cron;
}

export async function deleteCron(deps: CronDeps, auth: RequestAuth, cronId: string): Promise<void> {
  const { scope } = await auth.authorize("crons:delete", { cron_id: cronId });
  await deps.storage.crons.delete(cronId, scope);
}

/** The `crons:search` filter: the handler may narrow the assistant and the thread; an assistant id may be a graph id. */
async function searchFilter(deps: CronDeps, auth: RequestAuth, given: { assistant_id?: string; thread_id?: string }, window = {}) {
  const { value, scope } = await auth.authorize("crons:search", { assistant_id: given.assistant_id, thread_id: given.thread_id, ...window });
  const assistantId = value.assistant_id ?? undefined;
  return {
    scope,
    assistant_id: assistantId === undefined ? undefined : deps.graphs.assistantId(assistantId),
    thread_id: value.thread_id ?? undefined,
  };
}

export async function searchCrons(deps: CronDeps, auth: RequestAuth, body: Schemas["CronSearch"]): Promise<Page<Cron>> {
  const given = nullsAsAbsent(body);
  const { enabled, metadata, limit, offset, sort_by, sort_order } = given;
  const { scope, ...owners } = await searchFilter(deps, auth, given, { limit, offset });
  return deps.storage.crons.search({ filter: { ...owners, enabled, metadata }, sortBy: sort_by, sortOrder: sort_order, limit, offset }, scope);
}

export async function countCrons(deps: CronDeps, auth: RequestAuth, body: Schemas["CronCountRequest"]): Promise<number> {
  const given = nullsAsAbsent(body);
  const { scope, ...owners } = await searchFilter(deps, auth, given);
  return deps.storage.crons.count({ ...owners, metadata: given.metadata }, scope);
}
