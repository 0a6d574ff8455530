/**
 * The executor/claim seam on PostgreSQL: every process claims pending runs from the `runs` table
 * (the statements are in src/storage/postgres/run-leases.ts: claim exactly once with
 * `FOR UPDATE SKIP LOCKED`, one active run per thread, in order, `after_seconds` as `not_before`).
 *
 * - Pickup: a run created in a process with a free slot, that can start at once, is stored
 *   running and leased to it in its creation's commit (`leaseAtCreation`): it executes there
 *   without a claim. A new pending run and a run going back to pending NOTIFY `lgts_runs`
 *   (payload: the sender's worker id); every other process LISTENs and claims at once
 *   (milliseconds, no polling), the sender claims without waiting for its own notice. The
 *   earliest future `not_before` (the claim's answer tells it) arms a timer.
 * - Backlog: each claim's answer also tells whether a due pending run was left unclaimed (its
 *   thread busy, locked by another claim, beyond the free slots). While none is, this process
 *   knows there is no backlog until a notice (or its own new pending run) says otherwise, and the
 *   end of its runs claims nothing and wakes nobody: the common case of runs leased at creation
 *   costs no claim pass and no NOTIFY. With a backlog, a run's end (a freed slot, the thread's
 *   next run now claimable) claims here and wakes the others; and the heartbeat claims too (the
 *   safety net should a wake-up be missed: a backlog is never left longer than `leaseMs / 3`).
 * - Leases: each process renews its runs' leases every `leaseMs / 3`. A lease renewal that
 *   finds the run no longer leased to it stops that execution (someone took it over). Until it
 *   stopped, this process does not claim that run (pending again) itself: two executions of it
 *   here would both publish under the new attempt.
 * - Liveness: each process holds its worker lock (a session-level advisory lock keyed by its
 *   worker id) on its LISTEN connection; PostgreSQL releases it when the process dies.
 * - Reaper: on the same tick, runs whose lease expired and whose process no longer holds its
 *   worker lock (it died) go back to `pending` (or `error` once they had `maxAttempts`
 *   executions) in one statement, so exactly one process takes each, and the claim resumes them
 *   from their last checkpoint. A live process that renews late (its event loop or pool stalled
 *   under load) keeps its runs. Should a run still be taken over from a live process (its
 *   LISTEN connection was lost), that process's writes of the run's events and end are refused
 *   (they are fenced by the attempt, see RunEventRows.attempt) and its next renewal stops it.
 */
import type { Logger } from "pino";
import type { Run } from "../../storage/types.js";
import { Alarm } from "../alarm.js";
import type { RunOutcome } from "../runs/broker.js";
import type { CreationLease, DispatchHandlers, RunDispatcher } from "../runs/engine.js";
import { WORKER_LOCK, type PostgresRunLeases } from "../../storage/postgres/run-leases.js";
import type { Notifications } from "./notifications.js";

export const RUNS_CHANNEL = "lgts_runs";
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

export interface PostgresRunDispatcherOptions {
  leases: PostgresRunLeases;
  notifications: Notifications;
  logger: Logger;
  /** This process's name in `runs.lease_owner`. */
  workerId: string;
  concurrency: number;
  maxAttempts: number;
  /** How long a lease lasts without renewal: a dead process's runs are taken over after at most this. */
  leaseMs: number;
}

export class PostgresRunDispatcher implements RunDispatcher {
  readonly #running = new Map<string, Promise<void>>();
  /** Slots promised to runs being created (leaseAtCreation), until they are submitted or released. */
  #reserved = 0;
  readonly #due: Alarm;
  #handlers: DispatchHandlers | null = null;
  #claiming: Promise<void> | null = null;
  #claimAgain = false;
  /** Whether a due pending run may wait: true until a claim answered that none was left. */
  #backlog = true;
  #retryMs = FIRST_RETRY_MS;
  #stopped = false;
  #tick: NodeJS.Timeout | null = null;
  #unlisten: Array<() => void> = [];

  constructor(private readonly options: PostgresRunDispatcherOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`run concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.#due = new Alarm(
      async () => {
        this.claimSoon();
        return Infinity; // the claim pass re-arms for the next delayed run
      },
      (error) => options.logger.error({ err: error }, "run claim timer failed"),
    );
  }

  async start(handlers: DispatchHandlers): Promise<void> {
    this.#handlers = handlers;
    const { notifications, leaseMs } = this.options;
    // a notice this process sent (payload: its worker id) comes back to it too: it claimed already
    this.#unlisten.push(await notifications.on(RUNS_CHANNEL, (sender) => sender !== this.options.workerId && this.#wake()));
    this.#unlisten.push(notifications.onResync(() => this.#wake()));
    this.#tick = setInterval(() => void this.#heartbeat(), Math.max(100, Math.floor(leaseMs / 3)));
    this.#tick.unref();
    await this.#reap();
    this.claimSoon();
  }

  submit(run: Run): void {
    if (run.status === "running") {
      // leased to this process at its creation, with the slot reserved for it
      this.#reserved = Math.max(0, this.#reserved - 1);
      this.#start(run);
      return;
    }
    this.#wake();
    this.#wakeOthers();
  }

  leaseAtCreation(): CreationLease | null {
    if (this.#stopped || !this.#handlers || this.#running.size + this.#reserved >= this.options.concurrency) return null;
    this.#reserved++;
    let released = false;
    return {
      owner: this.options.workerId,
      leaseMs: this.options.leaseMs,
      release: () => {
        if (released) return;
        released = true;
        this.#reserved = Math.max(0, this.#reserved - 1);
        if (this.#backlog) this.claimSoon(); // a pending run may wait for that slot
      },
    };
  }

  // Waiting runs live in the table, not here: a cancel changes their status, which the claim skips.
  withdraw(_runId: string): void {}

  waiting(_threadId: string): string[] {
    return [];
  }

  stop(): void {
    this.#stopped = true;
  }

  async drained(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
    await this.#claiming;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    if (this.#tick) clearInterval(this.#tick);
    await this.#due.stop();
    for (const unlisten of this.#unlisten) unlisten();
    // runs this process suspended are pending again: another process resumes them
    await this.options.notifications.notify(RUNS_CHANNEL, this.options.workerId).catch(() => {});
  }

  get load(): { running: number; waiting: number } {
    return { running: this.#running.size, waiting: 0 };
  }

  /** Something may be pending: claims, and keeps claiming at run ends until a claim finds no backlog. */
  #wake(): void {
    this.#backlog = true;
    this.claimSoon();
  }

  /** Claims what is due, up to the free slots (coalesces concurrent wake-ups into one more pass). */
  claimSoon(): void {
    if (this.#stopped || !this.#handlers) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = this.#claimPasses()
      .then(
        () => {
          this.#retryMs = FIRST_RETRY_MS;
        },
        (error: unknown) => {
          // the database is away: no notice may come once it is back, so try again by itself
          this.#backlog = true;
          this.options.logger.warn({ err: error, retry_ms: this.#retryMs }, "claiming runs failed; retrying");
          this.#due.armAt(Date.now() + this.#retryMs);
          this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
        },
      )
      .finally(() => (this.#claiming = null));
  }

  async #claimPasses(): Promise<void> {
    const { leases, workerId, leaseMs, concurrency } = this.options;
    // a wake-up during any await of a pass (the last one included) makes one more pass
    do {
      this.#claimAgain = false;
      let next: number | null = null;
      while (!this.#stopped && this.#running.size + this.#reserved < concurrency) {
        // not a run this process still executes: one taken over from it, its execution not stopped yet
        const claimed = await leases.claim(workerId, leaseMs, concurrency - this.#running.size - this.#reserved, [...this.#running.keys()]);
        for (const run of claimed.runs) this.#start(run);
        next = claimed.nextDelayed;
        // a notice during the claim may announce a run its snapshot did not see: the next pass tells
        if (!this.#claimAgain) this.#backlog = claimed.pendingLeft;
        if (claimed.runs.length === 0) break;
      }
      if (next !== null) this.#due.armAt(next);
    } while (this.#claimAgain && !this.#stopped);
  }

  #start(run: Run): void {
    const execution = Promise.resolve()
      .then(() => this.#handlers!.execute({ runId: run.run_id, threadId: run.thread_id, claimed: run }))
      .catch((error: unknown) => this.options.logger.error({ err: error, run_id: run.run_id }, "run execution failed"))
      .finally(() => {
        this.#running.delete(run.run_id);
        // a slot is free here, and the thread's next run may be due anywhere; with no backlog
        // (the last claim left no due pending run, no notice since) nobody has anything to claim
        if (!this.#backlog) return;
        this.claimSoon();
        this.#wakeOthers();
      });
    this.#running.set(run.run_id, execution);
  }

  #wakeOthers(): void {
    this.options.notifications.notify(RUNS_CHANNEL, this.options.workerId).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, "cannot wake the other processes");
    });
  }

  async #heartbeat(): Promise<void> {
    try {
      // taken with each LISTEN connection; again here if another session still held it then
      await this.options.notifications.holdLock(WORKER_LOCK, this.options.workerId);
      await this.#renew();
      await this.#reap();
      // the safety net: a backlog left by a missed wake-up is claimed within a tick
      if (this.#backlog && this.#running.size + this.#reserved < this.options.concurrency) this.claimSoon();
    } catch (error) {
      this.options.logger.warn({ err: error }, "run lease heartbeat failed");
    }
  }

  async #renew(): Promise<void> {
    const held = [...this.#running.keys()];
    if (held.length === 0) return;
    const { leases, workerId, leaseMs } = this.options;
    const renewed = await leases.renew(workerId, leaseMs, held);
    for (const runId of held) {
      if (!renewed.has(runId) && this.#running.has(runId)) this.#handlers?.lost(runId);
    }
  }

  /** Takes back the runs of dead processes, and this process's own orphans. */
  async #reap(): Promise<void> {
    const { leases, maxAttempts, logger, workerId } = this.options;
    const exhausted = {
      error: "RunAttemptsExhausted",
      message: `the run was cut ${maxAttempts} times (its server stopped, or lost its database); it is not retried again`,
    };
    const outcome: RunOutcome = { status: "error", values: null, error: exhausted };
    // runs a claim (or a creation) still on its way leased to this process are not in #running yet: not orphans
    const executing = this.#claiming || this.#reserved > 0 ? null : [...this.#running.keys()];
    // the runs that end here get their end event and their thread's status in the same statement
    const rows = await leases.reapExpired(workerId, executing, maxAttempts, exhausted, JSON.stringify(outcome));
    let retried = 0;
    for (const row of rows) {
      if (row.status === "pending") {
        retried++;
        logger.info({ run_id: row.run_id, attempt: row.attempt }, "taking over a run whose process died or no longer executes it");
      } else {
        logger.warn({ run_id: row.run_id, attempts: row.attempt }, "run failed: too many interrupted attempts");
      }
    }
    if (retried > 0) {
      this.#wake();
      this.#wakeOthers();
    }
  }
}
