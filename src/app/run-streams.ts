/**
 * Following runs as they happen: a run started to be streamed, an existing run's events (a
 * join), and a thread's activity across its runs. The events end with the run (or the thread),
 * or when the caller's signal fires.
 */
import type { RequestAuth } from "../auth/index.js";
import { NotFoundError } from "../storage/errors.js";
import type { RunEvent, RunEventStream, SubscribeOptions } from "../runtime/runs/broker.js";
import type { RunRequest } from "../runtime/runs/request.js";
import type { SseEvent } from "../runtime/streams/event-names.js";
import type { ThreadEventsOptions } from "../runtime/streams/thread-events.js";
import type { Run, Scope } from "../storage/types.js";
import { readableRun, startRun, type RunDeps, type RunRef, type RunStart, type StartedRun, type Waiter } from "./runs.js";

/** A run's events; null when nothing is left to relay (the run ended and its events are gone). */
export type RunEvents = AsyncIterable<RunEvent> | null;

/**
 * A run being followed: its events, and what the follower's transport calls when the follower
 * leaves before the run's end (`onLeave`: the run is interrupted, when that was asked for).
 */
export interface Followed {
  events: RunEvents;
  onLeave?: () => Promise<void>;
}

const leaving = (deps: RunDeps, run: Run, cancelReason: string | null): Followed["onLeave"] =>
  cancelReason === null ? undefined : () => deps.runs.cancel(run, "interrupt", cancelReason);

/**
 * Starts a run and follows it from its first event: the subscription is in place before the run
 * can publish. The run starts once its creation is durable (`beforeDurable: false`, see
 * runtime/runs/create.ts): its `metadata` event and its first graph events go out then, not
 * after whatever the graph computes while the creation is on its way to disk.
 * `follower.signal` ends the subscription; a follower that leaves first cancels the run unless
 * the request says `on_disconnect: continue`.
 */
export async function startRunAndFollow<B extends RunRequest>(
  deps: RunDeps,
  auth: RequestAuth,
  start: RunStart<B>,
  follower: Waiter,
): Promise<StartedRun<B> & Followed> {
  const { signal } = follower;
  const failed = new AbortController();
  let subscribed: Promise<RunEventStream | null> = Promise.resolve(null);
  let started: StartedRun<B>;
  try {
    const onScheduled = (scheduled: Run) => {
      // "-1": from its first event, wherever it executes
      const until = AbortSignal.any([signal, failed.signal]);
      subscribed = deps.runs.events(scheduled.run_id, { lastEventId: "-1", fromStart: true, signal: until });
    };
    started = await startRun(deps, auth, start, { onScheduled, beforeDurable: false });
  } catch (error) {
    failed.abort();
    throw error;
  }
  const cancelReason = (started.request.on_disconnect ?? "cancel") === "cancel" ? follower.cancelReason : null;
  return { ...started, events: (await subscribed)?.events ?? null, onLeave: leaving(deps, started.run, cancelReason) };
}

/** An existing run's events (after a replay as `replay` says), if the caller may read its thread. */
export async function followRun(
  deps: RunDeps,
  auth: RequestAuth,
  ref: RunRef,
  replay: SubscribeOptions,
  follower: Waiter,
): Promise<{ run: Run } & Followed> {
  const { run } = await readableRun(deps, auth, ref);
  const stream = await deps.runs.events(run.run_id, { ...replay, signal: follower.signal });
  return { run, events: stream?.events ?? null, onLeave: leaving(deps, run, follower.cancelReason) };
}

/**
 * A stateless run is deleted with its temporary thread when it ends; while the broker still holds
 * its events (a resumable run's retention) it stays joinable: null then, for callers whose scope
 * has no conditions (with authorization filters, only while the run exists).
 */
async function statelessRun(deps: RunDeps, runId: string, scope: Scope): Promise<Run | null> {
  try {
    return await deps.storage.runs.get(runId, scope);
  } catch (error) {
    // only unscoped: once the run and its thread are gone nothing says whose events these are
    const unscoped = scope.conditions.length === 0;
    if (error instanceof NotFoundError && unscoped && (await deps.runs.holdsEvents(runId))) return null;
    throw error;
  }
}

/** A stateless run's events; `run` is null for one deleted at its end whose events the broker still holds. */
export async function followStatelessRun(
  deps: RunDeps,
  auth: RequestAuth,
  runId: string,
  replay: SubscribeOptions,
  follower: Waiter,
): Promise<{ run: Run | null } & Followed> {
  const { scope } = await auth.authorize("threads:read", {});
  const run = await statelessRun(deps, runId, scope);
  const stream = await deps.runs.events(runId, { ...replay, signal: follower.signal });
  // a run deleted at its end cannot be cancelled any more
  return { run, events: stream?.events ?? null, onLeave: run ? leaving(deps, run, follower.cancelReason) : undefined };
}

/** A thread's activity across its runs; ends by itself when the thread is deleted, through whichever process. */
export async function followThread(
  deps: RunDeps,
  auth: RequestAuth,
  threadId: string,
  options: ThreadEventsOptions,
): Promise<AsyncIterable<SseEvent>> {
  const { scope } = await auth.authorize("threads:read", { thread_id: threadId });
  await deps.storage.threads.get(threadId, scope);
  return deps.runs.threadEvents(threadId, options);
}
