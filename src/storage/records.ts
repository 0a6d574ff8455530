/**
 * Record shapes kept by storage: the LangGraph Platform API shapes plus `owner`.
 *
 * `generated/openapi.d.ts` did not exist when this module was written, so the API
 * shapes are declared here, in this one file. They must match the contract in
 * `spec/` (schemas Assistant, AssistantVersion, Thread). Once the generated types
 * exist, each `Api*` alias below becomes `components["schemas"]["<Name>"]` and
 * nothing else in src/storage changes.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Metadata = Record<string, unknown>;
export type Config = Record<string, unknown>;
export type ThreadStatus = "idle" | "busy" | "interrupted" | "error";
export type OnConflict = "raise" | "do_nothing";

/** API shape: Assistant (the current version of an assistant). */
export interface ApiAssistant {
  assistant_id: string;
  graph_id: string;
  config: Config;
  context: Record<string, unknown>;
  metadata: Metadata;
  name: string;
  description: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** API shape: AssistantVersion (one immutable snapshot of an assistant). */
export type ApiAssistantVersion = Omit<ApiAssistant, "updated_at">;

/** API shape: ThreadTTL (minutes, counted from the thread's last update). */
export interface ApiThreadTtl {
  strategy?: "delete" | "keep_latest";
  ttl: number;
}

/** API shape: Thread. */
export interface ApiThread {
  thread_id: string;
  created_at: string;
  updated_at: string;
  state_updated_at: string;
  metadata: Metadata;
  status: ThreadStatus;
  values: Record<string, unknown> | unknown[] | null;
  /** task id -> interrupts raised by that task */
  interrupts: Record<string, unknown[]>;
  error?: string | Record<string, unknown> | null;
  config?: Config;
  context?: Record<string, unknown> | null;
}

/** Who a record belongs to; `null` = created without an authenticated user. */
export interface Owned {
  owner: string | null;
}

export type Assistant = ApiAssistant & Owned;
export type AssistantVersion = ApiAssistantVersion & Owned;
/** `ttl` is kept with the thread (for expiry) but is not part of the API shape. */
export type Thread = ApiThread & Owned & { ttl?: ApiThreadTtl };

/** Drops the storage-only `owner` field before a record leaves the server. */
export function toApi<T extends Owned>(record: T): Omit<T, "owner"> {
  const { owner: _owner, ...api } = record;
  return api;
}
