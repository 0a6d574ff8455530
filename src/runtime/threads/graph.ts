/**
 * The graph that owns a thread's state. A thread learns its graph from its metadata: `graph_id`
 * (the SDK's `threads.create({graphId})` puts it there, and runs set it), else the graph of the
 * assistant named by `assistant_id`. It is built with the server's checkpointer and store, and
 * with the thread's config (graph factories receive it).
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { Storage } from "../../storage/types.js";
import type { StorageCheckpointSaver } from "../checkpointer.js";
import type { GraphRegistry } from "../graphs/index.js";
import type { ServerStore } from "../store/index.js";
import { NotFoundError } from "../../storage/errors.js";
import type { Scope, Thread } from "../../storage/types.js";
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

/** The id of the thread's graph, or null while it has none. */
async function graphIdOf(services: ThreadGraphDeps, thread: Thread, scope: Scope): Promise<string | null> {
  const { graph_id: graphId, assistant_id: assistantId } = thread.metadata ?? {};
  if (typeof graphId === "string" && graphId !== "") return graphId;
  if (typeof assistantId !== "string" || assistantId === "") return null;
  try {
    return (await services.storage.assistants.get(assistantId, scope)).graph_id;
  } catch (error) {
    // An assistant deleted since: the thread no longer names a graph.
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

/** The thread's graph with the server's checkpointer, or null when the thread has no graph yet. */
export async function threadGraph(services: ThreadGraphDeps, thread: Thread, scope: Scope): Promise<ThreadGraph | null> {
  const graphId = await graphIdOf(services, thread, scope);
  if (graphId === null) return null;
  const graph = await graphFor(services.graphs, graphId, (thread.config ?? {}) as LangGraphRunnableConfig, `thread '${thread.thread_id}'`, {
    checkpointer: services.checkpointer,
    store: services.store,
  });
  return { graphId, graph };
}
