import type { Response } from "express";
import { disconnectSignal } from "../http/disconnect.js";
import type { Services } from "../services.js";
import { runLocationHeaders, runResult, runToApi, runWaitHeaders, type RunResult } from "../runtime/runs/api-shape.js";
import { keepAlive } from "../http/keep-alive.js";
import { STREAMED, type OperationHandlers } from "../http/operations.js";
import { normalizeBatchItem } from "../app/batch.js";
import type { RunOutcome } from "../runtime/runs/broker.js";
import { cancelRuns, cancelRun, deleteRun, getRun, joinRun, listRuns, startRun, startRunAndWait, startRunBatch } from "../app/runs.js";
import { nullsAsAbsent } from "../app/nulls.js";
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

const flag = (value: boolean | number | undefined) => value === true || value === 1;

/** Why a waited-on run is cancelled when its client leaves first. */
const WAITER_LEFT = "the client waiting on it disconnected";

/**
 * A wait's answer, kept alive while the run works: the run's result, or STREAMED once the wait
 * outlasted the first keep-alive interval (src/http/keep-alive.ts). Nobody reads the result of a
 * client that left (null).
 */
async function keptAliveResult(services: Services, res: Response, outcome: Promise<RunOutcome | null>, headers: Record<string, string>) {
  const result: Promise<RunResult | null> = outcome.then((ended) => ended && runResult(ended));
  const kept = await keepAlive(res, result, { intervalMs: services.waitKeepAliveMs, headers, logger: services.logger });
  return "value" in kept ? { status: 200 as const, body: kept.value, headers } : STREAMED;
}

export const runHandlers: OperationHandlers<RunOperations> = {
  async listRuns({ params, query, services, auth }) {
    const { limit, offset, status } = query;
    const page = await listRuns(services, auth, params.thread_id, { limit, offset, status });
    return pageReply(page, query, runToApi);
  },

  async createRun({ params, body, services, auth }) {
    const { run } = await startRun(services, auth, { threadId: params.thread_id, body: nullsAsAbsent(body) });
    return { status: 200, body: runToApi(run), headers: runLocationHeaders(run, false) };
  },

  async waitRun({ params, body, services, auth, req, res }) {
    const waiter = { signal: disconnectSignal(req, res), cancelReason: WAITER_LEFT };
    const { run, outcome } = await startRunAndWait(services, auth, { threadId: params.thread_id, body: nullsAsAbsent(body) }, waiter);
    return keptAliveResult(services, res, outcome, runWaitHeaders(run, false));
  },

  async getRun({ params, services, auth }) {
    return { status: 200, body: runToApi(await getRun(services, auth, { threadId: params.thread_id, runId: params.run_id })) };
  },

  async deleteRun({ params, services, auth }) {
    await deleteRun(services, auth, { threadId: params.thread_id, runId: params.run_id });
    return { status: 204, body: undefined };
  },

  async joinRun({ params, query, services, auth, req, res }) {
    const waiter = { signal: disconnectSignal(req, res), cancelReason: flag(query.cancel_on_disconnect) ? WAITER_LEFT : null };
    const { outcome } = await joinRun(services, auth, { threadId: params.thread_id, runId: params.run_id }, waiter);
    return keptAliveResult(services, res, outcome, {});
  },

  async cancelRun({ params, query, services, auth }) {
    const wait = flag(query.wait);
    const ref = { threadId: params.thread_id, runId: params.run_id };
    await cancelRun(services, auth, ref, { action: query.action ?? "interrupt", reason: query.reason, wait });
    return wait ? { status: 204, body: undefined } : { status: 202, body: undefined };
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
    await cancelRuns(services, auth, { status, threadId, runIds, action: query.action ?? "interrupt" });
    return { status: 204, body: undefined };
  },

  async createStatelessRun({ body, services, auth }) {
    const { run } = await startRun(services, auth, { threadId: null, body: nullsAsAbsent(body) });
    return { status: 200, body: runToApi(run), headers: runLocationHeaders(run, true) };
  },

  async waitStatelessRun({ body, services, auth, req, res }) {
    const waiter = { signal: disconnectSignal(req, res), cancelReason: WAITER_LEFT };
    const { run, outcome } = await startRunAndWait(services, auth, { threadId: null, body: nullsAsAbsent(body) }, waiter);
    return keptAliveResult(services, res, outcome, runWaitHeaders(run, true));
  },

  async createRunBatch({ body, services, auth }) {
    const runs = await startRunBatch(
      services,
      auth,
      body.map((item, index) => normalizeBatchItem(item, index)),
    );
    return { status: 200, body: runs.map(runToApi) };
  },

  streamRun: streamHandlers.streamRun,
  joinRunStream: streamHandlers.joinRunStream,
  streamStatelessRun: streamHandlers.streamStatelessRun,
  joinStatelessRunStream: streamHandlers.joinStatelessRunStream,
};
