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
import { EventQueue } from "../event-queue.js";
import type { RunEvent, RunEventBroker, RunOutcome, SubscribeOptions, Unsubscribe } from "../runs/broker.js";
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
  /** The run was just opened: follow it from its first event even if it ended meanwhile (see SubscribeOptions). */
  fromStart?: boolean;
}

/**
 * Passes each followed run's events on in run order: a run's events wait until every earlier
 * followed run has ended. A thread's runs execute one after another, but with several processes
 * the notices of consecutive runs may be read out of order.
 */
export class InRunOrder<T> {
  /** Followed runs not yet ended, in run id (= creation) order. */
  readonly #open: string[] = [];
  readonly #held = new Map<string, T[]>();
  readonly #ended = new Set<string>();

  constructor(private readonly emit: (event: T) => void) {}

  add(runId: string): void {
    let at = this.#open.findIndex((id) => id > runId);
    if (at < 0) at = this.#open.length;
    this.#open.splice(at, 0, runId);
  }

  push(runId: string, event: T): void {
    if (this.#open[0] === runId) this.emit(event);
    else {
      let held = this.#held.get(runId);
      if (!held) this.#held.set(runId, (held = []));
      held.push(event);
    }
  }

  /** The run's last event was pushed (or it will push none). */
  end(runId: string): void {
    this.#ended.add(runId);
    while (this.#open.length > 0 && this.#ended.has(this.#open[0])) {
      this.#ended.delete(this.#open.shift()!);
      const next = this.#open[0];
      if (next === undefined) break;
      for (const event of this.#held.get(next) ?? []) this.emit(event);
      this.#held.delete(next);
    }
  }
}

/** What a thread's stream keeps of the runs it follows. */
export interface FollowedRuns<T> {
  /** Their unsubscribe function once known (null while subscribing); a run leaves at its end. */
  subscriptions: Map<string, Unsubscribe | null>;
  ordered: InRunOrder<T>;
  queue: EventQueue<T>;
}

/**
 * Follows one run of a thread's stream, in run order: `end` handles the run's outcome, after
 * which its place in the order is released, as it is when the run turns out to have no channel
 * or the stream stopped while subscribing.
 */
export async function followRun<T>(
  broker: RunEventBroker,
  runId: string,
  runs: FollowedRuns<T>,
  handlers: { event: (event: RunEvent) => void; end: (outcome: RunOutcome) => void },
  options: SubscribeOptions,
): Promise<void> {
  const { subscriptions, ordered, queue } = runs;
  subscriptions.set(runId, null);
  ordered.add(runId);
  let ended = false;
  const unsubscribe = await broker.subscribe(
    runId,
    {
      event: handlers.event,
      end: (outcome) => {
        ended = true;
        subscriptions.delete(runId);
        handlers.end(outcome);
        ordered.end(runId);
      },
    },
    options,
  );
  if (queue.stopped || ended || !unsubscribe) {
    // the client left meanwhile, or the run had ended already (`end` came during subscribe)
    if (!ended) {
      subscriptions.delete(runId);
      ordered.end(runId);
    }
    unsubscribe?.();
  } else {
    subscriptions.set(runId, unsubscribe);
  }
}

export async function threadEvents(broker: RunEventBroker, threadId: string, options: ThreadEventsOptions): Promise<AsyncIterable<SseEvent>> {
  const { modes, after, signal } = options;
  const runModes = modes.has("run_modes");
  const lifecycle = modes.has("lifecycle");
  const stateUpdates = modes.has("state_update");
  /** Followed runs: their unsubscribe function once known (null while subscribing). */
  const subscriptions = new Map<string, Unsubscribe | null>();
  /** Every run followed so far, ended ones included: a run opened (and maybe ended) while the held runs are listed is followed once. */
  const followed = new Set<string>();
  let unwatch: Unsubscribe = () => {};
  const stop = () => queue.stop();
  const queue = new EventQueue<SseEvent>(() => {
    signal.removeEventListener("abort", stop);
    unwatch();
    for (const unsubscribe of subscriptions.values()) unsubscribe?.();
    subscriptions.clear();
  });

  const ordered = new InRunOrder<SseEvent>((event) => queue.push(event));
  const follow = async (runId: string, from: Follow): Promise<void> => {
    if (queue.stopped || followed.has(runId)) return;
    followed.add(runId);
    const push = (event: SseEvent) => ordered.push(runId, event);
    let started = from.started ?? false;
    await followRun(
      broker,
      runId,
      { subscriptions, ordered, queue },
      {
        event: (event) => {
          if (event.mode === "metadata" && !started) {
            started = true;
            if (lifecycle) push({ id: `${runId}:0`, event: "run_start", data: event.data });
          }
          if (runModes) push({ id: `${runId}:${event.id}`, event: sseEventName(event), data: event.data });
        },
        end: (outcome) => {
          // an end that could not be stored is no end: its `error` event was relayed
          if (outcome.unstored) return;
          if (stateUpdates && !from.stateSent && outcome.values != null) {
            push({ id: `${runId}:state`, event: "state_update", data: { run_id: runId, values: outcome.values } });
          }
          if (runModes || lifecycle) {
            push({ id: `${runId}:done`, event: "run_done", data: { run_id: runId, status: outcome.status, error: outcome.error } });
          }
        },
      },
      {
        ...(from.lastEventId === undefined ? {} : { lastEventId: from.lastEventId }),
        ...(from.fromStart ? { fromStart: true } : {}),
      },
    );
  };

  // a run opened from now on is followed from its first event: nothing is missed
  unwatch = broker.watchThread(threadId, (runId) => void follow(runId, { lastEventId: "-1", fromStart: true }));
  for (const { runId, active } of await broker.threadRuns(threadId)) {
    if (after === undefined) {
      if (active) await follow(runId, { started: true });
    } else if (after === "start" || runId > after.runId) {
      await follow(runId, { lastEventId: "-1" });
    } else if (runId === after.runId && after.position !== "done") {
      await follow(runId, after.position === "state" ? { started: true, stateSent: true } : { lastEventId: String(after.position), started: true });
    }
  }
  if (signal.aborted) queue.stop();
  else signal.addEventListener("abort", stop, { once: true });
  return queue;
}
