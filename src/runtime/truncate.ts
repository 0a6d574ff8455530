/**
 * `POST /internal/truncate` of `lgts dev` (as `langgraph dev` has it): resets data between test
 * runs, so suites written against `langgraph dev` run unchanged. Each flag empties one kind of
 * data; the default assistants of the served graphs stay. It goes through the repositories one
 * record at a time: a development tool, not for large data.
 */
import type { GraphRegistry } from "./graphs/index.js";
import type { Storage } from "../storage/types.js";

export interface TruncateRequest {
  runs?: boolean;
  threads?: boolean;
  assistants?: boolean;
  checkpointer?: boolean;
  /** `checkpointer` as the official dev server's own API suite spells it (`truncate(url, "all")`). */
  checkpoint?: boolean;
  store?: boolean;
}

export const TRUNCATE_FLAGS = ["runs", "threads", "assistants", "checkpointer", "checkpoint", "store"] as const;

const PAGE = 500;

/** Every thread id, read before anything is deleted (deleting while paging would skip some). */
async function allThreadIds(storage: Storage): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const { items } = await storage.threads.search({ limit: PAGE, offset, sortBy: "thread_id", sortOrder: "asc" });
    ids.push(...items.map((thread) => thread.thread_id));
    if (items.length < PAGE) return ids;
  }
}

export async function truncate(storage: Storage, graphs: GraphRegistry, request: TruncateRequest): Promise<void> {
  if (request.threads) {
    // a thread's runs, crons and checkpoints go with it
    for (const threadId of await allThreadIds(storage)) await storage.threads.delete(threadId);
  }
  const checkpoints = request.checkpointer || request.checkpoint;
  if (request.runs || checkpoints) {
    for (const threadId of await allThreadIds(storage)) {
      if (request.runs) await storage.runs.deleteThread(threadId);
      if (checkpoints) await storage.checkpoints.deleteThread(threadId);
    }
  }
  if (request.assistants) {
    const system = new Set(graphs.graphIds.map((graphId) => graphs.defaultAssistantId(graphId)));
    const ids: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const { items } = await storage.assistants.search({ limit: PAGE, offset, sortBy: "assistant_id", sortOrder: "asc" });
      ids.push(...items.map((assistant) => assistant.assistant_id).filter((id) => !system.has(id)));
      if (items.length < PAGE) break;
    }
    for (const assistantId of ids) await storage.assistants.delete(assistantId);
  }
  if (request.store) {
    for (;;) {
      const items = await storage.storeItems.search({ namespacePrefix: [], limit: PAGE });
      for (const item of items) await storage.storeItems.delete(item.namespace, item.key);
      if (items.length < PAGE) break;
    }
  }
}
