import { isNotFound } from "../errors.js";
import type { Request, Response } from "express";
import { disconnectSignal } from "../http/disconnect.js";
import { HttpError } from "../http/errors.js";
import type { Services } from "../services.js";
import type { Run, Scope } from "../storage/types.js";
import { runLocationHeaders, runResult, runToApi, runWaitHeaders, type RunResult } from "../runtime/runs/api-shape.js";
import { keepAlive } from "../http/keep-alive.js";
import { STREAMED, type OperationHandlers } from "../http/operations.js";
import { normalizeBatchItem } from "../runtime/runs/batch.js";
import { createRun, prepareRun, startRun } from "../runtime/runs/create.js";
import type { RunOutcome } from "../runtime/runs/broker.js";
import type { CancelAction } from "../runtime/runs/engine.js";
import { authorizeRunCreation } from "../auth/run-access.js";
import { nullsAsAbsent } from "./nulls.js";
import { pageReply } from "./pagination.js";
import { streamHandlers } from "./streams.js";

type RunOperations =
  | "listRuns"
  | "createRun"
  | "streamRun"
  | "waitRun"
  | "getRun"
  | "deleteRun"
  | "joinRun"
  | "joinRunStream"
  | "cancelRun"
  | "cancelRuns"
  | "createStatelessRun"
  | "streamStatelessRun"
  | "waitStatelessRun"
  | "createRunBatch"
  | "joinStatelessRunStream";

const isActive = (run: Run) => run.status === "pending" || run.status === "running";
const flag = (value: boolean | number | undefined) => value === true || value === 1;

/** What wait/join answer: the run's result, or null when the client left first (the run is then cancelled if `cancelOnDisconnect`). */
async function answer(services: Services, run: Run, outcome: RunOutcome | null, cancelOnDisconnect: boolean) {
  if (outcome === null) {
    if (cancelOnDisconnect) await services.runs.cancel(run, "interrupt", "the client waiting on it disconnected");
    return null;
  }
  return runResult(outcome);
}

/**
 * Creates a run, then answers its result, kept alive while it works. The wait starts as the run
 * is scheduled, so the run may start before its creation is durable (see `startRun`).
 */
async function createAndAwait(
  services: Services,
  threadId: string | null,
  authorized: Awaited<ReturnType<typeof authorizeRunCreation>>,
  req: Request,
  res: Response,
  cancelOnDisconnect: boolean,
) {
  const signal = disconnectSignal(req, res);
  const scope = authorized.access.thread;
  let ending: Promise<RunOutcome | null> | undefined;
  const run = await createRun(services, threadId, authorized.body, authorized.access, (scheduled) => {
    ending = services.runs.outcome(scheduled, scope, signal, true);
    ending.catch(() => undefined); // the creation may still fail: then nobody reads it
  });
  const outcome = ending ?? services.runs.outcome(run, scope, signal, true);
  const result = outcome.then((ended) => answer(services, run, ended, cancelOnDisconnect));
  return keptAliveResult(services, res, result, runWaitHeaders(run, threadId === null));
}

/** Waits for an existing run's end, kept alive while it works. */
function awaitResult(services: Services, run: Run, scope: Scope, req: Request, res: Response, cancelOnDisconnect: boolean) {
  const outcome = services.runs.outcome(run, scope, disconnectSignal(req, res));
  return keptAliveResult(
    services,
    res,
    outcome.then((ended) => answer(services, run, ended, cancelOnDisconnect)),
    {},
  );
}

/** The result as a reply, or STREAMED once the wait outlasted the first keep-alive interval (src/http/keep-alive.ts). */
async function keptAliveResult(services: Services, res: Response, result: Promise<RunResult | null>, headers: Record<string, string>) {
  const kept = await keepAlive(res, result, { intervalMs: services.waitKeepAliveMs, headers, logger: services.logger });
  return "value" in kept ? { status: 200 as const, body: kept.value, headers } : STREAMED;
}

function cancelReason(reason: "taken" | undefined, action: CancelAction): string {
  if (reason === "taken") {
    if (action !== "interrupt") throw new HttpError(422, "query.reason: 'taken' is only valid with action=interrupt");
    return "taken: its input was absorbed by another run";
  }
  return `cancelled by a client (${action})`;
}

export const runHandlers: OperationHandlers<RunOperations> = {
  async listRuns({ params, query, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    await services.storage.threads.get(params.thread_id, scope);
    const { limit, offset, status } = query;
    const page = await services.storage.runs.list(params.thread_id, { limit, offset, status }, scope);
    return pageReply(page, query, runToApi);
  },

  async createRun({ params, body, services, auth }) {
    const authorized = await authorizeRunCreation(auth, services.graphs, params.thread_id, nullsAsAbsent(body));
    const run = await createRun(services, params.thread_id, authorized.body, authorized.access);
    return { status: 200, body: runToApi(run), headers: runLocationHeaders(run, false) };
  },

  async waitRun({ params, body, services, auth, req, res }) {
    const authorized = await authorizeRunCreation(auth, services.graphs, params.thread_id, nullsAsAbsent(body));
    const cancelOnDisconnect = (body.on_disconnect ?? "cancel") === "cancel";
    return createAndAwait(services, params.thread_id, authorized, req, res, cancelOnDisconnect);
  },

  async getRun({ params, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    return { status: 200, body: runToApi(await services.storage.runs.getInThread(params.thread_id, params.run_id, scope)) };
  },

  async deleteRun({ params, services, auth }) {
    const { scope } = await auth.authorize("threads:delete", { thread_id: params.thread_id, run_id: params.run_id });
    const run = await services.storage.runs.getInThread(params.thread_id, params.run_id, scope);
    if (isActive(run)) {
      throw new HttpError(409, `Run '${run.run_id}' is ${run.status}; cancel it before deleting it`);
    }
    await services.storage.runs.delete(run.run_id, scope);
    return { status: 204, body: undefined };
  },

  async joinRun({ params, query, services, auth, req, res }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const run = await services.storage.runs.getInThread(params.thread_id, params.run_id, scope);
    return awaitResult(services, run, scope, req, res, flag(query.cancel_on_disconnect));
  },

  async cancelRun({ params, query, services, auth }) {
    const action = query.action ?? "interrupt";
    const { scope } = await auth.authorize("threads:update", { thread_id: params.thread_id, action });
    const run = await services.storage.runs.getInThread(params.thread_id, params.run_id, scope);
    await services.runs.cancel(run, action, cancelReason(query.reason, action));
    if (!flag(query.wait)) return { status: 202, body: undefined };
    await services.runs.outcome(run, scope).catch((error: unknown) => {
      // a rolled-back run is deleted once it stops
      if (!isNotFound(error)) throw error;
    });
    return { status: 204, body: undefined };
  },

  async cancelRuns({ body, query, services, auth }) {
    const {
      status,
      thread_id: threadId,
      run_ids: runIds,
    } = nullsAsAbsent(body as Record<string, unknown>) as {
      status?: "pending" | "running" | "all";
      thread_id?: string;
      run_ids?: string[];
    };
    const action = query.action ?? "interrupt";
    const { scope } = await auth.authorize("threads:update", { thread_id: threadId, action });
    if (runIds && !threadId) throw new HttpError(422, "body.run_ids: give thread_id too (the runs must belong to it)");
    let runs: Run[];
    if (threadId) {
      await services.storage.threads.get(threadId, scope);
      runs = runIds
        ? await Promise.all(runIds.map((id) => services.storage.runs.getInThread(threadId, id, scope)))
        : await services.storage.runs.active(threadId);
    } else {
      const statuses = status === "all" || status === undefined ? (["pending", "running"] as const) : [status];
      runs = (await Promise.all(statuses.map((s) => services.storage.runs.withStatus(s, scope)))).flat();
    }
    if (status && status !== "all") runs = runs.filter((r) => r.status === status);
    const reason = `cancelled by a client (${action})`;
    await Promise.all(runs.filter(isActive).map((run) => services.runs.cancel(run, action, reason)));
    return { status: 204, body: undefined };
  },

  async createStatelessRun({ body, services, auth }) {
    const authorized = await authorizeRunCreation(auth, services.graphs, null, nullsAsAbsent(body));
    const run = await createRun(services, null, authorized.body, authorized.access);
    return { status: 200, body: runToApi(run), headers: runLocationHeaders(run, true) };
  },

  async waitStatelessRun({ body, services, auth, req, res }) {
    const authorized = await authorizeRunCreation(auth, services.graphs, null, nullsAsAbsent(body));
    const cancelOnDisconnect = (body.on_disconnect ?? "cancel") === "cancel";
    return createAndAwait(services, null, authorized, req, res, cancelOnDisconnect);
  },

  async createRunBatch({ body, services, auth }) {
    const items = body.map((item, index) => normalizeBatchItem(item, index));
    // every item is checked (and authorized) before any run is created
    const authorized = await Promise.all(items.map((item) => authorizeRunCreation(auth, services.graphs, null, item)));
    const prepared = await Promise.all(authorized.map(({ body: item, access }) => prepareRun(services, item, true, access)));
    const runs: Run[] = [];
    for (const [i, item] of prepared.entries()) runs.push(await startRun(services, null, item, authorized[i].access));
    return { status: 200, body: runs.map(runToApi) };
  },

  streamRun: streamHandlers.streamRun,
  joinRunStream: streamHandlers.joinRunStream,
  streamStatelessRun: streamHandlers.streamStatelessRun,
  joinStatelessRunStream: streamHandlers.joinStatelessRunStream,
};
