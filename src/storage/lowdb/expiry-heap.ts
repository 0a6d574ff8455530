/**
 * A min-heap of (expiry time, record id): the in-memory stand-in for an index on `expires_at`.
 *
 * Entries are never updated in place. A record whose expiry moves (refresh, rewrite, delete)
 * just gets a new entry; the old one is recognised as stale when it reaches the top (the caller's
 * `isCurrent` says whether the record still expires at that time) and dropped there. When stale
 * entries outnumber live ones the heap is rebuilt from the caller's records, so refresh-heavy
 * workloads keep it bounded.
 */
export interface ExpiryEntry {
  at: number;
  id: string;
}

export class ExpiryHeap {
  #heap: ExpiryEntry[] = [];

  constructor(private readonly isCurrent: (entry: ExpiryEntry) => boolean) {}

  get size(): number {
    return this.#heap.length;
  }

  push(at: number, id: string): void {
    const heap = this.#heap;
    heap.push({ at, id });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= heap[i].at) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  /** The earliest current entry (stale ones above it are dropped), or undefined. */
  peek(): ExpiryEntry | undefined {
    while (this.#heap.length > 0 && !this.isCurrent(this.#heap[0])) this.#pop();
    return this.#heap[0];
  }

  /** Removes and returns the earliest current entry if it is due at `now`. */
  popDue(now: number): ExpiryEntry | undefined {
    const top = this.peek();
    if (top === undefined || top.at > now) return undefined;
    this.#pop();
    return top;
  }

  /** Replaces the content with exactly `entries` (used when stale entries pile up). */
  rebuild(entries: Iterable<ExpiryEntry>): void {
    this.#heap = [];
    for (const e of entries) this.push(e.at, e.id);
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && heap[l].at < heap[min].at) min = l;
      if (r < heap.length && heap[r].at < heap[min].at) min = r;
      if (min === i) break;
      [heap[min], heap[i]] = [heap[i], heap[min]];
      i = min;
    }
  }
}
