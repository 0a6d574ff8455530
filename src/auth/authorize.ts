/**
 * Authorization: the user's `auth.on` handlers, resolved in the LangGraph priority order
 * (`resource:action`, then `resource`, then `*:action`, then `*`). A handler gets a deep, mutable
 * copy of the event's value and may change it in place (the changed value is what the server
 * stores); it returns
 * nothing or true (allowed, unscoped), false (403), or filters that become the storage `Scope` of
 * the call. Throwing gives 403, or the status of an `HTTPException`.
 */
import type { AuthEventValueMap } from "@langchain/langgraph-sdk/auth";
import type { Logger } from "pino";
import { DomainError } from "../errors.js";
import { UNSCOPED } from "../storage/scope.js";
import type { Scope, ScopeCondition, ScopeScalar } from "../storage/types.js";
import { asAuthRejection } from "./errors.js";
import type { AuthHandlers } from "./load.js";
import type { AuthUser } from "./user.js";

export type AuthEvent = keyof AuthEventValueMap;

export interface Authorized<V> {
  scope: Scope;
  value: V;
}

const forbidden = () => new DomainError("forbidden", "Forbidden");

/** The handler that answers `event`, by priority; undefined when none does. */
export function handlerFor(handlers: AuthHandlers, event: AuthEvent) {
  const [resource, action] = event.split(":") as [string, string];
  const callbacks = handlers.callbacks ?? {};
  for (const key of [event, resource, `*:${action}`, "*"]) {
    if (Object.hasOwn(callbacks, key)) return callbacks[key];
  }
  return undefined;
}

export async function authorize<E extends AuthEvent>(
  handlers: AuthHandlers,
  user: AuthUser,
  event: E,
  value: AuthEventValueMap[E],
  logger: Logger,
): Promise<Authorized<AuthEventValueMap[E]>> {
  const handler = handlerFor(handlers, event);
  if (!handler) return { scope: UNSCOPED, value };
  const [resource, action] = event.split(":") as [string, string];
  // the handler's own deep copy: what it was given may be a stored record, shared and frozen
  const own = structuredClone(value);
  let result: unknown;
  try {
    result = await handler({ event, resource, action, value: own, user, permissions: user.permissions });
  } catch (error) {
    const rejection = asAuthRejection(error);
    if (rejection) throw rejection;
    logger.info({ err: error, event }, "authorization handler refused");
    throw forbidden();
  }
  if (result === undefined || result === null || result === true) return { scope: UNSCOPED, value: own };
  if (result === false) throw forbidden();
  try {
    return { scope: filtersToScope(result), value: own };
  } catch (error) {
    logger.error({ err: error, event }, "authorization handler returned an invalid result; refusing");
    throw forbidden();
  }
}

const isScalar = (v: unknown): v is ScopeScalar => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

/**
 * LangGraph filters as scope conditions: `{key: value}` and `{key: {$eq: value}}` are equality,
 * `{key: {$contains: value | values}}` array containment; several keys must all hold.
 */
export function filtersToScope(filters: unknown): Scope {
  if (typeof filters !== "object" || filters === null || Array.isArray(filters)) {
    throw new Error(`expected nothing, a boolean or a filter object, got ${Array.isArray(filters) ? "an array" : typeof filters}`);
  }
  const conditions: ScopeCondition[] = [];
  for (const [key, filter] of Object.entries(filters)) {
    if (isScalar(filter)) {
      conditions.push({ key, op: "$eq", value: filter });
      continue;
    }
    if (typeof filter !== "object" || filter === null || Array.isArray(filter))
      throw new Error(`filter of "${key}" is not a value or operator object`);
    const ops = Object.entries(filter);
    if (ops.length === 0) throw new Error(`filter of "${key}" has no operator`);
    for (const [op, operand] of ops) {
      if (op === "$eq" && isScalar(operand)) conditions.push({ key, op: "$eq", value: operand });
      else if (op === "$contains" && isScalar(operand)) conditions.push({ key, op: "$contains", values: [operand] });
      else if (op === "$contains" && Array.isArray(operand) && operand.every(isScalar)) conditions.push({ key, op: "$contains", values: operand });
      else throw new Error(`filter of "${key}": unsupported operator ${op} or operand (use $eq or $contains with JSON scalars)`);
    }
  }
  return { conditions };
}
