import { HttpError } from "../http/errors.js";
import type { OperationHandlers } from "../http/operations.js";
import { notYetAvailable } from "./not-yet-available.js";
import { nullsAsAbsent } from "./nulls.js";
import { paginationHeaders, selectFields } from "./pagination.js";

type ThreadOperations =
  | "createThread"
  | "searchThreads"
  | "countThreads"
  | "pruneThreads"
  | "getThread"
  | "patchThread"
  | "deleteThread"
  | "copyThread"
  | "getThreadState"
  | "updateThreadState"
  | "patchThreadState"
  | "getThreadStateAtCheckpoint"
  | "postThreadStateAtCheckpoint"
  | "getThreadHistory"
  | "searchThreadHistory"
  | "joinThreadStream";

const threadState = notYetAvailable("thread state and checkpoints (they come with run execution)");

export const threadHandlers: OperationHandlers<ThreadOperations> = {
  async createThread({ body, services, scope }) {
    const { supersteps, ...create } = nullsAsAbsent(body);
    if (supersteps?.length) {
      throw new HttpError(422, "body.supersteps: not available in this server yet (it needs run execution)");
    }
    return { status: 200, body: await services.storage.threads.create(create, scope) };
  },

  async getThread({ params, services, scope }) {
    return { status: 200, body: await services.storage.threads.get(params.thread_id, scope) };
  },

  async patchThread({ params, body, services, scope }) {
    return { status: 200, body: await services.storage.threads.patch(params.thread_id, nullsAsAbsent(body), scope) };
  },

  async deleteThread({ params, services, scope }) {
    await services.storage.threads.delete(params.thread_id, scope);
    return { status: 204, body: undefined };
  },

  async copyThread({ params, services, scope }) {
    return { status: 200, body: await services.storage.threads.copy(params.thread_id, scope) };
  },

  async searchThreads({ body, services, scope }) {
    const { ids, metadata, values, status, limit, offset, sort_by, sort_order, select } = nullsAsAbsent(body);
    const page = await services.storage.threads.search(
      { filter: { ids, metadata, values, status }, sortBy: sort_by, sortOrder: sort_order, limit, offset },
      scope,
    );
    return {
      status: 200,
      body: selectFields(page.items, select),
      headers: paginationHeaders(page.total, offset ?? 0, page.items.length),
    };
  },

  async countThreads({ body, services, scope }) {
    const { metadata, values, status } = nullsAsAbsent(body);
    return { status: 200, body: await services.storage.threads.count({ metadata, values, status }, scope) };
  },

  async pruneThreads({ body, services, scope }) {
    if (body.strategy === "keep_latest") {
      throw new HttpError(422, "body.strategy: 'keep_latest' needs checkpoints, not available in this server yet");
    }
    let pruned = 0;
    for (const threadId of body.thread_ids) {
      try {
        await services.storage.threads.delete(threadId, scope);
        pruned += 1;
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
      }
    }
    return { status: 200, body: { pruned_count: pruned } };
  },

  getThreadState: threadState,
  updateThreadState: threadState,
  patchThreadState: threadState,
  getThreadStateAtCheckpoint: threadState,
  postThreadStateAtCheckpoint: threadState,
  getThreadHistory: threadState,
  searchThreadHistory: threadState,
  joinThreadStream: notYetAvailable("thread streams (they come with streaming runs)"),
};
