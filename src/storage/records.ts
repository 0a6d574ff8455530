/**
 * Record shapes kept by storage: the API shapes generated from the contract
 * (`generated/openapi.d.ts`, schemas Assistant, AssistantVersion, Thread) plus
 * the storage-only field `owner` (and, for threads, the TTL setting).
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

/** Who a record belongs to; `null` = created without an authenticated user. */
export interface Owned {
  owner: string | null;
}

export type Assistant = Schemas["Assistant"] & Owned;
/** Stored versions always carry every field of the assistant they snapshot. */
export type AssistantVersion = Schemas["AssistantVersion"] &
  Owned &
  Required<Pick<Schemas["AssistantVersion"], "name" | "context" | "description">>;
/** `ttl` is kept with the thread (for expiry) but is not part of the API shape. */
export type Thread = Schemas["Thread"] & Owned & { ttl?: ThreadTtl };

export type RunStatus = Schemas["RunStatus"];
export type MultitaskStrategy = Schemas["MultitaskStrategy"];
export type RunError = Schemas["RunError"];
/**
 * A run plus storage-only fields: `attempt` (executions started so far; a crash
 * retry increments it), `not_before` (ISO time before which it must not start,
 * from `after_seconds`) and `error` (why a failed run failed).
 */
export type Run = Schemas["Run"] &
  Owned & { attempt: number; not_before: string | null; error: RunError | null };

/** A cron; `user_id` mirrors `owner` in the API shape. */
export type Cron = Schemas["Cron"] & Owned;

/** Drops the storage-only `owner` field before a record leaves the server. */
export function toApi<T extends Owned>(record: T): Omit<T, "owner"> {
  const { owner: _owner, ...api } = record;
  return api;
}
