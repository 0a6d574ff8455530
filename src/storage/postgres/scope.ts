/** Owner visibility as SQL: a scoped call sees only its owner's rows. */
import type { Scope } from "../types.js";
import type { Params } from "./sql.js";

export function scopedOwner(scope: Scope | undefined): string | undefined {
  return typeof scope?.owner === "string" ? scope.owner : undefined;
}

/** The conditions restricting `alias` rows to the scope (none when unscoped). */
export function scopeConditions(params: Params, scope: Scope | undefined, column = "owner"): string[] {
  const owner = scopedOwner(scope);
  return owner === undefined ? [] : [`${column} = ${params.add(owner)}`];
}

/** Owner given to rows created within `scope`. */
export function ownerFor(scope: Scope | undefined): string | null {
  return scopedOwner(scope) ?? null;
}
