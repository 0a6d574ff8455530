/**
 * Why the run engine aborted a run's signal. The executor reads `signal.reason` to decide the
 * run's final status, so these are distinct classes rather than messages.
 */

/** A client (or a multitask strategy, or the thread's deletion) cancelled the run. */
export class RunCancelled extends Error {
  constructor(
    readonly action: "interrupt" | "rollback",
    /** Stored as the run's `cancel_reason`. */
    readonly reason: string,
  ) {
    super(`run cancelled (${action}): ${reason}`);
    this.name = "RunCancelled";
  }
}

/** The run exceeded the per-run timeout. */
export class RunTimedOut extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the run exceeded its time limit of ${timeoutMs / 1000} s`);
    this.name = "TimeoutError";
  }
}

/** The server is shutting down and the grace period ran out: the run is left to resume later. */
export class ServerStopping extends Error {
  constructor() {
    super("the server is shutting down");
    this.name = "ServerStopping";
  }
}

/**
 * This process no longer holds the run: it was cancelled between its claim and its start, or
 * (PostgreSQL) its lease was taken over. Whoever holds it now records its end; this one stops
 * without recording anything.
 */
export class RunNotHeld extends Error {
  constructor(why: string) {
    super(`the run is no longer held by this process: ${why}`);
    this.name = "RunNotHeld";
  }
}
