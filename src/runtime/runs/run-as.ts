/**
 * The user a run executes as. Stored with the run (in `kwargs.config.configurable`, as the
 * LangGraph servers do), so runs executed later (background, `after_seconds`, cron firings, runs
 * recovered after a restart) keep the identity of the user who created them, and graphs read it
 * from `config.configurable.langgraph_auth_user`.
 */
import type { StoredUser } from "../../storage/types.js";

/** Reserved keys of `configurable`: only the server sets them, from the authenticated user. */
export const AUTH_CONFIGURABLE_KEYS = ["langgraph_auth_user", "langgraph_auth_user_id", "langgraph_auth_permissions"] as const;

/** `configurable` without client-given auth keys, plus those of `user` when there is one. */
export function configurableRunningAs(configurable: Record<string, unknown> | undefined, user: StoredUser | null): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(configurable ?? {})) {
    if (!(AUTH_CONFIGURABLE_KEYS as readonly string[]).includes(key)) clean[key] = value;
  }
  if (!user) return clean;
  const permissions = Array.isArray(user.permissions) ? user.permissions : [];
  return { ...clean, langgraph_auth_user: user, langgraph_auth_user_id: user.identity, langgraph_auth_permissions: permissions };
}
