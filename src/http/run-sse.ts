/**
 * A run's events on an SSE response: every event the client wants, with the run's own event id,
 * until the run ends (the response ends with it) or the client leaves (the subscription is
 * dropped, and `onClientGone` runs, e.g. to cancel the run).
 */
import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { RunEvent } from "../runtime/runs/broker.js";
import { sseEventName } from "../runtime/streams/event-names.js";
import { openSse } from "./sse.js";

export interface RunSseOptions {
  /** The run's events; null when there is nothing to relay (the stream ends at once). */
  events: AsyncIterable<RunEvent> | null;
  /** Which events the client wants (join's `stream_mode`). */
  wanted: (event: RunEvent) => boolean;
  /** Aborted when the client goes away; it should end `events`. */
  disconnect: AbortController;
  /** What to do when the client goes away before the run's end (cancel it, on request). */
  onClientGone?: () => Promise<void>;
  headers: Record<string, string>;
  logger: Logger;
}

/**
 * The wire numbers a run's events from 0, as the official servers do (`Last-Event-ID: -1`
 * replays everything), while brokers count them from 1: the SSE id is the broker's id minus one.
 */
export const wireEventId = (brokerId: string): string => String(Number(brokerId) - 1);

/** The broker id a client's `Last-Event-ID` names ("-1", a replay from the start, stays as is). */
export const brokerEventId = (wireId: string): string => (wireId === "-1" ? wireId : String(Number(wireId) + 1));

export async function relayRun(req: Request, res: Response, options: RunSseOptions): Promise<void> {
  const sse = openSse(req, res, { headers: options.headers });
  sse.onDisconnect(() => {
    options.disconnect.abort();
    options.onClientGone?.().catch((error: unknown) => {
      options.logger.warn({ err: error }, "cannot act on the disconnect of a run's stream");
    });
  });
  if (options.events) {
    for await (const event of options.events) {
      if (sse.closed) break;
      if (options.wanted(event)) await sse.send({ id: wireEventId(event.id), event: sseEventName(event), data: event.data });
    }
  }
  sse.end();
}
