/**
 * The graph that owns a thread's state. A thread learns its graph from its metadata: `graph_id`
 * (the SDK's `threads.create({graphId})` puts it there, and runs set it), else the graph of the
 * assistant named by `assistant_id`. It is built with the server's checkpointer and store, and
 * with the thread's config (graph factories receive it).
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { HttpError } from "../http/errors.js";
import type { Services } from "../services.js";
import { NotFoundError } from "../storage/errors.js";
import type { Scope, Thread } from "../storage/types.js";
import { GraphLoadError, GraphNotFoundError, type AnyCompiledGraph } from "./graphs/index.js";

export interface ThreadGraph {
  graphId: string;
  graph: AnyCompiledGraph;
}

/** The id of the thread's graph, or null while it has none. */
async function graphIdOf(services: Services, thread: Thread, scope: Scope): Promise<string | null> {
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
export async function threadGraph(services: Services, thread: Thread, scope: Scope): Promise<ThreadGraph | null> {
  const graphId = await graphIdOf(services, thread, scope);
  if (graphId === null) return null;
  try {
    const graph = await services.graphs.resolveGraph(graphId, (thread.config ?? {}) as LangGraphRunnableConfig, {
      checkpointer: services.checkpointer,
      store: services.store,
    });
    return { graphId, graph };
  } catch (error) {
    if (error instanceof GraphNotFoundError) {
      throw new HttpError(404, `Graph '${graphId}' of thread '${thread.thread_id}' is not served by this server`);
    }
    // A factory that rejects the thread's config: the thread, not the server, is at fault.
    if (error instanceof GraphLoadError) {
      throw new HttpError(422, `The graph of thread '${thread.thread_id}' cannot be built with its config: ${error.message}`);
    }
    throw error;
  }
}
