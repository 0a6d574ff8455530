import { notFound } from "../errors.js";
import { NotFoundError } from "../storage/errors.js";
import type { Assistant, Scope, Storage } from "../storage/types.js";
import type { GraphRegistry } from "./graphs/index.js";

/** What finding a served assistant needs. */
export interface AssistantLookupDeps {
  storage: Storage;
  graphs: GraphRegistry;
}

/** The assistant named by an id or a graph id (its default assistant); 404 when missing or its graph is not served. */
export async function servedAssistant(services: AssistantLookupDeps, id: string, scope: Scope): Promise<Assistant> {
  const assistant = await services.storage.assistants.get(services.graphs.assistantId(id), scope).catch((error: unknown) => {
    // the official servers' words, which clients match: the id may have meant either
    if (error instanceof NotFoundError) throw notFound(`No assistant found for '${id}': neither an assistant id nor a graph id this server serves`);
    throw error;
  });
  if (!services.graphs.has(assistant.graph_id)) {
    throw notFound(`Graph '${assistant.graph_id}' of assistant '${assistant.assistant_id}' is not served by this server`);
  }
  return assistant;
}
