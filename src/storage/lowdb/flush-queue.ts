/**
 * Spreads shard writes over event-loop turns.
 *
 * Starting a shard write costs synchronous CPU (serializing the shard). When
 * many shards become dirty at once (a burst of requests), starting all their
 * writes in one turn would block the loop for the sum of those costs. The queue
 * instead starts writes one after another within a small time budget per turn,
 * then yields with setImmediate so that I/O (incoming requests, finished
 * writes) is processed in between. No timers, no polling: it only runs while
 * there is something queued.
 */

export interface Flushable {
  /** Starts a write (its synchronous part runs now). */
  startFlush(): void;
}

/** Synchronous work allowed per turn before yielding to I/O. */
const TURN_BUDGET_MS = 5;

const queue = new Set<Flushable>();
let scheduled = false;

export function scheduleFlush(target: Flushable): void {
  queue.add(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runTurn);
  }
}

function runTurn(): void {
  const start = performance.now();
  for (const target of queue) {
    queue.delete(target);
    target.startFlush();
    if (performance.now() - start >= TURN_BUDGET_MS) break;
  }
  if (queue.size > 0) setImmediate(runTurn);
  else scheduled = false;
}
