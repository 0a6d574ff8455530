/**
 * A thread's protocol events for one subscriber, across its consecutive runs: first the held
 * events (those of active runs, and of resumable runs within their retention; protocol runs are
 * resumable) after `since`, then the live ones, until the subscriber leaves. Runs are followed in
 * run order (see InRunOrder) and each once, so nothing comes twice. Only the protocol runs of the
 * thread produce events (runs/ REST runs on the same thread are not part of its protocol stream).
 *
 * A thread the caller may not see (another owner's, or one that does not exist yet) is not
 * followed: each run opened on it is followed only once the thread is readable to the caller, so a
 * stream opened before the thread's first `run.start` gets that run from its first event.
 */
import { matchesSubscription } from "@langchain/langgraph/stream";
import { EventQueue } from "../event-queue.js";
import type { RunEventBroker, Unsubscribe } from "../runs/broker.js";
import { followRun, InRunOrder } from "../streams/thread-events.js";
import { RunProtocolEvents, type ProtocolEvent } from "./run-events.js";

/** Which events a subscriber wants. */
export interface ProtocolFilter {
  channels: string[];
  namespaces?: string[][];
  depth?: number;
}

export interface ThreadProtocolOptions {
  filter: ProtocolFilter;
  /** Only events whose seq is greater (a reconnecting client's last one). */
  since?: number;
  /** Whether the caller may read the thread now (checked before following each run until true). */
  readable: () => Promise<boolean>;
  /** Ends the stream. */
  signal: AbortSignal;
}

export function matchesFilter(event: ProtocolEvent, filter: ProtocolFilter, since?: number): boolean {
  const definition: Parameters<typeof matchesSubscription>[1] & { since?: number } = {
    channels: filter.channels as Parameters<typeof matchesSubscription>[1]["channels"],
    ...(filter.namespaces ? { namespaces: filter.namespaces } : {}),
    ...(filter.depth !== undefined ? { depth: filter.depth } : {}),
    ...(since !== undefined ? { since } : {}),
  };
  return matchesSubscription(event, definition);
}

export async function threadProtocolEvents(
  broker: RunEventBroker,
  threadId: string,
  options: ThreadProtocolOptions,
): Promise<AsyncIterable<ProtocolEvent>> {
  const { filter, since, signal } = options;
  const subscriptions = new Map<string, Unsubscribe | null>();
  let unwatch: Unsubscribe = () => {};
  const stop = () => queue.stop();
  const queue = new EventQueue<ProtocolEvent>(() => {
    signal.removeEventListener("abort", stop);
    unwatch();
    for (const unsubscribe of subscriptions.values()) unsubscribe?.();
    subscriptions.clear();
  });
  const ordered = new InRunOrder<ProtocolEvent>((event) => {
    if (matchesFilter(event, filter, since)) queue.push(event);
  });

  let readable = false;
  const mayRead = async () => (readable ||= await options.readable());

  /**
   * Runs followed (or being followed), never forgotten: a run is followed once, even when a
   * notice of its opening comes again after its end (with several processes it may).
   */
  const followed = new Set<string>();
  const follow = async (runId: string, fromStart: boolean): Promise<void> => {
    if (queue.stopped || followed.has(runId)) return;
    followed.add(runId);
    if (!(await mayRead())) return void followed.delete(runId);
    const run = new RunProtocolEvents(runId);
    await followRun(
      broker,
      runId,
      { subscriptions, ordered, queue },
      {
        event: (event) => {
          for (const framed of run.event(event)) ordered.push(runId, framed);
        },
        end: (outcome) => {
          for (const framed of run.end(outcome)) ordered.push(runId, framed);
        },
      },
      { lastEventId: "-1", ...(fromStart ? { fromStart: true } : {}) },
    );
  };

  // a run opened from now on is followed from its first event: nothing is missed
  unwatch = broker.watchThread(threadId, (runId) => void follow(runId, true));
  for (const { runId } of await broker.threadRuns(threadId)) await follow(runId, false);
  if (signal.aborted) queue.stop();
  else signal.addEventListener("abort", stop, { once: true });
  return queue;
}
