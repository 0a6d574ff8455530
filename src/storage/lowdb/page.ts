/**
 * Filter + sort + paginate over in-memory records.
 *
 * Cost: one pass over the candidates (predicate per record) to get `total`;
 * for a window (offset + limit) of up to 256 records the same pass keeps the
 * window by bounded insertion, O(n log k). Larger windows collect the matches,
 * then select the top k (window small compared to the matches) or sort them.
 * At 100k threads a search with the default limit is a few milliseconds.
 */
import type { Page, SortOrder } from "../types.js";

export type Compare<T> = (a: T, b: T) => number;

export const DEFAULT_LIMIT = 10;

export interface Window {
  limit?: number;
  offset?: number;
}

/** Clamps limit/offset to sane integers (limit defaults to 10, offset to 0). */
export function normalizeWindow(window: Window): { limit: number; offset: number } {
  const limit = Number.isFinite(window.limit) ? Math.max(0, Math.floor(window.limit!)) : DEFAULT_LIMIT;
  const offset = Number.isFinite(window.offset) ? Math.max(0, Math.floor(window.offset!)) : 0;
  return { limit, offset };
}

/**
 * Compares records by `field` (string compare: ISO timestamps and ids sort
 * correctly; null/missing first in ascending order), ties broken by `idOf`
 * in the same direction so that pages are stable.
 */
export function byField<T>(field: keyof T & string, order: SortOrder, idOf: (record: T) => string): Compare<T> {
  const sign = order === "asc" ? 1 : -1;
  return (a, b) => {
    const c = compareValues(a[field], b[field]);
    if (c !== 0) return sign * c;
    const ia = idOf(a);
    const ib = idOf(b);
    return sign * (ia < ib ? -1 : ia > ib ? 1 : 0);
  };
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a == null) return -1;
  if (b == null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Up to this window (offset + limit), one pass counts the matches and keeps the window's records. */
const ONE_PASS_WINDOW = 256;

/** Counts matches of `where` among `candidates` and returns the requested sorted window. */
export function paginate<T>(candidates: Iterable<T>, where: (record: T) => boolean, compare: Compare<T>, window: Window): Page<T> {
  const { limit, offset } = normalizeWindow(window);
  const k = offset + limit;
  if (k <= ONE_PASS_WINDOW) {
    // the usual page: no array of every match, no second pass over it
    const best: T[] = [];
    let total = 0;
    for (const record of candidates) {
      if (!where(record)) continue;
      total++;
      if (limit > 0) keepSmallest(best, record, k, compare);
    }
    return { items: best.slice(offset, k), total };
  }
  const matches: T[] = [];
  for (const record of candidates) if (where(record)) matches.push(record);
  if (limit === 0 || offset >= matches.length) return { items: [], total: matches.length };
  const sorted = k * 8 < matches.length ? smallest(matches, k, compare) : matches.sort(compare);
  return { items: sorted.slice(offset, k), total: matches.length };
}

/** The `k` smallest items in order (bounded insertion; k much smaller than items). */
export function smallest<T>(items: readonly T[], k: number, compare: Compare<T>): T[] {
  const best: T[] = [];
  for (const item of items) keepSmallest(best, item, k, compare);
  return best;
}

/** Adds `item` to `best` (the k smallest so far, in order; equal items keep their arrival order). */
function keepSmallest<T>(best: T[], item: T, k: number, compare: Compare<T>): void {
  if (best.length === k && compare(item, best[k - 1]) >= 0) return;
  let lo = 0;
  let hi = best.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(best[mid], item) <= 0) lo = mid + 1;
    else hi = mid;
  }
  best.splice(lo, 0, item);
  if (best.length > k) best.pop();
}

/** Counts matches of `where` among `candidates`. */
export function countWhere<T>(candidates: Iterable<T>, where: (record: T) => boolean): number {
  let n = 0;
  for (const record of candidates) if (where(record)) n++;
  return n;
}
