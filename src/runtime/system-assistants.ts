import { isDeepStrictEqual } from "node:util";
import type { GraphRegistry } from "./graphs/index.js";
import type { AssistantDefaults } from "./graphs/default-config.js";
import type { Storage } from "../storage/types.js";

/**
 * Every graph gets a default assistant with the id LangGraph servers derive from the graph id,
 * so clients can address a graph by name or by that id. Existing ones are left as they are,
 * except that `defaults` (LANGGRAPH_CONFIG) sets their config and context: a changed value
 * becomes a new version at startup.
 */
export async function ensureSystemAssistants(
  storage: Storage,
  graphs: GraphRegistry,
  defaults: Record<string, AssistantDefaults> = {},
): Promise<void> {
  for (const graphId of graphs.graphIds) {
    const spec = graphs.spec(graphId);
    const wanted = defaults[graphId];
    const assistant = await storage.assistants.create({
      assistant_id: graphs.defaultAssistantId(graphId),
      graph_id: graphId,
      name: graphId,
      description: spec.description ?? null,
      metadata: { created_by: "system" },
      ...(wanted ? { config: wanted.config, ...(wanted.context ? { context: wanted.context } : {}) } : {}),
      if_exists: "do_nothing",
    });
    if (!wanted) continue;
    const context = wanted.context ?? assistant.context ?? {};
    if (!isDeepStrictEqual(assistant.config, wanted.config) || !isDeepStrictEqual(assistant.context ?? {}, context)) {
      await storage.assistants.patch(assistant.assistant_id, { config: wanted.config, context });
    }
  }
}
