/**
 * The cluster seam on PostgreSQL: `exclusive` holds a transaction-scoped advisory lock named
 * after the work while it runs (the other processes wait, then find nothing left to do), and
 * topics are NOTIFY channels.
 */
import type { Logger } from "pino";
import type { Cluster } from "../cluster.js";
import type { Notifications, SqlDatabase } from "./notifications.js";

const channelOf = (topic: string) => `lgts_${topic.replace(/[^a-z0-9_]/gi, "_")}`;

export class PostgresCluster implements Cluster {
  constructor(
    private readonly db: SqlDatabase,
    private readonly notifications: Notifications,
    private readonly logger: Logger,
  ) {}

  exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      // waiting for another process's sweep is not a statement running too long
      await tx.query("SET LOCAL statement_timeout = 0");
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`lgts:${name}`]);
      return work();
    });
  }

  broadcast(topic: string, payload: string): void {
    this.notifications.notify(channelOf(topic), payload).catch((error: unknown) => {
      this.logger.warn({ err: error, topic }, "cannot notify the other processes");
    });
  }

  on(topic: string, handler: (payload: string) => void): Promise<() => void> {
    return this.notifications.on(channelOf(topic), handler);
  }
}
