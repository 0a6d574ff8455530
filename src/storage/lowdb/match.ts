/**
 * In-memory equivalents of the SQL predicates the storage interface is defined
 * by, so that lowdb and a future PostgreSQL backend answer queries alike.
 */

/**
 * JSON containment with PostgreSQL `jsonb @>` semantics:
 * objects: every key of `filter` exists in `value` and contains its filter value;
 * arrays: every element of `filter` is contained in some element of `value`;
 * scalars: equal.
 */
export function contains(value: unknown, filter: unknown): boolean {
  if (filter === null || typeof filter !== "object") return value === filter;
  if (Array.isArray(filter)) {
    if (!Array.isArray(value)) return false;
    return filter.every((f) => value.some((v) => contains(v, f)));
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const obj = value as Record<string, unknown>;
  for (const [key, f] of Object.entries(filter)) {
    if (!Object.hasOwn(obj, key) || !contains(obj[key], f)) return false;
  }
  return true;
}

/**
 * `contains` specialised for one filter, for scans: the filter's top-level
 * entries are listed once instead of once per record.
 */
export function containsPredicate(filter: Record<string, unknown>): (value: unknown) => boolean {
  const entries = Object.entries(filter);
  return (value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    const obj = value as Record<string, unknown>;
    for (const [key, f] of entries) {
      if (!Object.hasOwn(obj, key) || !contains(obj[key], f)) return false;
    }
    return true;
  };
}

/** `haystack ILIKE '%needle%'` (without wildcard characters in needle). */
export function containsIgnoreCase(haystack: string | null | undefined, needle: string): boolean {
  return (haystack ?? "").toLowerCase().includes(needle.toLowerCase());
}
