/**
 * WebhookOutbox over a lowdb `Collection<WebhookDelivery>`: the deliveries owed, removed once
 * delivered. One process owns the data directory, so a claim is a synchronous check-and-set;
 * claims are stored all the same, so a restart finds the deliveries a crash cut (their claims
 * lapse) and the seam is the one several PostgreSQL processes share. The collection holds only
 * deliveries still owed, so scanning it is cheap.
 */
import type { WebhookDelivery, WebhookOutbox } from "../types.js";
import { Collection, type CollectionOptions } from "./collection.js";
import { copy } from "./json.js";

export function webhookCollectionOptions(dir: string, shards: number): CollectionOptions<WebhookDelivery> {
  return { dir, shards, idOf: (d) => d.delivery_id };
}

/** When a delivery may next be claimed: its due time, or its claim's lapse (epoch ms). */
function claimableAt(d: WebhookDelivery): number {
  return d.claimed_until === null ? Date.parse(d.due_at) : Date.parse(d.claimed_until);
}

/** Whether a delivery is claimed by `owner`, which is still attempting it. */
function attemptedBy(owner: string | undefined, attempting: readonly string[]): (d: WebhookDelivery) => boolean {
  const ids = new Set(attempting);
  return (d) => d.claimed_by === owner && ids.has(d.delivery_id);
}

export class LowdbWebhooks implements WebhookOutbox {
  constructor(private readonly col: Collection<WebhookDelivery>) {}

  // one process: a lapsed claim is its own (or a previous process's), taken unless still attempted
  async claim(owner: string, limit: number, claimMs: number, attempting: readonly string[] = []): Promise<WebhookDelivery[]> {
    const at = Date.now();
    const held = attemptedBy(owner, attempting);
    const due = [...this.col.values()]
      .filter((d) => claimableAt(d) <= at && !held(d))
      .sort((a, b) => a.due_at.localeCompare(b.due_at) || a.delivery_id.localeCompare(b.delivery_id))
      .slice(0, limit);
    const claimed = due.map((d) => ({ ...d, attempts: d.attempts + 1, claimed_by: owner, claimed_until: new Date(at + claimMs).toISOString() }));
    await Promise.all(claimed.map((d) => this.col.put(d)));
    return claimed.map(copy);
  }

  async complete(deliveryId: string, owner: string): Promise<boolean> {
    if (this.col.get(deliveryId)?.claimed_by !== owner) return false;
    await this.col.delete(deliveryId);
    return true;
  }

  async retryAfter(deliveryId: string, owner: string, delayMs: number): Promise<boolean> {
    const current = this.col.get(deliveryId);
    if (current?.claimed_by !== owner) return false;
    await this.col.put({ ...current, due_at: new Date(Date.now() + delayMs).toISOString(), claimed_by: null, claimed_until: null });
    return true;
  }

  async nextDueInMs(owner?: string, attempting: readonly string[] = []): Promise<number | null> {
    const held = attemptedBy(owner, attempting);
    let earliest = Infinity;
    for (const d of this.col.values()) if (!held(d)) earliest = Math.min(earliest, claimableAt(d));
    return earliest === Infinity ? null : Math.max(0, earliest - Date.now());
  }
}
