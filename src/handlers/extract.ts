/**
 * Reads a dotted path such as `values.messages.-1.content` out of a record: object keys by name,
 * array items by index (negative counts from the end). Missing steps give null.
 */
export function extractPath(record: unknown, path: string): unknown {
  let current: unknown = record;
  for (const step of path.split(".")) {
    if (Array.isArray(current) && /^-?\d+$/.test(step)) {
      const index = Number(step);
      current = current.at(index);
    } else if (current !== null && typeof current === "object") {
      current = (current as Record<string, unknown>)[step];
    } else {
      return null;
    }
    if (current === undefined) return null;
  }
  return current;
}

/** `extract: {name: path}` -> `{name: value}` for one record. */
export function extractAll(record: unknown, paths: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(paths).map(([name, path]) => [name, extractPath(record, path)]));
}
