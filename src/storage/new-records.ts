/**
 * The records a create makes, the same for every backend: defaults filled in, inputs deep-copied
 * (what is stored is exactly what JSON gives back: no undefined, no references shared with the
 * caller). The backend supplies the id and the timestamp.
 */
import type { Assistant, AssistantVersion, Run, Thread } from "./records.js";
import type { AssistantCreate, RunCreate, ThreadCreate } from "./types.js";

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Version 1 of a new assistant. */
export function firstAssistantVersion(input: AssistantCreate, id: string, at: string): AssistantVersion {
  return {
    assistant_id: id,
    graph_id: input.graph_id,
    config: copy(input.config ?? {}),
    context: copy(input.context ?? {}),
    metadata: copy(input.metadata ?? {}),
    name: input.name ?? input.graph_id,
    description: input.description ?? null,
    version: 1,
    created_at: at,
  };
}

/** An assistant whose current version is `version`. */
export const assistantAt = (version: AssistantVersion, createdAt: string, updatedAt: string): Assistant => ({
  ...version,
  created_at: createdAt,
  updated_at: updatedAt,
});

/** A new, idle thread without state. */
export function newThread(input: ThreadCreate, id: string, at: string): Thread {
  return {
    thread_id: id,
    created_at: at,
    updated_at: at,
    state_updated_at: at,
    metadata: copy(input.metadata ?? {}),
    status: "idle",
    values: null,
    interrupts: {},
    error: null,
    config: {},
    ...(input.ttl ? { ttl: copy(input.ttl) } : {}),
  };
}

/** A new pending run. */
export function newRun(input: RunCreate, id: string, at: string): Run {
  return {
    run_id: id,
    thread_id: input.thread_id,
    assistant_id: input.assistant_id,
    created_at: at,
    updated_at: at,
    status: "pending",
    metadata: copy(input.metadata ?? {}),
    kwargs: copy(input.kwargs),
    multitask_strategy: input.multitask_strategy,
    cancel_reason: null,
    attempt: 0,
    handoffs: 0,
    not_before: input.not_before ?? null,
    error: null,
  };
}
