import { runnableAssistantScope } from "../auth/run-access.js";
import { HttpError } from "../http/errors.js";
import type { OperationHandlers, RequestBody } from "../http/operations.js";
import { followingFiring } from "../runtime/crons/scheduler.js";
import { checkSchedule } from "../runtime/crons/schedule.js";
import { parseRunRequest } from "../runtime/runs/request.js";
import type { Services } from "../services.js";
import type { AuthEventValueMap } from "@langchain/langgraph-sdk/auth";
import type { RequestAuth } from "../auth/index.js";
import type { Cron, CronUpdate } from "../storage/types.js";
import { nullsAsAbsent } from "../app/nulls.js";
import { pageReply } from "./pagination.js";

/** The API view of a stored cron: without the user its firings run as. */
function cronView(cron: Cron) {
  const { auth_user: _user, ...view } = cron;
  return view;
}

type CronOperations = "createThreadCron" | "createCron" | "searchCrons" | "countCrons" | "updateCron" | "deleteCron";

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
function checkedRunPayload(services: Services, payload: Record<string, unknown>, threadId: string | null): Record<string, unknown> {
  parseRunRequest({ ...payload, assistant_id: "cron" }, { stateless: threadId === null });
  return typeof payload.webhook === "string" ? { ...payload, webhook: services.webhooks.accept(payload.webhook) } : payload;
}

/** An end time that already passed leaves a cron that never fires: refused. */
function checkEndTime(endTime: string | null | undefined): void {
  if (endTime != null && Date.parse(endTime) <= Date.now()) {
    throw new HttpError(422, `body.end_time: ${endTime} is in the past; the cron would never fire`);
  }
}

function nextRunDate(cron: Pick<Cron, "schedule" | "timezone" | "end_time">): string | null {
  return followingFiring(cron, new Date())?.toISOString() ?? null;
}

type CronCreateBody = RequestBody<"createCron"> | RequestBody<"createThreadCron">;

async function createCron(services: Services, auth: RequestAuth, body: CronCreateBody, threadId: string | null) {
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
  const assistantScope = await runnableAssistantScope(auth, services.graphs, fields.assistant_id);
  const { scope: threadScope } = threadId ? await auth.authorize("threads:read", { thread_id: threadId }) : { scope: undefined };
  const timezone = fields.timezone ?? null;
  checkSchedule(fields.schedule, timezone, services.crons.allowsSeconds);
  checkEndTime(fields.end_time);
  const payload = checkedRunPayload(services, { ...runPayload(fields), ...(changed.payload ?? {}) }, threadId);
  const assistantId = services.graphs.assistantId(fields.assistant_id);
  await services.storage.assistants.get(assistantId, assistantScope);
  if (threadId) await services.storage.threads.get(threadId, threadScope);
  const end_time = fields.end_time ?? null;
  const cron = await services.storage.crons.create({
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
  services.crons.nudge(cron);
  return { status: 200 as const, body: cronView(cron) };
}

export const cronHandlers: OperationHandlers<CronOperations> = {
  createCron: ({ services, auth, body }) => createCron(services, auth, body, null),

  async createThreadCron({ services, auth, body, params }) {
    if (body.on_run_completed === "delete") {
      throw new HttpError(422, "body.on_run_completed: a thread cron runs on its thread and never deletes it");
    }
    return createCron(services, auth, body, params.thread_id);
  },

  async updateCron({ params, body, services, auth }) {
    const given = nullsAsAbsent(body, ["end_time"]);
    const { value, scope } = await auth.authorize("crons:update", {
      cron_id: params.cron_id,
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
    const current = await services.storage.crons.get(params.cron_id, scope);
    if (current.thread_id && fields.on_run_completed === "delete") {
      throw new HttpError(422, "body.on_run_completed: a thread cron runs on its thread and never deletes it");
    }
    const schedule = fields.schedule ?? current.schedule;
    const timezone = fields.timezone ?? current.timezone;
    const end_time = fields.end_time === undefined ? current.end_time : fields.end_time;
    checkSchedule(schedule, timezone, services.crons.allowsSeconds);
    if (fields.end_time !== undefined) checkEndTime(fields.end_time);
    const update: CronUpdate = {
      schedule,
      timezone,
      end_time,
      payload: checkedRunPayload(services, { ...current.payload, ...runPayload(fields) }, current.thread_id),
      next_run_date: nextRunDate({ schedule, timezone, end_time }),
    };
    if (fields.metadata) update.metadata = { ...current.metadata, ...fields.metadata };
    if (fields.enabled !== undefined) update.enabled = fields.enabled;
    if (fields.on_run_completed !== undefined) update.on_run_completed = fields.on_run_completed;
    const cron = await services.storage.crons.update(params.cron_id, update, scope);
    services.crons.nudge(cron);
    return { status: 200, body: cronView(cron) };
  },

  async deleteCron({ params, services, auth }) {
    const { scope } = await auth.authorize("crons:delete", { cron_id: params.cron_id });
    await services.storage.crons.delete(params.cron_id, scope);
    return { status: 204, body: undefined };
  },

  async searchCrons({ body, services, auth }) {
    const given = nullsAsAbsent(body);
    const { enabled, metadata, limit, offset, sort_by, sort_order, select } = given;
    const { value, scope } = await auth.authorize("crons:search", { assistant_id: given.assistant_id, thread_id: given.thread_id, limit, offset });
    const { assistant_id, thread_id } = { assistant_id: value.assistant_id ?? undefined, thread_id: value.thread_id ?? undefined };
    const filter = {
      assistant_id: assistant_id === undefined ? undefined : services.graphs.assistantId(assistant_id),
      thread_id,
      enabled,
      metadata,
    };
    const page = await services.storage.crons.search({ filter, sortBy: sort_by, sortOrder: sort_order, limit, offset }, scope);
    const now = new Date().toISOString();
    const view = select?.includes("now") ? (cron: Cron) => ({ ...cronView(cron), now }) : cronView;
    return pageReply(page, { offset, select }, view);
  },

  async countCrons({ body, services, auth }) {
    const given = nullsAsAbsent(body);
    const { metadata } = given;
    const { value, scope } = await auth.authorize("crons:search", { assistant_id: given.assistant_id, thread_id: given.thread_id });
    const { assistant_id, thread_id } = { assistant_id: value.assistant_id ?? undefined, thread_id: value.thread_id ?? undefined };
    const filter = {
      assistant_id: assistant_id === undefined ? undefined : services.graphs.assistantId(assistant_id),
      thread_id,
      metadata,
    };
    return { status: 200, body: await services.storage.crons.count(filter, scope) };
  },
};
