/**
 * WebhookOutbox on the `webhook_deliveries` table. A delivery is inserted by the statement
 * that stores its run's end (`deliveryInsert`, from runs.ts), with a NOTIFY on
 * `WEBHOOKS_CHANNEL` that leaves only if it commits, so every process hears of it. A claim is
 * one UPDATE over `FOR UPDATE SKIP LOCKED` rows: each delivery has one claimer at a time, and a
 * claim whose process died lapses at `claimed_until`. Times are the database's (`now()`).
 */
import { v7 as uuidv7 } from "uuid";
import type { WebhookDelivery, WebhookOutbox } from "../types.js";
import type { Queryable } from "./database.js";
import { iso, Params } from "./sql.js";

/** Notified (payload empty) when a delivery is owed: the processes' webhook dispatchers claim at once. */
export const WEBHOOKS_CHANNEL = "lgts_webhooks";

const COLUMNS = "delivery_id, run_id, thread_id, url, payload, attempts, due_at, claimed_by, claimed_until, created_at";
const CLAIMABLE = "((claimed_until IS NULL AND due_at <= now()) OR claimed_until < now())";

interface DeliveryRow extends Omit<WebhookDelivery, "due_at" | "claimed_until" | "created_at"> {
  due_at: Date;
  claimed_until: Date | null;
  created_at: Date;
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return { ...row, due_at: iso(row.due_at)!, claimed_until: iso(row.claimed_until), created_at: iso(row.created_at)! };
}

/**
 * The INSERT of the delivery a run's end owes, for the statement that stores that end: the run is
 * its `stored` part (the delivery exists only if the run did). The statement NOTIFYs `WEBHOOKS_CHANNEL`.
 */
export function deliveryInsert(params: Params, url: string, payload: Record<string, unknown>): string {
  return /* sql */ `
  INSERT INTO webhook_deliveries (${COLUMNS})
  SELECT ${params.add(uuidv7())}, s.run_id, s.thread_id, ${params.add(url)}, ${params.json(payload)}, 0, now(), NULL, NULL, now()
    FROM stored s
  RETURNING 1`;
}

export class PostgresWebhooks implements WebhookOutbox {
  constructor(private readonly db: Queryable) {}

  async claim(owner: string, limit: number, claimMs: number): Promise<WebhookDelivery[]> {
    const { rows } = await this.db.query<DeliveryRow>(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, claimed_by = $1, claimed_until = now() + make_interval(secs => $2)
        WHERE delivery_id IN (SELECT delivery_id FROM webhook_deliveries WHERE ${CLAIMABLE}
                               ORDER BY due_at, delivery_id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
      [owner, claimMs / 1000, limit],
    );
    return rows.map(toDelivery).sort((a, b) => a.due_at.localeCompare(b.due_at) || a.delivery_id.localeCompare(b.delivery_id));
  }

  async complete(deliveryId: string, owner: string): Promise<boolean> {
    const { rowCount } = await this.db.query("DELETE FROM webhook_deliveries WHERE delivery_id = $1 AND claimed_by = $2", [deliveryId, owner]);
    return rowCount > 0;
  }

  async retryAfter(deliveryId: string, owner: string, delayMs: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE webhook_deliveries SET due_at = now() + make_interval(secs => $3), claimed_by = NULL, claimed_until = NULL
        WHERE delivery_id = $1 AND claimed_by = $2`,
      [deliveryId, owner, delayMs / 1000],
    );
    return rowCount > 0;
  }

  async nextDueInMs(): Promise<number | null> {
    const { rows } = await this.db.query<{ ms: string | number | null }>(
      `SELECT extract(epoch FROM least(
                (SELECT min(due_at) FROM webhook_deliveries WHERE claimed_until IS NULL),
                (SELECT min(claimed_until) FROM webhook_deliveries WHERE claimed_until IS NOT NULL)) - now()) * 1000 AS ms`,
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
  }
}
