/**
 * `LANGGRAPH_CONFIG`: per-graph config and context of the default assistants, as LangGraph
 * servers read it: `{"<graph_id>": {"configurable": {...}, "tags": [...], ..., "context": {...}}}`.
 */
import type { Config, Context } from "../../storage/records.js";

export interface AssistantDefaults {
  config: Config;
  context?: Context;
}

export class DefaultConfigError extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The defaults by graph id; {} when the variable is unset or empty.
 * @throws DefaultConfigError (one line naming the offending part)
 */
export function parseDefaultConfig(text: string | undefined, graphIds: readonly string[]): Record<string, AssistantDefaults> {
  if (text === undefined || text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DefaultConfigError(`LANGGRAPH_CONFIG: not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(parsed)) throw new DefaultConfigError("LANGGRAPH_CONFIG: expected a JSON object mapping graph ids to configs");
  const defaults: Record<string, AssistantDefaults> = {};
  for (const [graphId, entry] of Object.entries(parsed)) {
    if (!graphIds.includes(graphId)) {
      throw new DefaultConfigError(`LANGGRAPH_CONFIG.${graphId}: no such graph in langgraph.json (graphs: ${graphIds.join(", ")})`);
    }
    if (!isObject(entry)) throw new DefaultConfigError(`LANGGRAPH_CONFIG.${graphId}: expected an object (a config, with "context")`);
    const { context, ...config } = entry;
    if (context !== undefined && !isObject(context)) throw new DefaultConfigError(`LANGGRAPH_CONFIG.${graphId}.context: expected an object`);
    for (const key of ["configurable", "metadata"]) {
      if (config[key] !== undefined && !isObject(config[key])) throw new DefaultConfigError(`LANGGRAPH_CONFIG.${graphId}.${key}: expected an object`);
    }
    defaults[graphId] = { config: config, ...(context !== undefined ? { context: context } : {}) };
  }
  return defaults;
}
