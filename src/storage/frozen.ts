/**
 * Records shared read-only instead of copied. A lowdb repository may hand out a record it holds,
 * frozen through and through, where a copy per read would cost more than the read itself
 * (GET /threads/{id}: a JSON round trip per request). Changing one throws a TypeError (ESM code is
 * strict) instead of silently changing stored state; a caller that needs a changed record builds
 * a new one. Stored records are never changed in place anyway (collection.ts): freezing one
 * only makes that checked.
 */
const frozen = new WeakSet<object>();

/** Freezes `value` and everything it holds (JSON data: plain objects, arrays, primitives). */
export function freezeDeep<T>(value: T): T {
  // the whole walk once per record: later reads only look it up
  if (typeof value !== "object" || value === null || frozen.has(value)) return value;
  freezeAll(value);
  frozen.add(value);
  return value;
}

function freezeAll(value: object): void {
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === "object" && child !== null && !frozen.has(child)) freezeAll(child);
  }
  Object.freeze(value);
}
