/** JSON helpers shared by the lowdb repositories. */

/**
 * Deep copy through JSON. Used on the way in (what is stored is exactly what
 * the file will give back after a restart: no undefined, no Date objects, no
 * shared references with the caller) and on the way out (callers can't mutate
 * stored state).
 */
export function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Current time as an ISO-8601 string. */
export function now(): string {
  return new Date().toISOString();
}
