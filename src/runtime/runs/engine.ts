/**
 * The run engine seen by the HTTP handlers: schedule stored runs, cancel them, wait for their end,
 * and the per-run event broker for streaming. `LocalRunEngine` (./local-engine.ts) executes runs
 * in this process; a multi-process implementation (PostgreSQL queue with SKIP LOCKED, broker over
 * LISTEN/NOTIFY or Redis) can implement the same interface beside it.
 */
import type { Run, Scope } from "../../storage/types.js";
import type { RunEventBroker, RunOutcome } from "./broker.js";

export type CancelAction = "interrupt" | "rollback";

export interface RunEngineOptions {
  /** Runs executing at once (default 10). */
  concurrency?: number;
  /** Per-run time limit in ms; 0 = none (default 1 hour). */
  runTimeoutMs?: number;
  /** Executions a run gets when the server keeps dying under it (default 3). */
  maxAttempts?: number;
  /** How long shutdown lets running runs finish before suspending them (default 30 s). */
  shutdownGraceMs?: number;
  /** How long a finished resumable run's events stay joinable (default 10 min). */
  resumableRetentionMs?: number;
}

export interface RunEngine {
  readonly broker: RunEventBroker;
  /** Recovers the runs a previous process left (pending ones start again, interrupted ones retry), then accepts new ones. */
  start(): Promise<void>;
  /** Schedules a stored pending run. */
  submit(run: Run): void;
  /**
   * Cancels a pending or running run (no-op for a finished one). Resolves once the cancellation
   * is in effect for a waiting run, or requested for a running one; `outcome` waits for the end.
   */
  cancel(run: Run, action: CancelAction, reason: string): Promise<void>;
  /** Resolves with how the run ended, waiting for it if it is still active; null if `signal` fired first. */
  outcome(run: Run, scope?: Scope, signal?: AbortSignal): Promise<RunOutcome | null>;
  /** Stops taking runs, lets running ones finish for the grace period, suspends the rest (they resume at the next start). */
  shutdown(graceMs?: number): Promise<void>;
}
