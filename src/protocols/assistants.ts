/** What the MCP and A2A endpoints need to know of an assistant. */
import type { GraphRegistry } from "../runtime/graphs/index.js";
import type { Assistant } from "../storage/types.js";

/** The assistant's description, else its graph's (from langgraph.json), else a generic one. */
export function assistantDescription(graphs: Pick<GraphRegistry, "spec">, assistant: Assistant): string {
  return assistant.description ?? graphs.spec(assistant.graph_id).description ?? `Runs the LangGraph graph '${assistant.graph_id}'.`;
}
