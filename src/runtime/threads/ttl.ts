import { isNotFound } from "../../errors.js";
import type { Logger } from "pino";
import type { Storage } from "../../storage/types.js";
import { Alarm } from "../alarm.js";

/**
 * Deletes threads whose TTL has run out, on an alarm set to the earliest expiry. Creating or
 * updating a thread with a TTL `nudge`s the sweeper so an earlier expiry re-arms it.
 */
export class ThreadTtlSweeper {
  readonly #alarm: Alarm;

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    /** Applies a `keep_latest` expiry (keeps only the latest checkpoint); absent: strategy refused. */
    private readonly keepLatest?: (threadId: string) => Promise<void>,
  ) {
    this.#alarm = new Alarm(
      () => this.#sweep(),
      (error) => logger.error({ err: error }, "thread TTL sweep failed"),
    );
  }

  get supportsKeepLatest(): boolean {
    return this.keepLatest !== undefined;
  }

  /** Sweeps what expired while no server ran, then waits for the next expiry. */
  start(): Promise<void> {
    return this.#alarm.ringNow();
  }

  /** A thread's expiry may have moved earlier. */
  nudge(expiresAt: number): void {
    this.#alarm.armAt(expiresAt);
  }

  stop(): Promise<void> {
    return this.#alarm.stop();
  }

  /** Handles every expired thread; returns when the next one expires. */
  async #sweep(): Promise<number> {
    const now = Date.now();
    let next = Infinity;
    for (const expiry of await this.storage.threads.expiring()) {
      if (expiry.expires_at > now) {
        next = Math.min(next, expiry.expires_at);
        continue;
      }
      try {
        if (expiry.strategy === "keep_latest" && this.keepLatest) await this.keepLatest(expiry.thread_id);
        else await this.storage.threads.delete(expiry.thread_id);
      } catch (error) {
        if (!isNotFound(error)) {
          this.logger.error({ err: error, thread_id: expiry.thread_id }, "thread TTL sweep failed");
        }
      }
    }
    return next;
  }
}
