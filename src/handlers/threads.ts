import { isNotFound } from "../errors.js";
import { HttpError } from "../http/errors.js";
import type { OperationHandlers } from "../http/operations.js";
import { streamHandlers } from "./streams.js";
import { nullsAsAbsent } from "../app/nulls.js";
import { paginationHeaders, selectFields } from "./pagination.js";
import { extractAll } from "./extract.js";
import type { Thread } from "../storage/types.js";
import type { Services } from "../services.js";
import { createThreadWithSupersteps } from "../runtime/threads/state.js";

/**
 * The API view of a stored thread: the TTL setting only when asked for. Without one it is the
 * record itself, not a copy (storage may hand out its shared, frozen record).
 */
function threadView(thread: Thread, includeTtl = false) {
  if (!("ttl" in thread)) return thread;
  const { ttl, ...view } = thread;
  return includeTtl && ttl ? { ...view, ttl } : view;
}

/** TTL strategies need what they act on: `keep_latest` prunes checkpoints. */
function checkTtl(services: Services, ttl: Thread["ttl"]) {
  if (ttl?.strategy === "keep_latest" && !services.threadTtl.supportsKeepLatest) {
    throw new HttpError(422, "body.ttl.strategy: 'keep_latest' needs checkpoints, not available in this server yet");
  }
}

function expiresAt(thread: Thread): number | undefined {
  return thread.ttl ? Date.parse(thread.updated_at) + thread.ttl.ttl * 60_000 : undefined;
}

function armTtl(services: Services, thread: Thread) {
  const at = expiresAt(thread);
  if (at !== undefined) services.threadTtl.nudge(at);
}

type ThreadOperations =
  | "createThread"
  | "searchThreads"
  | "countThreads"
  | "pruneThreads"
  | "getThread"
  | "patchThread"
  | "deleteThread"
  | "copyThread"
  | "joinThreadStream";

export const threadHandlers: OperationHandlers<ThreadOperations> = {
  async createThread({ body, services, auth }) {
    const { supersteps, ...fields } = nullsAsAbsent(body);
    const { value, scope } = await auth.authorize("threads:create", {
      thread_id: fields.thread_id,
      metadata: fields.metadata ?? {},
      if_exists: fields.if_exists,
    });
    const create = { ...fields, thread_id: value.thread_id ?? undefined, metadata: value.metadata ?? {} };
    checkTtl(services, create.ttl);
    const thread = supersteps?.length
      ? await createThreadWithSupersteps(services, create, supersteps, scope)
      : await services.storage.threads.create(create, scope);
    armTtl(services, thread);
    return { status: 200, body: threadView(thread) };
  },

  async getThread({ params, query, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const thread = await services.storage.threads.get(params.thread_id, scope);
    return { status: 200, body: threadView(thread, query.include?.includes("ttl")) };
  },

  async patchThread({ params, body, headers, services, auth }) {
    const fields = nullsAsAbsent(body);
    const { value, scope } = await auth.authorize("threads:update", { thread_id: params.thread_id, metadata: fields.metadata });
    const patch = { ...fields, metadata: value.metadata ?? undefined };
    checkTtl(services, patch.ttl);
    const thread = await services.storage.threads.patch(params.thread_id, patch, scope);
    armTtl(services, thread);
    if (/\breturn=minimal\b/.test(String(headers.prefer ?? ""))) return { status: 204, body: undefined };
    return { status: 200, body: threadView(thread) };
  },

  async deleteThread({ params, services, auth }) {
    const { scope } = await auth.authorize("threads:delete", { thread_id: params.thread_id });
    await services.storage.threads.delete(params.thread_id, scope);
    return { status: 204, body: undefined };
  },

  async copyThread({ params, services, auth }) {
    // the copy is a new thread with the source's metadata: reading the source and creating are both checked
    // (the copy gets the metadata the create handler leaves, e.g. its owner)
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const source = await services.storage.threads.get(params.thread_id, scope);
    const { value } = await auth.authorize("threads:create", { metadata: source.metadata });
    const thread = await services.storage.threads.copy(params.thread_id, scope, value.metadata ?? {});
    armTtl(services, thread);
    return { status: 200, body: threadView(thread) };
  },

  async searchThreads({ body, services, auth }) {
    const fields = nullsAsAbsent(body);
    const { limit, offset, sort_by, sort_order, select, extract } = fields;
    const { value, scope } = await auth.authorize("threads:search", {
      ids: fields.ids,
      metadata: fields.metadata,
      values: fields.values,
      status: fields.status,
      limit,
      offset,
    });
    const { ids, metadata, values } = { ids: value.ids ?? undefined, metadata: value.metadata ?? undefined, values: value.values ?? undefined };
    const status = (value.status ?? undefined) as typeof fields.status;
    const page = await services.storage.threads.search(
      { filter: { ids, metadata, values, status }, sortBy: sort_by, sortOrder: sort_order, limit, offset },
      scope,
    );
    const views = page.items.map((thread) => (extract ? { ...threadView(thread), extracted: extractAll(thread, extract) } : threadView(thread)));
    return {
      status: 200,
      body: selectFields(views, select && extract ? [...select, "extracted"] : select),
      headers: paginationHeaders(page.total, offset ?? 0, page.items.length),
    };
  },

  async countThreads({ body, services, auth }) {
    const fields = nullsAsAbsent(body);
    const { value, scope } = await auth.authorize("threads:search", { metadata: fields.metadata, values: fields.values, status: fields.status });
    const filter = {
      metadata: value.metadata ?? undefined,
      values: value.values ?? undefined,
      status: (value.status ?? undefined) as typeof fields.status,
    };
    return { status: 200, body: await services.storage.threads.count(filter, scope) };
  },

  async pruneThreads({ body, services, auth }) {
    const event = body.strategy === "keep_latest" ? "threads:update" : "threads:delete";
    let pruned = 0;
    for (const threadId of body.thread_ids) {
      const { scope } = await auth.authorize(event, { thread_id: threadId });
      try {
        if (body.strategy === "keep_latest") {
          await services.storage.threads.get(threadId, scope);
          await services.storage.checkpoints.pruneKeepLatest(threadId);
        } else {
          await services.storage.threads.delete(threadId, scope);
        }
        pruned += 1;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return { status: 200, body: { pruned_count: pruned } };
  },

  joinThreadStream: streamHandlers.joinThreadStream,
};
