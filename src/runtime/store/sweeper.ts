/**
 * Deletes expired store items durably. Reads never return an expired item whether or not it
 * has been swept; sweeping only reclaims the space.
 *
 * Two schedules (langgraph.json `store.ttl.sweep_interval_minutes`):
 * - absent: an `Alarm` at the earliest expiry, moved earlier by every put that expires sooner;
 * - set: a sweep every that many minutes, as the LangGraph platform documents it.
 * A failed sweep (disk error) is logged and retried a minute later rather than right away.
 * Across processes a sweep holds the cluster's "store-ttl" lock: one sweep at a time.
 */
import type { Logger } from "pino";
import type { StoreItemsRepository } from "../../storage/types.js";
import { Alarm } from "../alarm.js";
import { LocalCluster, type Cluster } from "../cluster.js";

const RETRY_MS = 60_000;

export class StoreSweeper {
  readonly #alarm: Alarm;
  readonly #intervalMs: number | null;

  constructor(
    private readonly items: StoreItemsRepository,
    private readonly logger: Logger,
    intervalMinutes?: number | null,
    cluster: Cluster = new LocalCluster(),
  ) {
    this.#intervalMs = intervalMinutes ? intervalMinutes * 60_000 : null;
    this.#alarm = new Alarm(
      () => cluster.exclusive("store-ttl", () => this.#sweep()),
      (error) => logger.error({ err: error }, "store TTL sweep failed"),
    );
  }

  /** Sweeps what expired while no server ran, then waits for the next expiry (or interval). */
  start(): Promise<void> {
    return this.#alarm.ringNow();
  }

  /** An item was written that expires at `expiresAt` (ISO time). */
  expiresAt(expiresAt: string): void {
    if (this.#intervalMs === null) this.#alarm.armAt(Date.parse(expiresAt));
  }

  stop(): Promise<void> {
    return this.#alarm.stop();
  }

  /** Deletes what is due; returns when to sweep next. */
  async #sweep(): Promise<number> {
    try {
      const deleted = await this.items.deleteExpired();
      if (deleted > 0) this.logger.debug({ deleted }, "expired store items deleted");
    } catch (error) {
      this.logger.error({ err: error }, "store TTL sweep failed; retrying in a minute");
      return Date.now() + RETRY_MS;
    }
    if (this.#intervalMs !== null) return Date.now() + this.#intervalMs;
    const next = await this.items.nextExpiry();
    return next === null ? Infinity : Date.parse(next);
  }
}
