import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { invalid, notFound } from "../errors.js";
import { GraphLoadError, GraphNotFoundError, type AnyCompiledGraph, type GraphRegistry, type ResolveGraphOptions } from "./graphs/index.js";

/**
 * Builds a graph on behalf of a record that names it (`assistant '…'`, `thread '…'`), turning the
 * registry's failures into answers about that record: a graph this server no longer serves is a
 * 404, and a factory that rejects the record's config is the record's fault, a 422.
 */
export async function graphFor(
  graphs: GraphRegistry,
  graphId: string,
  config: LangGraphRunnableConfig,
  owner: string,
  options?: ResolveGraphOptions,
): Promise<AnyCompiledGraph> {
  try {
    return await graphs.resolveGraph(graphId, config, options);
  } catch (error) {
    if (error instanceof GraphNotFoundError) {
      throw notFound(`Graph '${graphId}' of ${owner} is not served by this server`);
    }
    if (error instanceof GraphLoadError) {
      throw invalid(`The graph of ${owner} cannot be built with its config: ${error.message}`);
    }
    throw error;
  }
}
