/**
 * Threads as every caller creates, reads, searches, changes, copies and deletes them: each
 * operation authorizes the caller for its LangGraph Auth event (the handler may rewrite the
 * request, typically its metadata), then calls storage. TTLs arm the sweeper.
 */
import type { components } from "../../generated/openapi.js";
import type { RequestAuth } from "../auth/index.js";
import { invalid, isNotFound } from "../errors.js";
import { createThreadWithSupersteps, type ThreadStateDeps } from "../runtime/threads/state.js";
import type { ThreadTtlSweeper } from "../runtime/threads/ttl.js";
import type { Page, Thread, ThreadStatus } from "../storage/types.js";
import { nullsAsAbsent } from "./nulls.js";

type Schemas = components["schemas"];

/** What thread operations use: storage, the graphs and checkpointer (state), the TTL sweeper. */
export interface ThreadDeps extends ThreadStateDeps {
  threadTtl: Pick<ThreadTtlSweeper, "supportsKeepLatest" | "nudge">;
}

/** TTL strategies need what they act on: `keep_latest` prunes checkpoints. */
function checkTtl(deps: ThreadDeps, ttl: Thread["ttl"]) {
  if (ttl?.strategy === "keep_latest" && !deps.threadTtl.supportsKeepLatest) {
    throw invalid("body.ttl.strategy: 'keep_latest' needs checkpoints, not available in this server yet");
  }
}

/** A thread with a TTL expires that long after its last update: the sweeper must know. */
function armTtl(deps: ThreadDeps, thread: Thread): Thread {
  if (thread.ttl) deps.threadTtl.nudge(Date.parse(thread.updated_at) + thread.ttl.ttl * 60_000);
  return thread;
}

/** Creates a thread (`threads:create`), with a history built from `supersteps` when given. */
export async function createThread(deps: ThreadDeps, auth: RequestAuth, body: Schemas["ThreadCreate"]): Promise<Thread> {
  const { supersteps, ...fields } = nullsAsAbsent(body);
  const { value, scope } = await auth.authorize("threads:create", {
    thread_id: fields.thread_id,
    metadata: fields.metadata ?? {},
    if_exists: fields.if_exists,
  });
  const create = { ...fields, thread_id: value.thread_id ?? undefined, metadata: value.metadata ?? {} };
  checkTtl(deps, create.ttl);
  const thread = supersteps?.length
    ? await createThreadWithSupersteps(deps, create, supersteps, scope)
    : await deps.storage.threads.create(create, scope);
  return armTtl(deps, thread);
}

export async function getThread(deps: ThreadDeps, auth: RequestAuth, threadId: string): Promise<Thread> {
  const { scope } = await auth.authorize("threads:read", { thread_id: threadId });
  return deps.storage.threads.get(threadId, scope);
}

/** Changes a thread's metadata (merged), TTL or status fields (`threads:update`). */
export async function patchThread(deps: ThreadDeps, auth: RequestAuth, threadId: string, body: Schemas["ThreadPatch"]): Promise<Thread> {
  const fields = nullsAsAbsent(body);
  const { value, scope } = await auth.authorize("threads:update", { thread_id: threadId, metadata: fields.metadata });
  const patch = { ...fields, metadata: value.metadata ?? undefined };
  checkTtl(deps, patch.ttl);
  return armTtl(deps, await deps.storage.threads.patch(threadId, patch, scope));
}

/** Deletes a thread with its runs (stopping active ones) and checkpoints. */
export async function deleteThread(deps: ThreadDeps, auth: RequestAuth, threadId: string): Promise<void> {
  const { scope } = await auth.authorize("threads:delete", { thread_id: threadId });
  await deps.storage.threads.delete(threadId, scope);
}

/**
 * A new thread with the source's state: reading the source and creating are both checked (the
 * copy gets the metadata the create handler leaves, e.g. its owner).
 */
export async function copyThread(deps: ThreadDeps, auth: RequestAuth, threadId: string): Promise<Thread> {
  const { scope } = await auth.authorize("threads:read", { thread_id: threadId });
  const source = await deps.storage.threads.get(threadId, scope);
  const { value } = await auth.authorize("threads:create", { metadata: source.metadata });
  return armTtl(deps, await deps.storage.threads.copy(threadId, scope, value.metadata ?? {}));
}

type ThreadSearch = Schemas["ThreadSearchRequest"];

/** The threads matching a search (`threads:search`: the handler may narrow the filter). */
export async function searchThreads(deps: ThreadDeps, auth: RequestAuth, body: ThreadSearch): Promise<Page<Thread>> {
  const fields = nullsAsAbsent(body);
  const { limit, offset, sort_by, sort_order } = fields;
  const { value, scope } = await auth.authorize("threads:search", {
    ids: fields.ids,
    metadata: fields.metadata,
    values: fields.values,
    status: fields.status,
    limit,
    offset,
  });
  const filter = {
    ids: value.ids ?? undefined,
    metadata: value.metadata ?? undefined,
    values: value.values ?? undefined,
    status: (value.status ?? undefined) as ThreadStatus | undefined,
  };
  return deps.storage.threads.search({ filter, sortBy: sort_by, sortOrder: sort_order, limit, offset }, scope);
}

export async function countThreads(deps: ThreadDeps, auth: RequestAuth, body: Schemas["ThreadCountRequest"]): Promise<number> {
  const fields = nullsAsAbsent(body);
  const { value, scope } = await auth.authorize("threads:search", { metadata: fields.metadata, values: fields.values, status: fields.status });
  const filter = {
    metadata: value.metadata ?? undefined,
    values: value.values ?? undefined,
    status: (value.status ?? undefined) as ThreadStatus | undefined,
  };
  return deps.storage.threads.count(filter, scope);
}

/**
 * Prunes threads: `delete` deletes them, `keep_latest` drops all but their latest checkpoint.
 * Threads that are missing (or hidden) are skipped; answers how many were pruned.
 */
export async function pruneThreads(deps: ThreadDeps, auth: RequestAuth, body: Schemas["ThreadPruneRequest"]): Promise<number> {
  const event = body.strategy === "keep_latest" ? "threads:update" : "threads:delete";
  let pruned = 0;
  for (const threadId of body.thread_ids) {
    const { scope } = await auth.authorize(event, { thread_id: threadId });
    try {
      if (body.strategy === "keep_latest") {
        await deps.storage.threads.get(threadId, scope);
        await deps.storage.checkpoints.pruneKeepLatest(threadId);
      } else {
        await deps.storage.threads.delete(threadId, scope);
      }
      pruned += 1;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return pruned;
}
