/**
 * Backend-neutral parts of store-item queries: turning the filter object callers write
 * (`{status: "active", score: {$gte: 3}}`) into plain conditions a backend evaluates (lowdb in
 * memory, PostgreSQL as `value->'field'` comparisons), and the error for a malformed query.
 */
import { StorageError } from "./errors.js";
import type { StoreFilterCondition, StoreFilterOperator } from "./types.js";

/** A store request that cannot be answered as written (bad filter, invalid namespace). -> 422 */
export class InvalidStoreRequestError extends StorageError {
  override name = "InvalidStoreRequestError";
  constructor(message: string) {
    super("invalid", message);
  }
}

const OPERATORS: ReadonlySet<string> = new Set<StoreFilterOperator>(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * One condition per (field, operator). A field's filter value is either a JSON value (equality)
 * or an object of operators, like the LangGraph stores accept. An object mixing `$`-keys and
 * plain keys, or naming an unknown operator, is rejected rather than read as a literal: a typo
 * such as `$gte` -> `$gteq` must not silently turn into "equals this object".
 */
export function parseStoreFilter(filter: Record<string, unknown> | null | undefined): StoreFilterCondition[] {
  const conditions: StoreFilterCondition[] = [];
  for (const [field, spec] of Object.entries(filter ?? {})) {
    const keys = isPlainObject(spec) ? Object.keys(spec) : [];
    const dollar = keys.filter((k) => k.startsWith("$"));
    if (dollar.length === 0) {
      conditions.push({ field, op: "$eq", operand: spec });
      continue;
    }
    if (dollar.length !== keys.length) {
      throw new InvalidStoreRequestError(`filter.${field}: an operator object cannot also hold plain keys (got ${keys.join(", ")})`);
    }
    for (const op of keys) {
      if (!OPERATORS.has(op)) {
        throw new InvalidStoreRequestError(`filter.${field}: unknown operator '${op}' (supported: ${[...OPERATORS].join(", ")})`);
      }
      const operand = (spec as Record<string, unknown>)[op];
      if ((op === "$in" || op === "$nin") && !Array.isArray(operand)) {
        throw new InvalidStoreRequestError(`filter.${field}.${op}: expected an array`);
      }
      conditions.push({ field, op: op as StoreFilterOperator, operand });
    }
  }
  return conditions;
}

/** Unambiguous id of a store item (namespace, key): labels and keys may contain any character. */
export function storeItemId(namespace: readonly string[], key: string): string {
  return JSON.stringify([namespace, key]);
}
