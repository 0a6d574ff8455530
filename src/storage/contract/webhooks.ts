/** Storage contract: the webhook outbox: deliveries owed by ended runs, claimed by one process at a time. */
/** A webhook POST owed for a run's end, stored with that end and removed once delivered. */
export interface WebhookDelivery {
  delivery_id: string;
  run_id: string;
  thread_id: string;
  url: string;
  /** The JSON body. */
  payload: Record<string, unknown>;
  /** Attempts started so far (a claim starts one). */
  attempts: number;
  /** When the next attempt may start (ISO). */
  due_at: string;
  /** Who is attempting it, and until when the claim holds (a process that died lets it lapse). */
  claimed_by: string | null;
  claimed_until: string | null;
  created_at: string;
}

/**
 * The stored outbox of webhook deliveries, shared by every process: a delivery is claimed by one
 * claimer at a time (PostgreSQL: `FOR UPDATE SKIP LOCKED`), attempted, then completed (removed) or
 * put back with a later due time. A claim that lapses (its process died) can be claimed again.
 */
export interface WebhookOutbox {
  /**
   * Up to `limit` due, unclaimed (or lapsed) deliveries, claimed by `owner` for `claimMs`, oldest
   * due first; attempts counted. A lapsed claim is taken only from a process that is gone (on
   * PostgreSQL: its worker lock is no longer held, as for run leases), or from `owner` itself
   * when the delivery is not among `attempting` (those it is still attempting): a slow but live
   * process's attempt is never repeated by another one.
   */
  claim(owner: string, limit: number, claimMs: number, attempting?: readonly string[]): Promise<WebhookDelivery[]>;
  /** Delivered, or given up: removed. False when `owner` no longer held the claim (nothing changed). */
  complete(deliveryId: string, owner: string): Promise<boolean>;
  /** The attempt failed: due again `delayMs` from now, claim released. False when `owner` no longer held it. */
  retryAfter(deliveryId: string, owner: string, delayMs: number): Promise<boolean>;
  /**
   * Milliseconds from now until a delivery may be claimed (its due time, or its claim's lapse;
   * a lapsed claim of a live process: when to look again whether it died), 0 when one may be
   * now; null when none is owed. `owner`'s claims on deliveries it is `attempting` are left out
   * (the attempt's end wakes it). (A duration, not a moment: the database's
   * clock and the process's may differ.)
   */
  nextDueInMs(owner?: string, attempting?: readonly string[]): Promise<number | null>;
}
