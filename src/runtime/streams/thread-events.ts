/**
 * The activity of one thread as SSE events, across its consecutive runs (GET /threads/{id}/stream).
 * It follows every run whose broker channel opens on the thread, until the client leaves.
 *
 * Modes (ThreadStreamMode):
 * - `run_modes`: each run's own events, named as in the run's stream, then `run_done`;
 * - `lifecycle`: `run_start` (`{run_id, attempt}`, when the run begins executing) and `run_done`
 *   (`{run_id, status, error}`);
 * - `state_update`: `state_update` (`{run_id, values}`: the thread's values after the run).
 *
 * Event ids are `<run_id>:<n>` (the run's own event n; `run_start` is n = 0), `<run_id>:state`
 * and `<run_id>:done`. A reconnecting client's `Last-Event-ID` resumes after that event: the rest
 * of that run and every later run (run ids are time-ordered uuid v7) whose events the broker still
 * holds (active runs, and resumable runs within their retention); `-1` replays every held run.
 */
import type { components } from "../../../generated/openapi.js";
import type { RunEventBroker } from "../runs/broker.js";
import { sseEventName, type SseEvent } from "./event-names.js";

export type ThreadStreamMode = components["schemas"]["ThreadStreamMode"];

/** Where a reconnecting client stopped: from the start, or after an event of a run. */
export type ThreadCursor = "start" | { runId: string; position: number | "state" | "done" };

/** The cursor an event id names, or null when it is not an id of a thread stream. */
export function parseThreadEventId(id: string): ThreadCursor | null {
  if (id === "-1") return "start";
  const at = id.lastIndexOf(":");
  if (at <= 0) return null;
  const runId = id.slice(0, at);
  const position = id.slice(at + 1);
  if (position === "state" || position === "done") return { runId, position };
  return /^\d+$/.test(position) ? { runId, position: Number(position) } : null;
}

export interface ThreadEventsOptions {
  modes: ReadonlySet<ThreadStreamMode>;
  /** Resume after this point; absent: only what happens from now on. */
  after?: ThreadCursor;
  /** Ends the stream (client gone, thread deleted). */
  signal: AbortSignal;
}

interface Follow {
  /** Replay the run's held events after this id first. */
  lastEventId?: string;
  /** The client already has the run's `run_start`. */
  started?: boolean;
  /** The client already has the run's `state_update`. */
  stateSent?: boolean;
}

export function threadEvents(broker: RunEventBroker, threadId: string, options: ThreadEventsOptions): AsyncIterable<SseEvent> {
  const { modes, after, signal } = options;
  const runModes = modes.has("run_modes");
  const lifecycle = modes.has("lifecycle");
  const stateUpdates = modes.has("state_update");
  const queue: SseEvent[] = [];
  const subscriptions = new Map<string, () => void>();
  let wake: (() => void) | null = null;
  let stopped = false;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const push = (event: SseEvent) => {
    queue.push(event);
    notify();
  };

  const follow = (runId: string, from: Follow) => {
    if (stopped || subscriptions.has(runId)) return;
    let started = from.started ?? false;
    let ended = false;
    const unsubscribe = broker.subscribe(
      runId,
      {
        event: (event) => {
          if (event.mode === "metadata" && !started) {
            started = true;
            if (lifecycle) push({ id: `${runId}:0`, event: "run_start", data: event.data });
          }
          if (runModes) push({ id: `${runId}:${event.id}`, event: sseEventName(event), data: event.data });
        },
        end: (outcome) => {
          ended = true;
          subscriptions.delete(runId);
          if (stateUpdates && !from.stateSent && outcome.values != null) {
            push({ id: `${runId}:state`, event: "state_update", data: { run_id: runId, values: outcome.values } });
          }
          if (runModes || lifecycle) {
            push({ id: `${runId}:done`, event: "run_done", data: { run_id: runId, status: outcome.status, error: outcome.error } });
          }
        },
      },
      from.lastEventId === undefined ? {} : { lastEventId: from.lastEventId },
    );
    // a run that had already ended called `end` during subscribe
    if (unsubscribe && !ended) subscriptions.set(runId, unsubscribe);
  };

  for (const { runId, active } of broker.threadRuns(threadId)) {
    if (after === undefined) {
      if (active) follow(runId, { started: true });
    } else if (after === "start" || runId > after.runId) {
      follow(runId, { lastEventId: "-1" });
    } else if (runId === after.runId && after.position !== "done") {
      follow(runId, after.position === "state" ? { started: true, stateSent: true } : { lastEventId: String(after.position), started: true });
    }
  }
  // a channel opens before its run publishes anything: following it then misses nothing
  const unwatch = broker.watchThread(threadId, (runId) => follow(runId, { lastEventId: "-1" }));

  const stop = () => {
    if (stopped) return;
    stopped = true;
    unwatch();
    for (const unsubscribe of subscriptions.values()) unsubscribe();
    subscriptions.clear();
    notify();
  };
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });

  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          while (queue.length > 0 && !stopped) yield queue.shift()!;
          if (stopped) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        signal.removeEventListener("abort", stop);
        stop();
      }
    },
  };
}
