import { isNotFound } from "../../errors.js";
import type { Logger } from "pino";
import type { Storage } from "../../storage/types.js";
import { Alarm } from "../alarm.js";
import { LocalCluster, type Cluster } from "../cluster.js";

/**
 * Deletes threads whose TTL has run out, on an alarm set to the earliest expiry. Creating or
 * updating a thread with a TTL `nudge`s the sweeper so an earlier expiry re-arms it. Across
 * processes a sweep holds the cluster's "thread-ttl" lock (one sweep at a time, so each expiry is
 * handled once) and nudges reach every process.
 */
export class ThreadTtlSweeper {
  readonly #alarm: Alarm;
  #unlisten: () => void = () => {};

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    /** Applies a `keep_latest` expiry (keeps only the latest checkpoint); absent: strategy refused. */
    private readonly keepLatest?: (threadId: string) => Promise<void>,
    private readonly cluster: Cluster = new LocalCluster(),
  ) {
    this.#alarm = new Alarm(
      () => cluster.exclusive("thread-ttl", () => this.#sweep()),
      (error) => logger.error({ err: error }, "thread TTL sweep failed"),
    );
  }

  get supportsKeepLatest(): boolean {
    return this.keepLatest !== undefined;
  }

  /** Sweeps what expired while no server ran, then waits for the next expiry. */
  async start(): Promise<void> {
    this.#unlisten = await this.cluster.on("thread-ttl", (at) => this.#alarm.armAt(Number(at)));
    return this.#alarm.ringNow();
  }

  /** A thread's expiry may have moved earlier (in every process). */
  nudge(expiresAt: number): void {
    this.cluster.broadcast("thread-ttl", String(expiresAt));
  }

  stop(): Promise<void> {
    this.#unlisten();
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
