import type { GraphRegistry } from "./graphs/index.js";
import type { Storage } from "../storage/types.js";

/**
 * Every graph gets a default assistant with the id LangGraph servers derive from the graph id,
 * so clients can address a graph by name or by that id. Existing ones are left as they are.
 */
export async function ensureSystemAssistants(storage: Storage, graphs: GraphRegistry): Promise<void> {
  for (const graphId of graphs.graphIds) {
    const spec = graphs.spec(graphId);
    await storage.assistants.create({
      assistant_id: graphs.defaultAssistantId(graphId),
      graph_id: graphId,
      name: graphId,
      description: spec.description ?? null,
      metadata: { created_by: "system" },
      if_exists: "do_nothing",
    });
  }
}
