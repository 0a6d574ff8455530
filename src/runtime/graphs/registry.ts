/**
 * The graph registry: loads the graphs a langgraph.json declares and hands out compiled graphs.
 * Pure: no HTTP, no storage. The server calls `loadGraphRegistry` once at startup (it fails fast
 * with a one-line message) and `resolveGraph` for every run.
 */
import type { BaseCheckpointSaver, BaseStore, LangGraphRunnableConfig } from "@langchain/langgraph";
import { readLanggraphConfig, resolveConfigEnv, type LanggraphConfig } from "./config.js";
import { applyEnv } from "./env.js";
import { GraphLoadError, GraphNotFoundError, oneLine } from "./errors.js";
import { defaultAssistantId } from "./ids.js";
import { loadGraphExport, toCompiledGraph, type AnyCompiledGraph, type ResolvedExport } from "./loader.js";

export interface GraphSpec {
  graphId: string;
  /** Absolute path of the module file. */
  path: string;
  /** Exported symbol ("default" when the import string has none). */
  exportName: string;
  description?: string;
  /** The import string as written in langgraph.json. */
  source: string;
  /** What the module exports: a compiled graph, an uncompiled builder, or a factory function. */
  kind: ResolvedExport["kind"];
  /** Id of the graph's default system assistant. */
  assistantId: string;
}

export interface ResolveGraphOptions {
  /**
   * Attach this checkpointer (`false`/`null`: none) to the returned graph. When `checkpointer`
   * or `store` is given, a copy of the graph is returned so the shared instance stays untouched.
   */
  checkpointer?: BaseCheckpointSaver | false | null;
  store?: BaseStore | null;
}

export interface GraphRegistry {
  /** Absolute path of the langgraph.json. */
  readonly configPath: string;
  /** The validated config (store, checkpointer, http... for other components). */
  readonly config: LanggraphConfig;
  /** Graph ids in declaration order. */
  readonly graphIds: readonly string[];
  /** Non-fatal problems met while loading (e.g. a missing .env file). */
  readonly warnings: readonly string[];
  has(graphId: string): boolean;
  /** Id of a graph's default system assistant (uuid5 of the id; defined for any string). */
  defaultAssistantId(graphId: string): string;
  /** A graph id stands for its default assistant wherever an assistant id is accepted. */
  assistantId(idOrGraphId: string): string;
  /** Whether the id is a served graph's id or the id of its default assistant. */
  isGraphAssistant(idOrGraphId: string): boolean;
  /** @throws GraphNotFoundError */
  spec(graphId: string): GraphSpec;
  /**
   * The compiled graph for a run. Factories are called with `config` (default
   * `{ configurable: {} }`) on every call; static exports return the same shared instance.
   * @throws GraphNotFoundError, GraphLoadError (factory failed or returned something else)
   */
  resolveGraph(graphId: string, config?: LangGraphRunnableConfig, options?: ResolveGraphOptions): Promise<AnyCompiledGraph>;
}

export interface LoadGraphRegistryOptions {
  /** Apply the config's `env` to process.env before importing graphs (default true). */
  applyEnv?: boolean;
  /** Whether the config's env overrides variables already set (default true, like `langgraph dev`). */
  overrideEnv?: boolean;
}

interface Entry {
  spec: GraphSpec;
  resolved: ResolvedExport;
}

function withResources(graph: AnyCompiledGraph, options: ResolveGraphOptions | undefined): AnyCompiledGraph {
  if (!options || (!("checkpointer" in options) && !("store" in options))) return graph;
  // withConfig() constructs a proper copy (Pregel has private methods, so no Object.create clone).
  const copy: AnyCompiledGraph = graph.withConfig({});
  if ("checkpointer" in options) copy.checkpointer = options.checkpointer ?? undefined;
  if ("store" in options) copy.store = options.store ?? undefined;
  return copy;
}

/**
 * Read langgraph.json (a file, or a folder containing one), apply its env, import every graph.
 * @throws GraphConfigError (bad config) or GraphLoadError (a graph failed to load); one-line messages.
 */
export async function loadGraphRegistry(configPath: string, options: LoadGraphRegistryOptions = {}): Promise<GraphRegistry> {
  const config = readLanggraphConfig(configPath);
  const warnings: string[] = [];

  if (options.applyEnv ?? true) {
    const env = resolveConfigEnv(config);
    warnings.push(...env.warnings);
    applyEnv(env.vars, { override: options.overrideEnv ?? true });
  }

  const entries = new Map<string, Entry>();
  for (const decl of Object.values(config.graphs)) {
    const resolved = await loadGraphExport(decl.graphId, decl.source, decl.file, decl.exportName);
    entries.set(decl.graphId, {
      resolved,
      spec: {
        graphId: decl.graphId,
        path: decl.file,
        exportName: decl.exportName,
        ...(decl.description !== undefined ? { description: decl.description } : {}),
        source: decl.source,
        kind: resolved.kind,
        assistantId: defaultAssistantId(decl.graphId),
      },
    });
  }

  const get = (graphId: string): Entry => {
    const entry = entries.get(graphId);
    if (!entry) throw new GraphNotFoundError(graphId);
    return entry;
  };

  const defaultIds = new Set([...entries.values()].map((entry) => entry.spec.assistantId));

  return {
    configPath: config.configPath,
    config,
    graphIds: Object.freeze([...entries.keys()]),
    warnings: Object.freeze(warnings),
    has: (graphId) => entries.has(graphId),
    defaultAssistantId,
    assistantId: (idOrGraphId) => (entries.has(idOrGraphId) ? defaultAssistantId(idOrGraphId) : idOrGraphId),
    isGraphAssistant: (idOrGraphId) => entries.has(idOrGraphId) || defaultIds.has(idOrGraphId),
    spec: (graphId) => ({ ...get(graphId).spec }),
    async resolveGraph(graphId, runConfig, resolveOptions) {
      const { spec, resolved } = get(graphId);
      if (resolved.kind !== "factory") return withResources(resolved.graph, resolveOptions);

      const factoryConfig: LangGraphRunnableConfig = { ...runConfig, configurable: { ...runConfig?.configurable } };
      let produced: unknown;
      try {
        produced = await resolved.factory(factoryConfig);
      } catch (e) {
        throw new GraphLoadError(graphId, spec.source, `factory "${spec.exportName}" threw: ${oneLine(e instanceof Error ? e.message : String(e))}`, {
          cause: e,
        });
      }
      try {
        const { graph } = await toCompiledGraph(produced);
        return withResources(graph, resolveOptions);
      } catch (e) {
        throw new GraphLoadError(graphId, spec.source, `factory "${spec.exportName}" returned ${oneLine((e as Error).message)}`, {
          cause: e,
        });
      }
    },
  };
}
