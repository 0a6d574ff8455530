/**
 * The streaming operations: create a run and stream it (thread or stateless), join a run's
 * stream, and a thread's stream across its runs. Errors found before the stream opens (unknown
 * thread or run, 409 multitask, 422) are ordinary JSON answers.
 */
import type { Request } from "express";
import { HttpError } from "../http/errors.js";
import { STREAMED, type HandlerContext, type OperationHandlers } from "../http/operations.js";
import { brokerEventId, relayRun } from "../http/run-sse.js";
import { lastEventId, openSse } from "../http/sse.js";
import { runLocationHeaders } from "../runtime/runs/api-shape.js";
import type { RunEventStream, SubscribeOptions } from "../runtime/runs/broker.js";
import { createRun } from "../runtime/runs/create.js";
import { joinFilter } from "../runtime/streams/event-names.js";
import { parseThreadEventId, type ThreadCursor, type ThreadStreamMode } from "../runtime/streams/thread-events.js";
import type { Services } from "../services.js";
import { NotFoundError } from "../storage/errors.js";
import type { Run, Scope } from "../storage/types.js";
import { authorizeRunCreation } from "../auth/run-access.js";
import { nullsAsAbsent } from "./nulls.js";

type StreamOperations = "streamRun" | "streamStatelessRun" | "joinRunStream" | "joinStatelessRunStream" | "joinThreadStream";

type Streamed = Promise<typeof STREAMED>;

const flag = (value: boolean | number | undefined) => value === true || value === 1;
const everything = () => true;

/** A run stream's `Last-Event-ID`: a run event id, or -1 for a replay from the start. */
function runEventId(req: Request): string | undefined {
  const id = lastEventId(req);
  if (id === undefined || id === "-1" || /^\d+$/.test(id)) return id === undefined ? id : brokerEventId(id);
  throw new HttpError(422, `header Last-Event-ID: '${id}' is not an event id of a run stream (a number, or -1 to replay from the start)`);
}

function threadCursor(req: Request): ThreadCursor | undefined {
  const id = lastEventId(req);
  if (id === undefined) return undefined;
  const cursor = parseThreadEventId(id);
  if (cursor) return cursor;
  throw new HttpError(422, `header Last-Event-ID: '${id}' is not an event id of a thread stream (<run_id>:<n>, or -1 to replay from the start)`);
}

type CreateContext = HandlerContext<"streamRun"> | HandlerContext<"streamStatelessRun">;

/** Cancels the run when the client that streams it goes away (on request). */
const cancelling = (services: Services, run: Run, cancel: boolean) =>
  cancel ? () => services.runs.cancel(run, "interrupt", "the client streaming it disconnected") : undefined;

async function streamNewRun(ctx: CreateContext, threadId: string | null): Streamed {
  const { services, auth, req, res } = ctx;
  const authorized = await authorizeRunCreation(auth, services.graphs, threadId, nullsAsAbsent(ctx.body));
  const body = authorized.body;
  const disconnect = new AbortController();
  let subscribed: Promise<RunEventStream | null> = Promise.resolve(null);
  let run: Run;
  try {
    run = await createRun(services, threadId, body, authorized.access, (scheduled) => {
      // subscribed before the run can publish; "-1": from its first event, wherever it executes
      subscribed = services.runs.events(scheduled.run_id, { lastEventId: "-1", fromStart: true, signal: disconnect.signal });
    });
  } catch (error) {
    disconnect.abort();
    throw error;
  }
  await relayRun(req, res, {
    events: (await subscribed)?.events ?? null,
    wanted: everything,
    disconnect,
    onClientGone: cancelling(services, run, (body.on_disconnect ?? "cancel") === "cancel"),
    headers: runLocationHeaders(run, threadId === null),
    logger: services.logger,
  });
  return STREAMED;
}

type JoinContext = HandlerContext<"joinRunStream"> | HandlerContext<"joinStatelessRunStream">;

/** `run` is null for a stateless run deleted at its end whose events the broker still holds. */
async function joinRun(ctx: JoinContext, runId: string, run: Run | null, stateless: boolean): Streamed {
  const { query, services, req, res } = ctx;
  // useStream rejoins after a reload with its thread's head checkpoint (and Last-Event-ID -1)
  const replay: SubscribeOptions = {
    lastEventId: runEventId(req),
    ...(query.checkpoint_id ? { afterCheckpoint: query.checkpoint_id } : {}),
  };
  const disconnect = new AbortController();
  const stream = await services.runs.events(runId, { ...replay, signal: disconnect.signal });
  await relayRun(req, res, {
    events: stream?.events ?? null,
    wanted: joinFilter(query.stream_mode, query.namespace),
    disconnect,
    onClientGone: run ? cancelling(services, run, flag(query.cancel_on_disconnect)) : undefined,
    headers: runLocationHeaders(run ?? { run_id: runId, thread_id: "" }, stateless),
    logger: services.logger,
  });
  return STREAMED;
}

/**
 * A stateless run is deleted with its temporary thread when it ends; while the broker still holds
 * its events (a resumable run's retention) it stays joinable: null then, for callers whose scope
 * has no conditions (with authorization filters, only while the run exists).
 */
async function statelessRun(services: Services, runId: string, scope: Scope): Promise<Run | null> {
  try {
    return await services.storage.runs.get(runId, scope);
  } catch (error) {
    // only unscoped: once the run and its thread are gone nothing says whose events these are
    const unscoped = scope.conditions.length === 0;
    if (error instanceof NotFoundError && unscoped && (await services.runs.holdsEvents(runId))) return null;
    throw error;
  }
}

/**
 * Joining a run that does not exist (or that the caller may not see: the same answer) opens the
 * stream and sends one `error` event, as the LangGraph Platform and the official dev server do;
 * the SDK's `joinStream` yields it instead of throwing.
 */
async function orNotFoundEvent(ctx: JoinContext, find: () => Promise<() => Streamed>): Streamed {
  let join: () => Streamed;
  try {
    join = await find();
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const sse = openSse(ctx.req, ctx.res);
    await sse.send({ event: "error", data: { error: "HTTPException", message: `404: ${error.message}` } });
    sse.end();
    return STREAMED;
  }
  return join();
}

export const streamHandlers: OperationHandlers<StreamOperations> = {
  async streamRun(ctx) {
    return streamNewRun(ctx, ctx.params.thread_id);
  },

  async streamStatelessRun(ctx) {
    return streamNewRun(ctx, null);
  },

  async joinRunStream(ctx) {
    const { params, services, auth } = ctx;
    return orNotFoundEvent(ctx, async () => {
      const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
      const run = await services.storage.runs.getInThread(params.thread_id, params.run_id, scope);
      return () => joinRun(ctx, run.run_id, run, false);
    });
  },

  async joinStatelessRunStream(ctx) {
    const { params, services, auth } = ctx;
    return orNotFoundEvent(ctx, async () => {
      const { scope } = await auth.authorize("threads:read", {});
      const run = await statelessRun(services, params.run_id, scope);
      return () => joinRun(ctx, params.run_id, run, true);
    });
  },

  async joinThreadStream({ params, query, services, auth, req, res }): Streamed {
    const threadId = params.thread_id;
    const { scope } = await auth.authorize("threads:read", { thread_id: threadId });
    await services.storage.threads.get(threadId, scope);
    const after = threadCursor(req);
    const modes = new Set<ThreadStreamMode>(query.stream_mode?.length ? query.stream_mode : ["run_modes"]);
    const stop = new AbortController();
    const sse = openSse(req, res);
    sse.onDisconnect(() => stop.abort());
    // ends by itself when the thread is deleted, through whichever process
    for await (const event of await services.runs.threadEvents(threadId, { modes, after, signal: stop.signal })) {
      await sse.send(event);
    }
    sse.end();
    return STREAMED;
  },
};
