import type { OperationHandlers } from "../http/operations.js";
import { streamHandlers } from "./streams.js";
import { paginationHeaders, selectFields } from "./pagination.js";
import { extractAll } from "./extract.js";
import type { Thread } from "../storage/types.js";
import { copyThread, countThreads, createThread, deleteThread, getThread, patchThread, pruneThreads, searchThreads } from "../app/threads.js";

/**
 * The API view of a stored thread: the TTL setting only when asked for. Without one it is the
 * record itself, not a copy (storage may hand out its shared, frozen record).
 */
function threadView(thread: Thread, includeTtl = false) {
  if (!("ttl" in thread)) return thread;
  const { ttl, ...view } = thread;
  return includeTtl && ttl ? { ...view, ttl } : view;
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
    return { status: 200, body: threadView(await createThread(services, auth, body)) };
  },

  async getThread({ params, query, services, auth }) {
    const thread = await getThread(services, auth, params.thread_id);
    return { status: 200, body: threadView(thread, query.include?.includes("ttl")) };
  },

  async patchThread({ params, body, headers, services, auth }) {
    const thread = await patchThread(services, auth, params.thread_id, body);
    if (/\breturn=minimal\b/.test(String(headers.prefer ?? ""))) return { status: 204, body: undefined };
    return { status: 200, body: threadView(thread) };
  },

  async deleteThread({ params, services, auth }) {
    await deleteThread(services, auth, params.thread_id);
    return { status: 204, body: undefined };
  },

  async copyThread({ params, services, auth }) {
    return { status: 200, body: threadView(await copyThread(services, auth, params.thread_id)) };
  },

  async searchThreads({ body, services, auth }) {
    const { offset, select, extract } = body;
    const page = await searchThreads(services, auth, body);
    const views = page.items.map((thread) => (extract ? { ...threadView(thread), extracted: extractAll(thread, extract) } : threadView(thread)));
    return {
      status: 200,
      body: selectFields(views, select && extract ? [...select, "extracted"] : (select ?? undefined)),
      headers: paginationHeaders(page.total, offset ?? 0, page.items.length),
    };
  },

  async countThreads({ body, services, auth }) {
    return { status: 200, body: await countThreads(services, auth, body) };
  },

  async pruneThreads({ body, services, auth }) {
    return { status: 200, body: { pruned_count: await pruneThreads(services, auth, body) } };
  },

  joinThreadStream: streamHandlers.joinThreadStream,
};
