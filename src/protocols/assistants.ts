/** What the MCP and A2A endpoints need to know of an assistant. */
import { HttpError } from "../http/errors.js";
import type { Services } from "../services.js";
import type { Assistant, Scope } from "../storage/types.js";

/** The assistant's description, else its graph's (from langgraph.json), else a generic one. */
export function assistantDescription(services: Services, assistant: Assistant): string {
  return assistant.description ?? services.graphs.spec(assistant.graph_id).description ?? `Runs the LangGraph graph '${assistant.graph_id}'.`;
}

/** The assistant named by an id or a graph id (its default assistant); 404 when missing or its graph is not served. */
export async function servedAssistant(services: Services, id: string, scope: Scope): Promise<Assistant> {
  const assistantId = services.graphs.has(id) ? services.graphs.defaultAssistantId(id) : id;
  const assistant = await services.storage.assistants.get(assistantId, scope);
  if (!services.graphs.has(assistant.graph_id)) {
    throw new HttpError(404, `Graph '${assistant.graph_id}' of assistant '${assistant.assistant_id}' is not served by this server`);
  }
  return assistant;
}
