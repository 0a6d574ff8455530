import { isNotFound } from "../errors.js";
import { HttpError } from "../http/errors.js";
import type { OperationHandlers } from "../http/operations.js";
import { streamHandlers } from "./streams.js";
import { nullsAsAbsent } from "./nulls.js";
import { paginationHeaders, selectFields } from "./pagination.js";
import { extractAll } from "./extract.js";
import type { Thread } from "../storage/types.js";
import type { Services } from "../services.js";
import { createThreadWithSupersteps } from "../runtime/threads/state.js";

/** The API view of a stored thread: the TTL setting only when asked for. */
function threadView(thread: Thread, includeTtl = false) {
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
  async createThread({ body, services, scope }) {
    const { supersteps, ...create } = nullsAsAbsent(body);
    checkTtl(services, create.ttl);
    const thread = supersteps?.length
      ? await createThreadWithSupersteps(services, create, supersteps, scope)
      : await services.storage.threads.create(create, scope);
    armTtl(services, thread);
    return { status: 200, body: threadView(thread) };
  },

  async getThread({ params, query, services, scope }) {
    const thread = await services.storage.threads.get(params.thread_id, scope);
    return { status: 200, body: threadView(thread, query.include?.includes("ttl")) };
  },

  async patchThread({ params, body, headers, services, scope }) {
    const patch = nullsAsAbsent(body);
    checkTtl(services, patch.ttl);
    const thread = await services.storage.threads.patch(params.thread_id, patch, scope);
    armTtl(services, thread);
    if (/\breturn=minimal\b/.test(String(headers.prefer ?? ""))) return { status: 204, body: undefined };
    return { status: 200, body: threadView(thread) };
  },

  async deleteThread({ params, services, scope }) {
    await services.storage.threads.delete(params.thread_id, scope);
    return { status: 204, body: undefined };
  },

  async copyThread({ params, services, scope }) {
    const thread = await services.storage.threads.copy(params.thread_id, scope);
    armTtl(services, thread);
    return { status: 200, body: threadView(thread) };
  },

  async searchThreads({ body, services, scope }) {
    const { ids, metadata, values, status, limit, offset, sort_by, sort_order, select, extract } = nullsAsAbsent(body);
    const page = await services.storage.threads.search(
      { filter: { ids, metadata, values, status }, sortBy: sort_by, sortOrder: sort_order, limit, offset },
      scope,
    );
    const views = page.items.map((thread) =>
      extract ? { ...threadView(thread), extracted: extractAll(thread, extract) } : threadView(thread),
    );
    return {
      status: 200,
      body: selectFields(views, select && extract ? [...select, "extracted"] : select),
      headers: paginationHeaders(page.total, offset ?? 0, page.items.length),
    };
  },

  async countThreads({ body, services, scope }) {
    const { metadata, values, status } = nullsAsAbsent(body);
    return { status: 200, body: await services.storage.threads.count({ metadata, values, status }, scope) };
  },

  async pruneThreads({ body, services, scope }) {
    let pruned = 0;
    for (const threadId of body.thread_ids) {
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
