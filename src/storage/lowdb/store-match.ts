/**
 * In-memory evaluation of store-item queries, with the semantics documented on
 * `StoreFilterCondition` and `StoreNamespaceQuery` (what a SQL backend does with jsonb
 * comparisons, LIKE patterns and pgvector's cosine distance).
 */
import type { StoreFilterCondition, StoreVector } from "../types.js";

/** JSON equality (objects compared key by key regardless of key order). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const ob = b as Record<string, unknown>;
  if (ka.length !== Object.keys(ob).length) return false;
  return ka.every((k) => Object.hasOwn(ob, k) && jsonEqual((a as Record<string, unknown>)[k], ob[k]));
}

/** -1/0/1 for two numbers or two strings; undefined when they are not comparable. */
function order(a: unknown, b: unknown): number | undefined {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function holds({ field, op, operand }: StoreFilterCondition, value: Record<string, unknown>): boolean {
  const present = Object.hasOwn(value, field);
  const v = value[field];
  switch (op) {
    case "$eq":
      return present && jsonEqual(v, operand);
    case "$ne":
      return !present || !jsonEqual(v, operand);
    case "$in":
      return present && (operand as unknown[]).some((x) => jsonEqual(v, x));
    case "$nin":
      return !present || !(operand as unknown[]).some((x) => jsonEqual(v, x));
    default: {
      const c = present ? order(v, operand) : undefined;
      if (c === undefined) return false;
      return op === "$gt" ? c > 0 : op === "$gte" ? c >= 0 : op === "$lt" ? c < 0 : c <= 0;
    }
  }
}

/** Predicate over item values for a list of conditions (all must hold). */
export function filterPredicate(conditions: readonly StoreFilterCondition[] | undefined): (value: Record<string, unknown>) => boolean {
  if (!conditions?.length) return () => true;
  return (value) => conditions.every((c) => holds(c, value));
}

/** Whether `namespace` starts with `prefix` (labels; "*" in a pattern matches any label). */
export function startsWith(namespace: readonly string[], prefix: readonly string[], wildcard = false): boolean {
  if (prefix.length > namespace.length) return false;
  return prefix.every((label, i) => (wildcard && label === "*") || namespace[i] === label);
}

/** Whether `namespace` ends with `suffix` ("*" matches any label). */
export function endsWith(namespace: readonly string[], suffix: readonly string[]): boolean {
  const offset = namespace.length - suffix.length;
  if (offset < 0) return false;
  return suffix.every((label, i) => label === "*" || namespace[offset + i] === label);
}

/** Label-by-label order of namespaces (a namespace sorts before its extensions). */
export function compareNamespaces(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Best cosine similarity between `query` and any of `vectors` of the same length; null when
 * there is none (not indexed, or embedded with other dimensions). A zero vector scores 0.
 */
export function bestCosine(query: readonly number[], queryNorm: number, vectors: readonly StoreVector[]): number | null {
  let best: number | null = null;
  for (const { vector } of vectors) {
    if (vector.length !== query.length) continue;
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < vector.length; i++) {
      dot += vector[i] * query[i];
      norm += vector[i] * vector[i];
    }
    const score = norm === 0 || queryNorm === 0 ? 0 : dot / (Math.sqrt(norm) * queryNorm);
    if (best === null || score > best) best = score;
  }
  return best;
}

export function norm(vector: readonly number[]): number {
  let sum = 0;
  for (const x of vector) sum += x * x;
  return Math.sqrt(sum);
}
