/**
 * A `Scope` as SQL (its meaning is documented on `Scope` in ../types.ts): each condition becomes
 * a term of the same WHERE clause as the rest of the query, so counts, totals and pages only
 * ever see matching rows. `$eq` is written as containment plus exact equality: the containment
 * lets the metadata's GIN index narrow the scan, the equality keeps the exact semantics.
 */
import type { Scope, ScopeCondition } from "../types.js";
import type { Params } from "./sql.js";

/** Terms restricting rows to those whose metadata (the jsonb expression `metadata`) matches the scope. */
export function scopeConditions(params: Params, scope: Scope | undefined, metadata = "metadata"): string[] {
  return (scope?.conditions ?? []).map((c) => {
    const field = `${metadata} -> ${params.add(c.key)}`;
    return condition(params, c, field, `${metadata} @> ${params.json({ [c.key]: c.op === "$eq" ? c.value : c.values })}`);
  });
}

/**
 * Terms over a store item (`alias` of store_items) seen as `{...value, namespace, key}`: the
 * namespace and key columns override same-named value fields.
 */
export function storeItemScopeConditions(params: Params, scope: Scope | undefined, alias: string): string[] {
  return (scope?.conditions ?? []).map((c) => {
    const field =
      c.key === "namespace" ? `to_jsonb(${alias}.namespace)` : c.key === "key" ? `to_jsonb(${alias}.key)` : `${alias}.value -> ${params.add(c.key)}`;
    return condition(params, c, field);
  });
}

function condition(params: Params, c: ScopeCondition, field: string, indexed?: string): string {
  const exact = c.op === "$eq" ? `${field} = ${params.json(c.value)}` : `(jsonb_typeof(${field}) = 'array' AND ${field} @> ${params.json(c.values)})`;
  return indexed ? `(${indexed} AND ${exact})` : exact;
}

/** A run is visible when its thread is: the scope applies to the metadata of the run's thread. */
export function runScopeConditions(params: Params, scope: Scope | undefined, runThreadId: string): string[] {
  const terms = scopeConditions(params, scope, "scope_thread.metadata");
  if (terms.length === 0) return [];
  return [`EXISTS (SELECT 1 FROM threads scope_thread WHERE scope_thread.thread_id = ${runThreadId} AND ${terms.join(" AND ")})`];
}
