import { v5 as uuidv5 } from "uuid";

/**
 * Namespace LangGraph servers use to derive the id of each graph's system assistant
 * (it is the RFC 4122 URL namespace). Both the Python and the JS LangGraph servers compute
 * `uuid5(graph_id, NAMESPACE_GRAPH)`, so clients that hard-code assistant ids keep working.
 */
export const GRAPH_ASSISTANT_NAMESPACE = "6ba7b821-9dad-11d1-80b4-00c04fd430c8";

/** Deterministic id of the default (system) assistant created for a graph. */
export function defaultAssistantId(graphId: string): string {
  return uuidv5(graphId, GRAPH_ASSISTANT_NAMESPACE);
}
