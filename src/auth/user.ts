/**
 * The authenticated user, normalised as the LangGraph servers do: `authenticate` may return a
 * string (the identity) or an object with `identity` and optional `permissions`, `display_name`,
 * `is_authenticated` and any other fields, which are kept.
 */
import { DomainError } from "../errors.js";
import type { StoredUser } from "../storage/types.js";

export interface AuthUser extends StoredUser {
  identity: string;
  permissions: string[];
  display_name: string;
  is_authenticated: boolean;
}

/** Thrown when `authenticate` returned something that is not a user: a defect of the auth module. */
export class InvalidAuthResultError extends Error {
  override name = "InvalidAuthResultError";
}

export function normalizeUser(result: unknown): AuthUser {
  if (typeof result === "string" && result !== "") {
    return { identity: result, permissions: [], display_name: result, is_authenticated: true };
  }
  if (typeof result === "object" && result !== null && typeof (result as { identity?: unknown }).identity === "string") {
    const user = result as Record<string, unknown> & { identity: string };
    const permissions = Array.isArray(user.permissions) ? user.permissions.filter((p): p is string => typeof p === "string") : [];
    return {
      ...user,
      permissions,
      display_name: typeof user.display_name === "string" ? user.display_name : user.identity,
      is_authenticated: typeof user.is_authenticated === "boolean" ? user.is_authenticated : true,
    };
  }
  throw new InvalidAuthResultError("authenticate must return a non-empty string (the identity) or an object with a string `identity`");
}

/** The error answering a request whose credentials are missing or wrong. */
export const unauthenticated = (detail = "Unauthorized") => new DomainError("unauthorized", detail);
