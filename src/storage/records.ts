/**
 * Record shapes kept by storage: the API shapes generated from the contract
 * (`generated/openapi.d.ts`, schemas Assistant, AssistantVersion, Thread...) plus a few
 * storage-only fields (thread TTL setting, run attempts, the user a cron runs as).
 */
import type { components } from "../../generated/openapi.js";

type Schemas = components["schemas"];

/** Free-form metadata as given to storage (filters, patches): always an object. */
export type Metadata = Record<string, unknown>;
export type Config = Schemas["Config"];
export type Context = NonNullable<Schemas["Context"]>;
export type ThreadStatus = Schemas["ThreadStatus"];
export type ThreadTtl = Schemas["ThreadTTL"];
export type OnConflict = Schemas["IfExists"];

export type Assistant = Schemas["Assistant"];
/** Stored versions always carry every field of the assistant they snapshot. */
export type AssistantVersion = Schemas["AssistantVersion"] &
  Required<Pick<Schemas["AssistantVersion"], "name" | "context" | "description">>;
/** `ttl` is kept with the thread (for expiry) but is not part of the API shape. */
export type Thread = Schemas["Thread"] & { ttl?: ThreadTtl };

export type RunStatus = Schemas["RunStatus"];
export type MultitaskStrategy = Schemas["MultitaskStrategy"];
export type RunError = Schemas["RunError"];
/**
 * A run plus storage-only fields: `attempt` (executions started so far; a crash
 * retry increments it), `not_before` (ISO time before which it must not start,
 * from `after_seconds`) and `error` (why a failed run failed).
 */
export type Run = Schemas["Run"] & { attempt: number; not_before: string | null; error: RunError | null };

/**
 * The authenticated user as the auth layer describes it (identity, permissions, display_name,
 * is_authenticated and whatever else the user's `authenticate` returned); storage keeps it opaque.
 */
export type StoredUser = Record<string, unknown> & { identity: string };

/** A cron, plus the user its firings run as (`auth_user`, null without authentication; `user_id` is its identity). */
export type Cron = Schemas["Cron"] & { auth_user: StoredUser | null };
