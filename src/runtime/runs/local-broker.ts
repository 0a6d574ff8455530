/**
 * The in-process event broker: channels in memory.
 * - a channel exists from the moment its run is submitted (`open`) until nobody can need its
 *   events: right after the run's end for ordinary runs (live subscribers already got every
 *   event), or `retentionMs` later for `stream_resumable` runs so clients can rejoin;
 * - while a channel exists its events are buffered, so a joiner can replay from any id; the
 *   buffer is bounded (`maxBufferedBytes`): past it the oldest events are dropped, and a replay
 *   starts at the oldest event still held;
 * - channels know their thread, so a thread's stream can follow every run on it (`watchThread`).
 * Everything happens synchronously inside the (async) calls, so a subscription made in the same
 * tick as `open` sees every event.
 */
import {
  replayedEvents,
  type HeldRun,
  type OpenOptions,
  type RunEvent,
  type RunEventBroker,
  type RunOutcome,
  type RunSubscriber,
  type SubscribeOptions,
  type Unsubscribe,
} from "./broker.js";
import { ThreadWatchers } from "./thread-watchers.js";

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
  readonly #threadWatchers = new ThreadWatchers();
  readonly #retentionMs: number;
  readonly #maxBufferedBytes: number;

  constructor(options: LocalRunEventBrokerOptions = {}) {
    this.#retentionMs = options.retentionMs ?? 10 * 60_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  async open(runId: string, options: OpenOptions): Promise<void> {
    this.openNow(runId, options);
  }

  /** `open`, synchronously (the PostgreSQL broker keeps its executing runs' channels here). */
  openNow(runId: string, options: OpenOptions): void {
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

  async isOpen(runId: string): Promise<boolean> {
    return this.has(runId);
  }

  has(runId: string): boolean {
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

  async subscribe(runId: string, subscriber: RunSubscriber, options: SubscribeOptions = {}): Promise<Unsubscribe | null> {
    return this.subscribeNow(runId, subscriber, options);
  }

  /** `subscribe`, synchronously. */
  subscribeNow(runId: string, subscriber: RunSubscriber, options: SubscribeOptions = {}): Unsubscribe | null {
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

  async threadRuns(threadId: string): Promise<HeldRun[]> {
    const runIds = this.#threadRuns.get(threadId) ?? [];
    return [...runIds].map((runId) => ({ runId, active: !this.#channels.get(runId)?.outcome }));
  }

  watchThread(threadId: string, listener: (runId: string) => void): () => void {
    return this.#threadWatchers.watch(threadId, listener);
  }

  // The engine ends the channels of the runs that waited in this process's queue.

  async close(): Promise<void> {
    for (const [runId, channel] of this.#channels) this.#free(runId, channel);
  }

  /** Channels currently held (diagnostics and tests). */
  get size(): number {
    return this.#channels.size;
  }

  /** Live subscriptions to run channels currently registered (diagnostics and tests). */
  get subscribers(): number {
    let count = 0;
    for (const channel of this.#channels.values()) count += channel.subscribers.size;
    return count;
  }

  /** Thread watchers currently registered (diagnostics and tests). */
  get threadWatchers(): number {
    return this.#threadWatchers.count;
  }

  #attach(runId: string, channel: Channel, threadId: string): void {
    channel.threadId = threadId;
    let runs = this.#threadRuns.get(threadId);
    if (!runs) this.#threadRuns.set(threadId, (runs = new Set()));
    runs.add(runId);
    this.#threadWatchers.opened(threadId, runId);
  }

  #free(runId: string, channel: Channel): void {
    if (channel.expiry) clearTimeout(channel.expiry);
    if (this.#channels.get(runId) !== channel) return;
    this.#channels.delete(runId);
    const runs = channel.threadId ? this.#threadRuns.get(channel.threadId) : undefined;
    if (runs?.delete(runId) && runs.size === 0) this.#threadRuns.delete(channel.threadId!);
  }
}
