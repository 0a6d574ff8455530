/**
 * Assistant introspection: the drawable graph, the graph's JSON Schemas and its subgraphs' schemas,
 * for GET /assistants/{id}/graph, /schemas and /subgraphs. The graph is built the way a run
 * builds it (factories get the assistant's config), so what is described is what would run.
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { components } from "../../../generated/openapi.js";
import type { Logger } from "pino";
import type { AnyCompiledGraph, GraphRegistry } from "../graphs/index.js";
import { graphFor } from "../graph-for.js";
import { carriesAllSchemas, graphSchemas, stateChannelNames, type GraphSchemas } from "./schemas.js";
import { staticSchemaIndex, staticSchemasByInstance } from "./static.js";
import type { StaticGraphSchemas, StaticSchemaIndex } from "./types.js";

type Assistant = components["schemas"]["Assistant"];
type AssistantGraph = components["schemas"]["AssistantGraph"];
type GraphSchema = components["schemas"]["GraphSchema"];
type Subgraphs = components["schemas"]["Subgraphs"];
type SubgraphSchema = components["schemas"]["SubgraphSchema"];

/** What introspection needs: the graphs, and a logger for schema extraction problems. */
export interface IntrospectionDeps {
  graphs: GraphRegistry;
  logger: Logger;
}

const runnableConfig = (assistant: Assistant) => assistant.config as LangGraphRunnableConfig;

function buildGraph(services: IntrospectionDeps, assistant: Assistant): Promise<AnyCompiledGraph> {
  return graphFor(services.graphs, assistant.graph_id, runnableConfig(assistant), `assistant '${assistant.assistant_id}'`);
}

/** `xray`: `true` expands every level of subgraphs, a number that many levels, 0/false none. */
export async function drawAssistantGraph(services: IntrospectionDeps, assistant: Assistant, xray: boolean | number = false): Promise<AssistantGraph> {
  const graph = await buildGraph(services, assistant);
  const drawable = await graph.getGraphAsync({ ...runnableConfig(assistant), xray });
  // the JSON the client receives: fields left undefined by the drawer are absent, not present-but-undefined
  return JSON.parse(JSON.stringify(drawable.toJSON())) as AssistantGraph;
}

export async function assistantSchemas(services: IntrospectionDeps, assistant: Assistant): Promise<GraphSchema> {
  const graph = await buildGraph(services, assistant);
  const spec = services.graphs.spec(assistant.graph_id);
  // the types are read in the background at startup: a graph that needs none answers at once
  const index = carriesAllSchemas(graph) ? undefined : await staticSchemaIndex(services.graphs, services.logger);
  return { graph_id: assistant.graph_id, ...graphSchemas(graph, index?.exports[spec.path]?.[spec.exportName]) };
}

/** A subgraph's schemas in the official LangGraph.js servers' shape: unknown ones are absent. */
function subgraphSchema(schemas: GraphSchemas): SubgraphSchema {
  const slots = { input: schemas.input_schema, output: schemas.output_schema, state: schemas.state_schema, config: schemas.config_schema };
  return Object.fromEntries(Object.entries(slots).filter(([, schema]) => schema != null));
}

/**
 * The static schemas of a subgraph no module exports, from the `addNode` that added it: a graph
 * added under the namespace's last node name whose state has the subgraph's channels.
 */
function addedAsNode(index: StaticSchemaIndex, namespace: string, subgraph: object): StaticGraphSchemas | undefined {
  const channels = stateChannelNames(subgraph);
  if (!channels) return undefined;
  const wanted = [...channels].sort().join("\n");
  const candidates = index.subgraphNodes[namespace.split("|").at(-1)!] ?? [];
  return candidates.find(
    (schemas) =>
      Object.keys(schemas.state?.properties ?? {})
        .sort()
        .join("\n") === wanted,
  );
}

/**
 * The schemas of the graph's subgraphs by namespace (`parent|child` for nested ones, with
 * `recurse`). With `namespace`, only the subgraph at exactly that namespace, as LangGraph's
 * getSubgraphs selects it; none there is an empty map, as the official servers answer.
 */
export async function assistantSubgraphs(
  services: IntrospectionDeps,
  assistant: Assistant,
  options: { namespace?: string; recurse?: boolean },
): Promise<Subgraphs> {
  const graph = await buildGraph(services, assistant);
  const index = await staticSchemaIndex(services.graphs, services.logger);
  const typed = index ? await staticSchemasByInstance(index) : new Map();
  const result: Subgraphs = {};
  for await (const [namespace, subgraph] of graph.getSubgraphsAsync(options.namespace, options.recurse ?? false)) {
    const statics = typed.get(subgraph) ?? (index && addedAsNode(index, namespace, subgraph));
    result[namespace] = subgraphSchema(graphSchemas(subgraph, statics));
  }
  return result;
}
