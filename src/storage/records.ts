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
export type AssistantVersion = Schemas["AssistantVersion"] & Required<Pick<Schemas["AssistantVersion"], "name" | "context" | "description">>;
/** `ttl` is kept with the thread (for expiry) but is not part of the API shape. */
export type Thread = Schemas["Thread"] & { ttl?: ThreadTtl };

export type RunStatus = Schemas["RunStatus"];
export type StreamMode = Schemas["StreamMode"];
export type Durability = Schemas["Durability"];
export type RunCommand = Schemas["Command"];
export type InterruptNodes = Schemas["InterruptNodes"];

/** `Run.kwargs` as this server stores it (the names the LangGraph Platform uses). */
export interface RunKwargs {
  /** null: continue from the thread's current state. */
  input: unknown;
  command: RunCommand | null;
  /** The run's own config; checkpoint fields of the request are merged into `configurable`. */
  config: Config;
  context: Context | null;
  stream_mode: StreamMode[];
  /** Stream events of subgraphs too. */
  subgraphs: boolean;
  /** Keep the events for rejoining after the run ends. */
  resumable: boolean;
  interrupt_before: InterruptNodes | null;
  interrupt_after: InterruptNodes | null;
  webhook: string | null;
  durability: Durability;
  strict_resume: boolean;
  /** Stateless run whose temporary thread is deleted when it ends (`on_completion: delete`). */
  temporary: boolean;
  /** What to do with the run when the client waiting on it disconnects. */
  on_disconnect: Schemas["OnDisconnect"];
  /** LangSmith project and dataset example of the run's trace (absent on runs stored before). */
  langsmith_tracer?: Schemas["LangSmithTracer"] | null;
  /** Keys whose presigned LangSmith feedback URLs the run's stream carries (a `feedback` event). */
  feedback_keys?: string[];
  /**
   * Started through the thread-centric protocol (v2): the graph streams in LangGraph's protocol
   * mode and the run's events are protocol events (runtime/streams/protocol-events.ts). Absent on
   * other runs.
   */
  protocol?: boolean;
  /** A protocol run resuming interrupts by id: those ids (its `input.answered` event). Absent on other runs. */
  answers?: string[];
}
export type MultitaskStrategy = Schemas["MultitaskStrategy"];
export type RunError = Schemas["RunError"];
/**
 * A run plus storage-only fields: `attempt` (executions started so far; a crash
 * retry increments it), `handoffs` (how many of those a stopping server handed back unfinished:
 * they are not failures, so they do not count against the attempts a run may have; absent on
 * runs stored before it was kept: none), `not_before` (ISO time before which it must not start,
 * from `after_seconds`) and `error` (why a failed run failed).
 */
export type Run = Omit<Schemas["Run"], "kwargs"> & {
  kwargs: RunKwargs;
  attempt: number;
  handoffs?: number;
  not_before: string | null;
  error: RunError | null;
};

/** Executions of a run that were cut (a crash, a lost database): those a stopping server handed back are not. */
export function failedAttempts(run: Pick<Run, "attempt" | "handoffs">): number {
  return run.attempt - (run.handoffs ?? 0);
}

/**
 * The authenticated user as the auth layer describes it (identity, permissions, display_name,
 * is_authenticated and whatever else the user's `authenticate` returned); storage keeps it opaque.
 */
export type StoredUser = Record<string, unknown> & { identity: string };

/** A cron, plus the user its firings run as (`auth_user`, null without authentication; `user_id` is its identity). */
export type Cron = Schemas["Cron"] & { auth_user: StoredUser | null };
