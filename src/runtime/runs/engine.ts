/**
 * The run engine and its seams.
 *
 * `RunEngine` is what the HTTP handlers (and MCP, A2A, crons) use: schedule stored runs, cancel
 * them, wait for their end, stream their events. One implementation (`ComposedRunEngine`,
 * ./run-engine.ts) is built from three swappable parts, the way Aegra splits its broker, executor
 * and reaper:
 *
 * - `RunEventBroker` (./broker.ts): a run's events and outcome, from the executing process to
 *   every process serving a client of the run;
 * - `RunDispatcher`: which stored pending run this process executes, and when: locally an
 *   in-memory queue, on PostgreSQL a claim (`FOR UPDATE SKIP LOCKED`) woken by NOTIFY, with
 *   leases that a reaper takes back from dead processes;
 * - `StopChannel`: cancel requests, delivered to whichever process executes the run.
 *
 * `localRunParts` (./local-parts.ts) and `postgresRunParts` (./postgres/) provide them.
 */
import type { Assistant, Run, Scope } from "../../storage/types.js";
import type { SseEvent } from "../streams/event-names.js";
import type { ThreadEventsOptions } from "../streams/thread-events.js";
import type { ThreadProtocolOptions } from "../protocol/thread-events.js";
import type { ProtocolEvent } from "../protocol/run-events.js";
import type { RunEvent, RunEventBroker, RunEventStream, RunOutcome, SubscribeOptions, Unsubscribe } from "./broker.js";

export type CancelAction = "interrupt" | "rollback";

export interface RunEngineOptions {
  /** Runs executing at once in this process (default 10). */
  concurrency?: number;
  /** Per-run time limit in ms; 0 = none (default 1 hour). */
  runTimeoutMs?: number;
  /** Executions a run gets when the server keeps dying under it (default 3). */
  maxAttempts?: number;
  /** How long shutdown lets running runs finish before suspending them (default 30 s). */
  shutdownGraceMs?: number;
  /** How long a finished resumable run's events stay joinable (default 10 min). */
  resumableRetentionMs?: number;
  /**
   * Several processes (PostgreSQL): how long a run's lease lasts without renewal (default 6 s).
   * A process renews its leases every third of it; a crashed process's runs resume after at most this.
   */
  leaseMs?: number;
  /** Whether runs' webhooks are called (default true; `http.disable_webhooks` turns it off). */
  sendWebhooks?: boolean;
}

export interface RunEngine {
  /** Takes over the runs a previous process left (pending ones start again, cut ones retry), then accepts new ones. */
  start(): Promise<void>;
  /**
   * Schedules a stored pending run. Its events can be subscribed to from the moment this returns
   * (synchronously), so a client streaming the run it creates sees every event. `assistant`: the
   * record its creating request read, which a run leased here at its creation executes with
   * (it starts at once) instead of reading it again.
   */
  submit(run: Run, assistant?: Assistant): void;
  /** See RunDispatcher.leaseAtCreation: null while stopping, or when the dispatcher has none. */
  leaseAtCreation(): CreationLease | null;
  /**
   * Cancels a pending or running run, wherever it executes (no-op for a finished one). Resolves
   * once the cancellation is in effect for a waiting run, or requested for a running one;
   * `outcome` waits for the end.
   */
  cancel(run: Run, action: CancelAction, reason: string): Promise<void>;
  /**
   * Resolves with how the run ended, waiting for it if it is still active; null if `signal` fired
   * first. `created`: the caller just created the run, which may end (and, stateless, lose its
   * temporary thread and its stored row) before the wait is in place: its end is then read from
   * its stream (SubscribeOptions.fromStart).
   */
  outcome(run: Run, scope?: Scope, signal?: AbortSignal, created?: boolean): Promise<RunOutcome | null>;
  /**
   * The run's events until its end (after a replay when `lastEventId` is given), from whichever
   * process executes it; null when the run's events are no longer held (it ended).
   */
  events(runId: string, options?: SubscribeOptions & { signal?: AbortSignal }): Promise<RunEventStream | null>;
  /** Whether the run's events are still held (an ended resumable run within its retention). */
  holdsEvents(runId: string): Promise<boolean>;
  /** The activity of a thread across its runs (GET /threads/{id}/stream); ends when the thread is deleted (by any process). */
  threadEvents(threadId: string, options: ThreadEventsOptions): Promise<AsyncIterable<SseEvent>>;
  /** The run's events held now and its outcome (null while it runs); null when its events are not held. */
  heldRun(runId: string): Promise<{ events: RunEvent[]; outcome: RunOutcome | null } | null>;
  /** A thread's protocol (v2) events for one subscriber, across its runs; ends when the thread is deleted. */
  threadProtocolEvents(threadId: string, options: ThreadProtocolOptions): Promise<AsyncIterable<ProtocolEvent>>;
  /** Stops taking runs, lets running ones finish for the grace period, suspends the rest (they resume later). */
  shutdown(graceMs?: number): Promise<void>;
}

/** A run handed to this process to execute. */
export interface DispatchedRun {
  runId: string;
  threadId: string;
  /**
   * The run as the claim stored it (`running`, attempt counted, leased to this process), when
   * the dispatcher claims runs in storage; absent: the executor marks it running itself.
   */
  claimed?: Run;
}

export interface DispatchHandlers {
  /** Executes a run; the dispatcher's slot is free again when the promise settles. */
  execute(run: DispatchedRun): Promise<void>;
  /** This process no longer holds the run (its lease was taken over): stop it without recording anything. */
  lost(runId: string): void;
}

/** The executor/claim seam: decides which stored pending runs this process executes, and when. */
export interface RunDispatcher {
  /**
   * Recovers what a previous process left (locally: every active run; on PostgreSQL: runs whose
   * lease expired), then hands runs to `handlers.execute` as they become due.
   */
  start(handlers: DispatchHandlers): Promise<void>;
  /**
   * A pending run was stored: make it executable (locally: queue it; PostgreSQL: wake the
   * claimers). A `running` one was leased to this process at its creation (`leaseAtCreation`):
   * it executes here at once.
   */
  submit(run: Run): void;
  /**
   * A lease for a run about to be created, if this process has a free slot for it (reserved
   * until the run is submitted, or `release`d when it was stored pending after all): the run is
   * stored running and executes here without a claim (RunCreate.lease). Absent: runs are claimed.
   */
  leaseAtCreation?(): CreationLease | null;
  /** Takes a run that waits in this process out of its line (it was cancelled or deleted). */
  withdraw(runId: string): void;
  /** Pending runs of a thread waiting in this process (its thread was deleted). */
  waiting(threadId: string): string[];
  /** Stops taking runs (the executing ones continue). */
  stop(): void;
  /** Resolves once no run executes here. */
  drained(): Promise<void>;
  /** Frees what `start` set up (connections, timers), after `drained`. */
  close(): Promise<void>;
  readonly load: { running: number; waiting: number };
}

/** See RunDispatcher.leaseAtCreation. */
export interface CreationLease {
  owner: string;
  leaseMs: number;
  /** The run was not leased (stored pending, or not stored): the slot is free again. */
  release(): void;
}

/** A cancel: of one run, or of every run of a deleted thread. */
export type StopRequest = { action: CancelAction; reason: string } & ({ runId: string } | { threadId: string });

/** Delivers cancel requests to every process (this one included), so the executing one acts. */
export interface StopChannel {
  send(request: StopRequest): Promise<void>;
  listen(handler: (request: StopRequest) => void): Unsubscribe;
  close(): Promise<void>;
}

/** What a deployment plugs into the engine. */
export interface RunEngineParts {
  broker: RunEventBroker;
  dispatcher: RunDispatcher;
  stops: StopChannel;
}
