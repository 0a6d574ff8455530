/**
 * WebhookOutbox on the `webhook_deliveries` table. A delivery is inserted by the statement
 * that stores its run's end (`deliveryInsert`, from runs.ts), with a NOTIFY on
 * `WEBHOOKS_CHANNEL` that leaves only if it commits, so every process hears of it. A claim is
 * one UPDATE over `FOR UPDATE SKIP LOCKED` rows: each delivery has one claimer at a time. A claim
 * past its `claimed_until` is taken over only when its process died, by the rule of run leases
 * (run-leases.ts): its worker lock is gone (the claimer is the process's worker id). A live
 * process that is slow to finish an attempt (its event loop or pool stalled) keeps it, so the
 * receiver does not get the attempt twice. Times are the database's (`now()`).
 */
import { v7 as uuidv7 } from "uuid";
import type { WebhookDelivery, WebhookOutbox } from "../types.js";
import type { Queryable } from "./database.js";
import { iso, Params } from "./sql.js";
import { ALIVE_WORKERS } from "./worker-locks.js";

/** Notified (payload empty) when a delivery is owed: the processes' webhook dispatchers claim at once. */
export const WEBHOOKS_CHANNEL = "lgts_webhooks";

export const DELIVERY_COLUMNS = "delivery_id, run_id, thread_id, url, payload, attempts, due_at, claimed_by, claimed_until, created_at";
/** How soon to look again whether the process holding a lapsed claim died (nothing announces it), s. */
const LAPSED_RECHECK_SECONDS = 2;

/**
 * `$1`: the claimer, `$2`: the deliveries it is still attempting. Due and unclaimed, or lapsed and
 * either the claimer's own (not attempted any more) or held by a process that is gone.
 */
const CLAIMABLE = /* sql */ `
  (d.claimed_until IS NULL AND d.due_at <= now())
  OR (d.claimed_until < now()
      AND CASE WHEN d.claimed_by = $1 THEN NOT (d.delivery_id = ANY($2::text[]))
               ELSE NOT EXISTS (SELECT 1 FROM alive WHERE alive.objid = hashtext(d.claimed_by)::oid) END)`;

export interface DeliveryRow extends Omit<WebhookDelivery, "due_at" | "claimed_until" | "created_at"> {
  due_at: Date;
  claimed_until: Date | null;
  created_at: Date;
}

export function toDelivery(row: DeliveryRow): WebhookDelivery {
  return { ...row, due_at: iso(row.due_at)!, claimed_until: iso(row.claimed_until), created_at: iso(row.created_at)! };
}

/**
 * The INSERT of the delivery a run's end owes, for the statement that stores that end: the run is
 * its `stored` part (the delivery exists only if the run did). The statement NOTIFYs `WEBHOOKS_CHANNEL`.
 */
export function deliveryInsert(params: Params, url: string, payload: Record<string, unknown>): string {
  return /* sql */ `
  INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS})
  SELECT ${params.add(uuidv7())}, s.run_id, s.thread_id, ${params.add(url)}, ${params.json(payload)}, 0, now(), NULL, NULL, now()
    FROM stored s
  RETURNING 1`;
}

export class PostgresWebhooks implements WebhookOutbox {
  constructor(private readonly db: Queryable) {}

  async claim(owner: string, limit: number, claimMs: number, attempting: readonly string[] = []): Promise<WebhookDelivery[]> {
    const { rows } = await this.db.query<DeliveryRow>(
      `WITH alive AS MATERIALIZED (${ALIVE_WORKERS})
       UPDATE webhook_deliveries SET attempts = attempts + 1, claimed_by = $1, claimed_until = now() + make_interval(secs => $3)
        WHERE delivery_id IN (SELECT d.delivery_id FROM webhook_deliveries d WHERE ${CLAIMABLE}
                               ORDER BY d.due_at, d.delivery_id LIMIT $4 FOR UPDATE OF d SKIP LOCKED)
        RETURNING ${DELIVERY_COLUMNS}`,
      [owner, attempting, claimMs / 1000, limit],
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

  async nextDueInMs(owner?: string, attempting: readonly string[] = []): Promise<number | null> {
    // a lapsed claim (but those the caller still attempts): its process may be alive, look again soon
    const { rows } = await this.db.query<{ ms: string | number | null }>(
      `SELECT extract(epoch FROM least(
                (SELECT min(due_at) FROM webhook_deliveries WHERE claimed_until IS NULL),
                (SELECT min(claimed_until) FROM webhook_deliveries WHERE claimed_until >= now()),
                (SELECT now() + make_interval(secs => ${LAPSED_RECHECK_SECONDS}) FROM webhook_deliveries
                  WHERE claimed_until < now() AND NOT (claimed_by IS NOT DISTINCT FROM $1 AND delivery_id = ANY($2::text[])) LIMIT 1)) - now()) * 1000 AS ms`,
      [owner ?? null, attempting],
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
  }
}
