/**
 * Runs as every caller starts, waits for, reads and cancels them: the REST handlers, the
 * thread-centric protocol's commands, MCP tool calls, A2A messages and cron firings. Each
 * operation takes the caller (`RequestAuth`) and does the whole thing: the LangGraph Auth event
 * of the action, the assistant, the thread, storage and the engine. Shaping requests and answers
 * for a transport is the caller's.
 */
import type { RequestAuth } from "../auth/index.js";
import { authorizeRunCreation } from "../auth/run-access.js";
import { conflict, invalid, isNotFound } from "../errors.js";
import type { RunOutcome } from "../runtime/runs/broker.js";
import { createRun, prepareRun, type RunKind, startRun as storeAndSchedule, type RunCreationDeps } from "../runtime/runs/create.js";
import type { CancelAction } from "../runtime/runs/engine.js";
import type { RunRequest } from "../runtime/runs/request.js";
import type { Page, Run, RunListQuery, Scope } from "../storage/types.js";
import type { components } from "../../generated/openapi.js";

/** What run operations use: storage, the graphs, the engine, the webhook policy, LangSmith. */
export type RunDeps = RunCreationDeps;

/** A run to start: on `threadId`, or on a new thread when null (a stateless run). */
export interface RunStart<B extends RunRequest = RunRequest> {
  threadId: string | null;
  /** The run's fields as the API names them, null fields left out (`nullsAsAbsent`). */
  body: B;
  /** How the run is started beyond its request (through the thread-centric protocol, answering interrupts). */
  kind?: RunKind;
}

export interface StartedRun<B extends RunRequest = RunRequest> {
  run: Run;
  /** The caller's scope of the run's thread: where the run can be read, awaited and cancelled. */
  scope: Scope;
  /** The request as the Auth's `threads:create_run` handler left it (its assistant, its metadata). */
  request: B;
}

/** A caller following the run it starts: see `Follower` of runtime/runs/create.ts (here with the caller's scope of the run's thread). */
export interface StartFollower {
  onScheduled: (run: Run, scope: Scope) => void;
  beforeDurable: boolean;
}

/**
 * Starts a run: authorizes it (`threads:create_run`, then the assistant unless it is a graph),
 * checks the request, creates the thread when the request asks for it (a stateless run's, or
 * `if_not_exists: create`), stores the run under its multitask strategy and schedules it.
 *
 * `follower.onScheduled` runs synchronously once the run is scheduled, before it can publish
 * anything: a caller following the run subscribes there; with `beforeDurable` the run may start
 * before its creation is durable (see `startRun` of runtime/runs/create.ts).
 */
export async function startRun<B extends RunRequest>(
  deps: RunDeps,
  auth: RequestAuth,
  start: RunStart<B>,
  follower?: StartFollower,
): Promise<StartedRun<B>> {
  const { access, body } = await authorizeRunCreation(auth, deps.graphs, start.threadId, start.body);
  const following = follower && { onScheduled: (run: Run) => follower.onScheduled(run, access.thread), beforeDurable: follower.beforeDurable };
  const run = await createRun(deps, start.threadId, body, access, following, start.kind);
  return { run, scope: access.thread, request: body };
}

/** Someone waiting for a run's end, who may leave first. */
export interface Waiter {
  /** Fires when the waiter leaves. */
  signal: AbortSignal;
  /** Why the run is cancelled when the waiter leaves first; null: the run goes on without it. */
  cancelReason: string | null;
}

/** The run's end; null when the waiter left first (the run is then cancelled, if the waiter says so). */
async function endOrLeave(deps: RunDeps, run: Run, ending: Promise<RunOutcome | null>, cancelReason: string | null): Promise<RunOutcome | null> {
  const outcome = await ending;
  if (outcome === null && cancelReason !== null) await deps.runs.cancel(run, "interrupt", cancelReason);
  return outcome;
}

/**
 * Starts a run and waits for its end. The wait starts as the run is scheduled, and the run may
 * start before its creation is durable (see runtime/runs/create.ts): nothing is answered before
 * its end, which carries the creation to disk. A waiter that leaves first cancels the run unless
 * the request says `on_disconnect: continue`.
 */
export async function startRunAndWait<B extends RunRequest>(
  deps: RunDeps,
  auth: RequestAuth,
  start: RunStart<B>,
  waiter: Waiter,
): Promise<StartedRun<B> & { outcome: Promise<RunOutcome | null> }> {
  let ending: Promise<RunOutcome | null> | undefined;
  const onScheduled = (scheduled: Run, scope: Scope) => {
    ending = deps.runs.outcome(scheduled, scope, waiter.signal, true);
    ending.catch(() => undefined); // the creation may still fail: then nobody reads it
  };
  const started = await startRun(deps, auth, start, { onScheduled, beforeDurable: true });
  const { run, scope, request } = started;
  const cancelReason = (request.on_disconnect ?? "cancel") === "cancel" ? waiter.cancelReason : null;
  const outcome = endOrLeave(deps, run, ending ?? deps.runs.outcome(run, scope, waiter.signal, true), cancelReason);
  return { ...started, outcome };
}

/** Starts stateless runs: every item is authorized and checked before any run is created. */
export async function startRunBatch(deps: RunDeps, auth: RequestAuth, items: components["schemas"]["RunCreateStateless"][]): Promise<Run[]> {
  const authorized = await Promise.all(items.map((item) => authorizeRunCreation(auth, deps.graphs, null, item)));
  const prepared = await Promise.all(authorized.map(({ body, access }) => prepareRun(deps, body, true, access)));
  const runs: Run[] = [];
  for (const [i, item] of prepared.entries()) runs.push(await storeAndSchedule(deps, null, item, authorized[i].access));
  return runs;
}

/** A run of a thread, by its ids. */
export interface RunRef {
  threadId: string;
  runId: string;
}

const isActive = (run: Run) => run.status === "pending" || run.status === "running";

/** The run, if the caller may read its thread (`threads:read`), with the caller's scope of it. */
export async function readableRun(deps: RunDeps, auth: RequestAuth, ref: RunRef): Promise<{ run: Run; scope: Scope }> {
  const { scope } = await auth.authorize("threads:read", { thread_id: ref.threadId });
  return { run: await deps.storage.runs.getInThread(ref.threadId, ref.runId, scope), scope };
}

export async function getRun(deps: RunDeps, auth: RequestAuth, ref: RunRef): Promise<Run> {
  return (await readableRun(deps, auth, ref)).run;
}

/** The thread's runs, newest first. */
export async function listRuns(deps: RunDeps, auth: RequestAuth, threadId: string, query: RunListQuery): Promise<Page<Run>> {
  const { scope } = await auth.authorize("threads:read", { thread_id: threadId });
  await deps.storage.threads.get(threadId, scope);
  return deps.storage.runs.list(threadId, query, scope);
}

/** Deletes a run that ended (an active one must be cancelled first). */
export async function deleteRun(deps: RunDeps, auth: RequestAuth, ref: RunRef): Promise<void> {
  const { scope } = await auth.authorize("threads:delete", { thread_id: ref.threadId, run_id: ref.runId });
  const run = await deps.storage.runs.getInThread(ref.threadId, ref.runId, scope);
  if (isActive(run)) throw conflict(`Run '${run.run_id}' is ${run.status}; cancel it before deleting it`);
  await deps.storage.runs.delete(run.run_id, scope);
}

/** Waits for the end of an existing run (`outcome`), once the caller may read it. */
export async function joinRun(
  deps: RunDeps,
  auth: RequestAuth,
  ref: RunRef,
  waiter: Waiter,
): Promise<{ run: Run; outcome: Promise<RunOutcome | null> }> {
  const { run, scope } = await readableRun(deps, auth, ref);
  return { run, outcome: endOrLeave(deps, run, deps.runs.outcome(run, scope, waiter.signal), waiter.cancelReason) };
}

/** Why a run is cancelled: `taken` marks a run whose input another run absorbed (interrupt only). */
export type CancelReason = "taken" | undefined;

function cancelReason(reason: CancelReason, action: CancelAction): string {
  if (reason === "taken") {
    if (action !== "interrupt") throw invalid("query.reason: 'taken' is only valid with action=interrupt");
    return "taken: its input was absorbed by another run";
  }
  return `cancelled by a client (${action})`;
}

export interface CancelRequest {
  action: CancelAction;
  reason?: CancelReason;
  /** Answer once the run stopped. */
  wait: boolean;
}

/** Cancels a run of a thread (`threads:update`); cancelling one that ended changes nothing. */
export async function cancelRun(deps: RunDeps, auth: RequestAuth, ref: RunRef, request: CancelRequest): Promise<void> {
  const { action } = request;
  const { scope } = await auth.authorize("threads:update", { thread_id: ref.threadId, action });
  const run = await deps.storage.runs.getInThread(ref.threadId, ref.runId, scope);
  await deps.runs.cancel(run, action, cancelReason(request.reason, action));
  if (!request.wait) return;
  await deps.runs.outcome(run, scope).catch((error: unknown) => {
    // a rolled-back run is deleted once it stops
    if (!isNotFound(error)) throw error;
  });
}

/** Which runs to cancel at once: those of a thread (all its active ones, or the listed ones), or every active one by status. */
export interface CancelManyRequest {
  status?: "pending" | "running" | "all";
  threadId?: string;
  runIds?: string[];
  action: CancelAction;
}

export async function cancelRuns(deps: RunDeps, auth: RequestAuth, request: CancelManyRequest): Promise<void> {
  const { status, threadId, runIds, action } = request;
  const { scope } = await auth.authorize("threads:update", { thread_id: threadId, action });
  if (runIds && !threadId) throw invalid("body.run_ids: give thread_id too (the runs must belong to it)");
  let runs: Run[];
  if (threadId) {
    await deps.storage.threads.get(threadId, scope);
    runs = runIds
      ? await Promise.all(runIds.map((id) => deps.storage.runs.getInThread(threadId, id, scope)))
      : await deps.storage.runs.active(threadId);
  } else {
    const statuses = status === "all" || status === undefined ? (["pending", "running"] as const) : [status];
    runs = (await Promise.all(statuses.map((s) => deps.storage.runs.withStatus(s, scope)))).flat();
  }
  if (status && status !== "all") runs = runs.filter((r) => r.status === status);
  const reason = `cancelled by a client (${action})`;
  await Promise.all(runs.filter(isActive).map((run) => deps.runs.cancel(run, action, reason)));
}
