type WithoutNulls<T, Keep extends keyof T> = {
  [K in keyof T]: K extends Keep ? T[K] : Exclude<T[K], null>;
};

/**
 * The contract accepts `null` for an optional field to mean "not given" (clients send it that way);
 * storage takes such fields as absent. Fields in `keep` treat null as a real value (e.g. clearing a
 * description).
 */
export function nullsAsAbsent<T extends object, Keep extends keyof T = never>(body: T, keep: readonly Keep[] = []): WithoutNulls<T, Keep> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value !== null || keep.includes(key as Keep)) result[key] = value;
  }
  return result as WithoutNulls<T, Keep>;
}
