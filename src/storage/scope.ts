/**
 * The meaning of a `Scope` (./types.ts) as a JavaScript predicate: the lowdb backend filters with
 * it, and callers use it to check a value they are about to write. A SQL backend translates the
 * same conditions into its WHERE clause instead.
 */
import type { Scope, ScopeCondition, ScopeScalar } from "./types.js";

/** No conditions: every record is visible. */
export const UNSCOPED: Scope = Object.freeze({ conditions: Object.freeze([]) });

const holds = (metadata: Record<string, unknown>, condition: ScopeCondition): boolean => {
  if (!Object.hasOwn(metadata, condition.key)) return false;
  const field = metadata[condition.key];
  if (condition.op === "$eq") return field === condition.value;
  return Array.isArray(field) && condition.values.every((v: ScopeScalar) => field.includes(v));
};

/**
 * The scope's test for a record's metadata, built once per query; undefined when the scope lets
 * everything through (so scans skip the call).
 */
export function scopePredicate(scope: Scope | undefined): ((metadata: unknown) => boolean) | undefined {
  const conditions = scope?.conditions;
  if (!conditions?.length) return undefined;
  return (metadata) => {
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) return false;
    return conditions.every((c) => holds(metadata as Record<string, unknown>, c));
  };
}

/** Whether metadata is visible in the scope. */
export function inScope(metadata: unknown, scope: Scope | undefined): boolean {
  return scopePredicate(scope)?.(metadata) ?? true;
}

/** The object the scope of a store item applies to: its value, with its namespace and key. */
export function storeItemScopeView(item: { namespace: string[]; key: string; value?: Record<string, unknown> | null }) {
  return { ...(item.value ?? {}), namespace: item.namespace, key: item.key };
}

/**
 * Metadata every condition of the scope matches: what a record the server creates on the
 * caller's behalf (a stateless run's temporary thread) needs so that the caller sees it.
 */
export function metadataInScope(scope: Scope | undefined): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const condition of scope?.conditions ?? []) {
    if (condition.op === "$eq") metadata[condition.key] = condition.value;
    else {
      const held = Array.isArray(metadata[condition.key]) ? (metadata[condition.key] as unknown[]) : [];
      metadata[condition.key] = [...new Set([...held, ...condition.values])];
    }
  }
  return metadata;
}
