/**
 * The per-run event broker: pub/sub of a run's stream events, each with an id usable as
 * `Last-Event-ID`, plus the run's outcome for whoever waits on it (join, wait, cancel?wait).
 *
 * `RunEventBroker` is the seam for other deployments (a PostgreSQL/Redis broker would publish
 * across processes); `LocalRunEventBroker` keeps channels in memory:
 * - a channel exists from the moment its run is scheduled (`open`) until nobody can need its
 *   events: right after the run's end for ordinary runs (live subscribers already got every
 *   event), or `retentionMs` later for `stream_resumable` runs so clients can rejoin;
 * - while a channel exists its events are buffered, so a joiner can replay from any id; the
 *   buffer is bounded (`maxBufferedBytes`): past it the oldest events are dropped, and a replay
 *   starts at the oldest event still held;
 * - channels know their thread, so a thread's stream can follow every run on it (`watchThread`).
 */
import type { RunError, RunStatus } from "../../storage/types.js";

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
}

export interface RunSubscriber {
  event(event: RunEvent): void;
  end(outcome: RunOutcome): void;
}

export interface SubscribeOptions {
  /** Replay buffered events after this id first; "-1" replays every buffered event. */
  lastEventId?: string;
  /**
   * Unless `lastEventId` names an event: replay the events emitted after this checkpoint (a client
   * holding it has every earlier one in its state), the `metadata` events first. Checkpoint ids
   * sort by creation time, so a checkpoint from before the run replays every buffered event, and
   * one newer than every event replays only the metadata.
   */
  afterCheckpoint?: string;
}

/** The buffered events a new subscriber gets before the live ones (see SubscribeOptions). */
export function replayedEvents(events: readonly RunEvent[], options: SubscribeOptions): RunEvent[] {
  const { lastEventId, afterCheckpoint } = options;
  const after = Number(lastEventId);
  if (lastEventId !== undefined && Number.isFinite(after) && after >= 0) return events.filter((event) => Number(event.id) > after);
  if (afterCheckpoint !== undefined) {
    let start = events.findIndex((event) => event.checkpointId !== undefined && event.checkpointId >= afterCheckpoint);
    if (start < 0) start = events.length;
    return [...events.slice(0, start).filter((event) => event.mode === "metadata"), ...events.slice(start)];
  }
  return lastEventId !== undefined ? [...events] : [];
}

export interface OpenOptions {
  /** Keep the events after the run's end (`stream_resumable`). */
  resumable?: boolean;
  /** The run's thread, for `watchThread` / `threadRuns`. */
  threadId?: string;
}

/** A run of a thread whose channel is held. */
export interface HeldRun {
  runId: string;
  /** False once the run ended (its events stay for a resumable run's retention). */
  active: boolean;
}

export interface RunEventBroker {
  /** Makes the run's channel exist (idempotent). */
  open(runId: string, options?: OpenOptions): void;
  isOpen(runId: string): boolean;
  publish(runId: string, event: Omit<RunEvent, "id">): RunEvent;
  /** Ends the channel: subscribers get `end`, then the events are freed (see file comment). */
  finish(runId: string, outcome: RunOutcome): void;
  /**
   * Live events (after a replay when `lastEventId` is given) until the end. Returns the
   * unsubscribe function, or null when the run has no open channel (it ended, or is unknown):
   * the caller then reads the stored run.
   */
  subscribe(runId: string, subscriber: RunSubscriber, options?: SubscribeOptions): (() => void) | null;
  /** The thread's runs whose channels are held, in the order the channels opened. */
  threadRuns(threadId: string): HeldRun[];
  /**
   * Calls `listener` (synchronously, before any event of the run) whenever a channel opens for a
   * run of the thread. Returns the function that stops watching.
   */
  watchThread(threadId: string, listener: (runId: string) => void): () => void;
  /** Frees every channel at once (server shutdown). */
  close(): void;
}

interface Channel {
  threadId: string | null;
  events: RunEvent[];
  /** Sum of the buffered events' sizes. */
  bytes: number;
  seq: number;
  subscribers: Set<RunSubscriber>;
  resumable: boolean;
  outcome: RunOutcome | null;
  expiry: NodeJS.Timeout | null;
}

export interface LocalRunEventBrokerOptions {
  /** How long a finished resumable run's events stay available (default 10 minutes). */
  retentionMs?: number;
  /** Most bytes of events buffered per run; the oldest go first past it (default 16 MiB). */
  maxBufferedBytes?: number;
}

/** Size counted for an event whose publisher gave none (metadata, error: small objects). */
const DEFAULT_EVENT_SIZE = 256;

export class LocalRunEventBroker implements RunEventBroker {
  readonly #channels = new Map<string, Channel>();
  /** Thread id -> its runs with a held channel, in opening order (Sets keep insertion order). */
  readonly #threadRuns = new Map<string, Set<string>>();
  readonly #threadWatchers = new Map<string, Set<(runId: string) => void>>();
  readonly #retentionMs: number;
  readonly #maxBufferedBytes: number;

  constructor(options: LocalRunEventBrokerOptions = {}) {
    this.#retentionMs = options.retentionMs ?? 10 * 60_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  open(runId: string, options: OpenOptions = {}): void {
    const existing = this.#channels.get(runId);
    if (existing && !existing.outcome) {
      existing.resumable ||= options.resumable ?? false;
      if (!existing.threadId && options.threadId) this.#attach(runId, existing, options.threadId);
      return;
    }
    if (existing) this.#free(runId, existing);
    const channel: Channel = {
      threadId: null,
      events: [],
      bytes: 0,
      seq: 0,
      subscribers: new Set(),
      resumable: options.resumable ?? false,
      outcome: null,
      expiry: null,
    };
    this.#channels.set(runId, channel);
    if (options.threadId) this.#attach(runId, channel, options.threadId);
  }

  isOpen(runId: string): boolean {
    return this.#channels.has(runId);
  }

  publish(runId: string, event: Omit<RunEvent, "id">): RunEvent {
    const channel = this.#channels.get(runId);
    if (!channel || channel.outcome) {
      // Nobody can receive it: the run was never scheduled here or already ended.
      return { id: "0", ...event };
    }
    const full: RunEvent = { id: String(++channel.seq), ...event };
    channel.events.push(full);
    channel.bytes += full.size ?? DEFAULT_EVENT_SIZE;
    // the newest event always stays, however large: a joiner must be able to catch up to now
    while (channel.bytes > this.#maxBufferedBytes && channel.events.length > 1) {
      const dropped = channel.events.shift()!;
      channel.bytes -= dropped.size ?? DEFAULT_EVENT_SIZE;
    }
    for (const subscriber of channel.subscribers) subscriber.event(full);
    return full;
  }

  finish(runId: string, outcome: RunOutcome): void {
    const channel = this.#channels.get(runId);
    if (!channel || channel.outcome) return;
    channel.outcome = outcome;
    const subscribers = [...channel.subscribers];
    channel.subscribers.clear();
    for (const subscriber of subscribers) subscriber.end(outcome);
    if (!channel.resumable) {
      this.#free(runId, channel);
      return;
    }
    channel.expiry = setTimeout(() => this.#free(runId, channel), this.#retentionMs);
    channel.expiry.unref();
  }

  subscribe(runId: string, subscriber: RunSubscriber, options: SubscribeOptions = {}): (() => void) | null {
    const channel = this.#channels.get(runId);
    if (!channel) return null;
    for (const event of replayedEvents(channel.events, options)) subscriber.event(event);
    if (channel.outcome) {
      subscriber.end(channel.outcome);
      return () => {};
    }
    channel.subscribers.add(subscriber);
    return () => channel.subscribers.delete(subscriber);
  }

  threadRuns(threadId: string): HeldRun[] {
    const runIds = this.#threadRuns.get(threadId) ?? [];
    return [...runIds].map((runId) => ({ runId, active: !this.#channels.get(runId)?.outcome }));
  }

  watchThread(threadId: string, listener: (runId: string) => void): () => void {
    let watchers = this.#threadWatchers.get(threadId);
    if (!watchers) this.#threadWatchers.set(threadId, (watchers = new Set()));
    watchers.add(listener);
    return () => {
      watchers.delete(listener);
      if (watchers.size === 0 && this.#threadWatchers.get(threadId) === watchers) this.#threadWatchers.delete(threadId);
    };
  }

  close(): void {
    for (const [runId, channel] of this.#channels) this.#free(runId, channel);
  }

  /** Channels currently held (diagnostics and tests). */
  get size(): number {
    return this.#channels.size;
  }

  /** Thread watchers currently registered (diagnostics and tests). */
  get threadWatchers(): number {
    let count = 0;
    for (const watchers of this.#threadWatchers.values()) count += watchers.size;
    return count;
  }

  #attach(runId: string, channel: Channel, threadId: string): void {
    channel.threadId = threadId;
    let runs = this.#threadRuns.get(threadId);
    if (!runs) this.#threadRuns.set(threadId, (runs = new Set()));
    runs.add(runId);
    for (const watcher of [...(this.#threadWatchers.get(threadId) ?? [])]) watcher(runId);
  }

  #free(runId: string, channel: Channel): void {
    if (channel.expiry) clearTimeout(channel.expiry);
    if (this.#channels.get(runId) !== channel) return;
    this.#channels.delete(runId);
    const runs = channel.threadId ? this.#threadRuns.get(channel.threadId) : undefined;
    if (runs?.delete(runId) && runs.size === 0) this.#threadRuns.delete(channel.threadId!);
  }
}

/**
 * The run's events as an async iterable that ends with the run (for SSE writers). Returns null
 * when the run has no open channel. Events are queued per consumer, so a slow reader never
 * blocks the run.
 */
export function runEvents(
  broker: RunEventBroker,
  runId: string,
  options: SubscribeOptions & { signal?: AbortSignal } = {},
): { events: AsyncIterable<RunEvent>; outcome: Promise<RunOutcome | null> } | null {
  const queue: RunEvent[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let resolveOutcome!: (outcome: RunOutcome | null) => void;
  const outcome = new Promise<RunOutcome | null>((resolve) => (resolveOutcome = resolve));
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const subscription = broker.subscribe(
    runId,
    {
      event: (event) => {
        queue.push(event);
        notify();
      },
      end: (result) => {
        ended = true;
        resolveOutcome(result);
        notify();
      },
    },
    options,
  );
  if (!subscription) return null;
  const unsubscribe = subscription;
  const stop = () => {
    ended = true;
    unsubscribe();
    resolveOutcome(null);
    notify();
  };
  options.signal?.addEventListener("abort", stop, { once: true });
  async function* iterate(): AsyncGenerator<RunEvent> {
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      options.signal?.removeEventListener("abort", stop);
      unsubscribe();
    }
  }
  return { events: iterate(), outcome };
}
