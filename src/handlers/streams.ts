/**
 * The streaming operations: create a run and stream it (thread or stateless), join a run's
 * stream, and a thread's stream across its runs. Errors found before the stream opens (unknown
 * thread or run, 409 multitask, 422) are ordinary JSON answers.
 */
import type { Request } from "express";
import { isNotFound } from "../errors.js";
import { HttpError } from "../http/errors.js";
import { STREAMED, type HandlerContext, type OperationHandlers } from "../http/operations.js";
import { brokerEventId, relayRun } from "../http/run-sse.js";
import { lastEventId, openSse } from "../http/sse.js";
import { runLocationHeaders } from "../runtime/runs/api-shape.js";
import type { SubscribeOptions } from "../runtime/runs/broker.js";
import { joinFilter } from "../runtime/streams/event-names.js";
import { parseThreadEventId, type ThreadCursor, type ThreadStreamMode } from "../runtime/streams/thread-events.js";
import type { Run } from "../storage/types.js";
import { followRun, followStatelessRun, followThread, startRunAndFollow, type Followed } from "../app/run-streams.js";
import { nullsAsAbsent } from "../app/nulls.js";

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

/** Why a streamed run is cancelled when its client leaves first (on request). */
const STREAMER_LEFT = "the client streaming it disconnected";

async function streamNewRun(ctx: CreateContext, threadId: string | null): Streamed {
  const { services, auth, req, res } = ctx;
  const disconnect = new AbortController();
  const start = { threadId, body: nullsAsAbsent(ctx.body) };
  const follower = { signal: disconnect.signal, cancelReason: STREAMER_LEFT };
  const { run, events, onLeave } = await startRunAndFollow(services, auth, start, follower);
  await relayRun(req, res, {
    events,
    wanted: everything,
    disconnect,
    onClientGone: onLeave,
    headers: runLocationHeaders(run, threadId === null),
    logger: services.logger,
  });
  return STREAMED;
}

type JoinContext = HandlerContext<"joinRunStream"> | HandlerContext<"joinStatelessRunStream">;

/** A joining client, whose leaving cancels the run when it asked for that (`cancel_on_disconnect`). */
const joiner = ({ query }: JoinContext, disconnect: AbortController) => ({
  signal: disconnect.signal,
  cancelReason: flag(query.cancel_on_disconnect) ? STREAMER_LEFT : null,
});

/** Where a join's replay starts: useStream rejoins after a reload with its thread's head checkpoint (and Last-Event-ID -1). */
function joinReplay({ query, req }: JoinContext): SubscribeOptions {
  return { lastEventId: runEventId(req), ...(query.checkpoint_id ? { afterCheckpoint: query.checkpoint_id } : {}) };
}

/** `run` is null for a stateless run deleted at its end whose events the broker still holds. */
async function joinRun(
  ctx: JoinContext,
  runId: string,
  run: Run | null,
  followed: Followed,
  disconnect: AbortController,
  stateless: boolean,
): Streamed {
  const { query, services, req, res } = ctx;
  await relayRun(req, res, {
    events: followed.events,
    wanted: joinFilter(query.stream_mode, query.namespace),
    disconnect,
    onClientGone: followed.onLeave,
    headers: runLocationHeaders(run ?? { run_id: runId, thread_id: "" }, stateless),
    logger: services.logger,
  });
  return STREAMED;
}

/**
 * Joining a run that does not exist (or that the caller may not see: the same answer) opens the
 * stream and sends one `error` event, as the LangGraph Platform and the official dev server do;
 * the SDK's `joinStream` yields it instead of throwing.
 */
async function orNotFoundEvent<T>(ctx: JoinContext, follow: () => Promise<T>, join: (followed: T) => Streamed): Streamed {
  let followed: T;
  try {
    followed = await follow();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const sse = openSse(ctx.req, ctx.res);
    await sse.send({ event: "error", data: { error: "HTTPException", message: `404: ${(error as Error).message}` } });
    sse.end();
    return STREAMED;
  }
  return join(followed);
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
    const replay = joinReplay(ctx);
    const disconnect = new AbortController();
    const ref = { threadId: params.thread_id, runId: params.run_id };
    return orNotFoundEvent(
      ctx,
      () => followRun(services, auth, ref, replay, joiner(ctx, disconnect)),
      (followed) => joinRun(ctx, followed.run.run_id, followed.run, followed, disconnect, false),
    );
  },

  async joinStatelessRunStream(ctx) {
    const { params, services, auth } = ctx;
    const replay = joinReplay(ctx);
    const disconnect = new AbortController();
    return orNotFoundEvent(
      ctx,
      () => followStatelessRun(services, auth, params.run_id, replay, joiner(ctx, disconnect)),
      (followed) => joinRun(ctx, params.run_id, followed.run, followed, disconnect, true),
    );
  },

  async joinThreadStream({ params, query, services, auth, req, res }): Streamed {
    const after = threadCursor(req);
    const modes = new Set<ThreadStreamMode>(query.stream_mode?.length ? query.stream_mode : ["run_modes"]);
    const stop = new AbortController();
    const events = await followThread(services, auth, params.thread_id, { modes, after, signal: stop.signal });
    const sse = openSse(req, res);
    sse.onDisconnect(() => stop.abort());
    for await (const event of events) {
      await sse.send(event);
    }
    sse.end();
    return STREAMED;
  },
};
