/**
 * The graph that owns a thread's state. A thread learns its graph from its metadata: `graph_id`
 * (the SDK's `threads.create({graphId})` puts it there, and runs set it), else the graph of the
 * assistant named by `assistant_id`. It is built with the server's checkpointer and store, and
 * with the config a run of the thread would have (graph factories receive it).
 */
import type { Storage } from "../../storage/types.js";
import type { StorageCheckpointSaver } from "../checkpointer.js";
import type { GraphRegistry } from "../graphs/index.js";
import type { ServerStore } from "../store/index.js";
import { NotFoundError } from "../../storage/errors.js";
import type { Assistant, Scope, Thread } from "../../storage/types.js";
import { mergeConfig } from "../runs/graph-call.js";
import type { AnyCompiledGraph } from "../graphs/index.js";
import { graphFor } from "../graph-for.js";

/** What building a thread's graph needs. */
export interface ThreadGraphDeps {
  storage: Storage;
  graphs: GraphRegistry;
  checkpointer: StorageCheckpointSaver;
  store: ServerStore;
}

export interface ThreadGraph {
  graphId: string;
  graph: AnyCompiledGraph;
}

/** The thread's graph and the assistant it names (the assistant's config builds the graph). */
async function graphOf(services: ThreadGraphDeps, thread: Thread, scope: Scope): Promise<{ graphId: string; assistant: Assistant | null } | null> {
  const { graph_id: graphId, assistant_id: assistantId } = thread.metadata ?? {};
  let assistant: Assistant | null = null;
  if (typeof assistantId === "string" && assistantId !== "") {
    try {
      assistant = await services.storage.assistants.get(assistantId, scope);
    } catch (error) {
      // An assistant deleted since: the thread keeps its graph_id, if any.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  if (typeof graphId === "string" && graphId !== "") return { graphId, assistant: assistant?.graph_id === graphId ? assistant : null };
  return assistant ? { graphId: assistant.graph_id, assistant } : null;
}

/**
 * The thread's graph with the server's checkpointer, or null when the thread has no graph yet.
 * A factory gets the config a run of the thread would: its assistant's, then the thread's.
 */
export async function threadGraph(services: ThreadGraphDeps, thread: Thread, scope: Scope): Promise<ThreadGraph | null> {
  const found = await graphOf(services, thread, scope);
  if (found === null) return null;
  const { graphId, assistant } = found;
  const ids = { thread_id: thread.thread_id, graph_id: graphId, ...(assistant ? { assistant_id: assistant.assistant_id } : {}) };
  const config = mergeConfig(assistant?.config ?? {}, thread.config ?? {}, ids);
  const graph = await graphFor(services.graphs, graphId, config, `thread '${thread.thread_id}'`, {
    checkpointer: services.checkpointer,
    store: services.store,
  });
  return { graphId, graph };
}
