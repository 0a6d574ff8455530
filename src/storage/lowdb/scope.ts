import type { Owned } from "../records.js";
import type { Scope } from "../types.js";

/** Whether a scope restricts visibility to one owner. */
export function scopedOwner(scope: Scope | undefined): string | undefined {
  return typeof scope?.owner === "string" ? scope.owner : undefined;
}

/** A record is visible unless the scope names another owner. */
export function isVisible(record: Owned, scope: Scope | undefined): boolean {
  const owner = scopedOwner(scope);
  return owner === undefined || record.owner === owner;
}

/** Index lookups that narrow a scan to the scope's owner. */
export function ownerCondition(scope: Scope | undefined): Array<readonly ["owner", string]> {
  const owner = scopedOwner(scope);
  return owner === undefined ? [] : [["owner", owner]];
}

/** Owner given to records created within `scope`. */
export function ownerFor(scope: Scope | undefined): string | null {
  return scopedOwner(scope) ?? null;
}
