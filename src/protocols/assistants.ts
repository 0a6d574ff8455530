/** What the MCP and A2A endpoints need to know of an assistant. */
import type { Services } from "../services.js";
import type { Assistant } from "../storage/types.js";

/** The assistant's description, else its graph's (from langgraph.json), else a generic one. */
export function assistantDescription(services: Services, assistant: Assistant): string {
  return assistant.description ?? services.graphs.spec(assistant.graph_id).description ?? `Runs the LangGraph graph '${assistant.graph_id}'.`;
}
