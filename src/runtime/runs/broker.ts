/**
 * The event broker seam: per-run pub/sub of a run's stream events, each with an id usable as
 * `Last-Event-ID`, plus the run's outcome for whoever waits on it (join, wait, cancel?wait).
 *
 * Implementations: `LocalRunEventBroker` (./local-broker.ts, one process, events in memory) and
 * `PostgresRunEventBroker` (./postgres/broker.ts: events in a table, LISTEN/NOTIFY wakes the
 * processes serving clients). The process executing a run is the only publisher of its events,
 * so it numbers them; a run taken over after a crash continues the numbering (`open`).
 */
import type { RunError, RunEventRows, RunStatus } from "../../storage/types.js";
import { EventQueue } from "../event-queue.js";

export interface RunEvent {
  /** Increasing per run ("1", "2", ...): an SSE id. */
  id: string;
  /**
   * Its kind, the SSE event name without the namespace suffix: an API stream event made by
   * `streams/translate.ts` ("values", "updates", "messages" = `[chunk, metadata]` tuples,
   * "messages/partial" ..., "custom", "events", "debug", "tasks", "checkpoints", "tools"), or
   * "metadata" (first event of an attempt: `{run_id, attempt}`) or "error" (`{error, message}`,
   * the run failed).
   */
  mode: string;
  /** Namespace of the (sub)graph that emitted it; [] for the root graph. */
  ns: string[];
  data: unknown;
  /** Approximate size of `data` as JSON, in bytes, when the publisher knows it (buffer bound). */
  size?: number;
  /** The root graph's latest checkpoint when the event was emitted (rejoining after a checkpoint). */
  checkpointId?: string;
}

/** How a run ended, as join/wait report it. */
export interface RunOutcome {
  status: Exclude<RunStatus, "pending" | "running">;
  /**
   * The thread's state values after the run, with `__interrupt__` listing pending interrupts;
   * null when the run produced no state.
   */
  values: unknown;
  error: RunError | null;
  /**
   * Set when the run's end could not be stored (a storage outage under a run of the embedded
   * backend, whose memory holds the end until a later flush carries it to disk): the end is not
   * known for sure, so waiters get a StorageUnavailableError with this instead of the outcome,
   * and a later read of the run tells (a restart before the disk recovers retries the run).
   */
  unstored?: RunError;
}

export interface RunSubscriber {
  event(event: RunEvent): void;
  end(outcome: RunOutcome): void;
}

export interface SubscribeOptions {
  /** Replay held events after this id first; "-1" replays every held event. */
  lastEventId?: string;
  /**
   * Unless `lastEventId` names an event: replay the events emitted after this checkpoint (a client
   * holding it has every earlier one in its state), the `metadata` events first. Checkpoint ids
   * sort by creation time, so a checkpoint from before the run replays every held event, and
   * one newer than every event replays only the metadata.
   */
  afterCheckpoint?: string;
  /**
   * The subscriber learned of the run as it was created or opened and must see it from its first
   * event, even if the run ended before the subscription was in place (on PostgreSQL the
   * subscription takes a round trip): an ended run's events are then replayed while they are
   * still stored. (The local broker subscribes synchronously, before the run can end.)
   */
  fromStart?: boolean;
  /**
   * The subscriber needs only the run's end (join, wait): a broker may leave its events out, and
   * not read them (no replay either).
   */
  endOnly?: boolean;
}

/** Whether the options replay from a numbered event (rather than from a checkpoint, everything, or nothing). */
export function replaysAfterId(options: SubscribeOptions): number | null {
  const after = Number(options.lastEventId);
  return options.lastEventId !== undefined && Number.isFinite(after) && after >= 0 ? after : null;
}

/** The held events a new subscriber gets before the live ones (see SubscribeOptions). */
export function replayedEvents(events: readonly RunEvent[], options: SubscribeOptions): RunEvent[] {
  const after = replaysAfterId(options);
  if (after !== null) return events.filter((event) => Number(event.id) > after);
  if (options.afterCheckpoint !== undefined) {
    const afterCheckpoint = options.afterCheckpoint;
    let start = events.findIndex((event) => event.checkpointId !== undefined && event.checkpointId >= afterCheckpoint);
    if (start < 0) start = events.length;
    return [...events.slice(0, start).filter((event) => event.mode === "metadata"), ...events.slice(start)];
  }
  return options.lastEventId !== undefined ? [...events] : [];
}

export interface OpenOptions {
  /** Keep the events after the run's end (`stream_resumable`). */
  resumable?: boolean;
  /** The run's thread, for `watchThread` / `threadRuns`. */
  threadId: string;
  /** Opened by the process about to execute the run (it will publish its events). */
  publisher?: boolean;
  /** The publisher's execution attempt: events of earlier attempts may exist only when it is above 1. */
  attempt?: number;
  /**
   * The run defers durability (LangGraph's `durability` other than "sync"): its events before its
   * end need not be durable one by one; its end, durable before it is announced, makes them so.
   */
  deferDurability?: boolean;
  /**
   * The run was leased to this process at its creation, which stored its first event, `metadata`
   * of attempt 1 (RunCreate.lease: not for a protocol run): the publisher's `metadata` event is
   * that one, and the channel starts after it.
   */
  openedByCreation?: boolean;
}

/** A run of a thread whose events are held. */
export interface HeldRun {
  runId: string;
  /** False once the run ended (its events stay for a resumable run's retention). */
  active: boolean;
}

export type Unsubscribe = () => void;

export interface RunEventBroker {
  /**
   * Makes the run's channel exist (idempotent): a stored run is opened when it is submitted, and
   * by the process executing it before its first `publish` (which then numbers its events after
   * those of earlier attempts).
   */
  open(runId: string, options: OpenOptions): Promise<void>;
  /** Whether the run's events are held (it is active, or resumable and within its retention). */
  isOpen(runId: string): Promise<boolean>;
  /** Numbers and publishes an event of a run this process executes. */
  publish(runId: string, event: Omit<RunEvent, "id">): RunEvent;
  /**
   * For a broker whose events live in storage: stops publishing for the run and hands over its
   * unwritten events and its end event, to be stored in the commit that stores the run's end
   * (`RunEnd.events`), so that no process ever sees one without the other. Absent from a broker
   * that keeps events in memory. Call it once every event of the run was published, and
   * `finish` after that commit either way.
   */
  closingEvents?(runId: string, outcome: RunOutcome): Promise<RunEventRows | null>;
  /**
   * For a broker whose events live in storage: the end event of a run that ends without an
   * executor (a pending run cancelled), to be stored with that end (`RunEnd.events`); then
   * `finish(..., true)`. Absent from a broker that keeps events in memory.
   */
  stoppedEvents?(runId: string, threadId: string, outcome: RunOutcome): RunEventRows;
  /**
   * Ends the channel: subscribers get `end` after every event published before. `endStored`:
   * the events from `closingEvents` were committed with the run's end (nothing is left to write).
   */
  finish(runId: string, outcome: RunOutcome, endStored?: boolean): void;
  /**
   * For a broker whose events live in storage: this process no longer executes the run (another
   * process took it over, or shutdown put it back to pending). Forgets what it would still write
   * for it under `attempt` (its execution's), writing nothing; subscribers here go on with the
   * run's stored events, whoever writes them.
   */
  abandon?(runId: string, attempt: number): void;
  /**
   * Live events (after a replay when `lastEventId` is given) until the end. Resolves to the
   * unsubscribe function, or null when the run's events are not held (it ended, or is unknown):
   * the caller then reads the stored run. A subscription made before the run's first event
   * (in the same tick as `open`) misses nothing.
   */
  subscribe(runId: string, subscriber: RunSubscriber, options?: SubscribeOptions): Promise<Unsubscribe | null>;
  /** The thread's runs whose events are held, oldest first. */
  threadRuns(threadId: string): Promise<HeldRun[]>;
  /** Calls `listener` whenever a run of the thread is opened. Returns the function that stops watching. */
  watchThread(threadId: string, listener: (runId: string) => void): Unsubscribe;
  /** Frees everything (server shutdown). */
  close(): Promise<void>;
}

/** A run's events as an async iterable that ends with the run, and its outcome (null if left early). */
export interface RunEventStream {
  events: AsyncIterable<RunEvent>;
  outcome: Promise<RunOutcome | null>;
}

/**
 * Subscribes to the run's events as an async iterable (for SSE writers). Resolves to null when
 * the run's events are not held. Events are queued per consumer, so a slow reader never blocks
 * the run; `signal` ends the iteration.
 */
export async function runEvents(
  broker: RunEventBroker,
  runId: string,
  options: SubscribeOptions & { signal?: AbortSignal } = {},
): Promise<RunEventStream | null> {
  let resolveOutcome!: (outcome: RunOutcome | null) => void;
  const outcome = new Promise<RunOutcome | null>((resolve) => (resolveOutcome = resolve));
  let unsubscribe: Unsubscribe | null = null;
  const stop = () => queue.stop();
  const queue = new EventQueue<RunEvent>(() => {
    options.signal?.removeEventListener("abort", stop);
    unsubscribe?.();
    resolveOutcome(null);
  });
  unsubscribe = await broker.subscribe(
    runId,
    {
      event: (event) => queue.push(event),
      end: (result) => {
        resolveOutcome(result);
        queue.end();
      },
    },
    options,
  );
  if (!unsubscribe) return null;
  if (options.signal?.aborted) queue.stop();
  else options.signal?.addEventListener("abort", stop, { once: true });
  return { events: queue, outcome };
}
