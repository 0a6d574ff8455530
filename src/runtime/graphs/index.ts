export { loadGraphRegistry } from "./registry.js";
export type { GraphRegistry, GraphSpec, LoadGraphRegistryOptions, ResolveGraphOptions } from "./registry.js";
export { defaultAssistantId, GRAPH_ASSISTANT_NAMESPACE } from "./ids.js";
export { parseLanggraphConfig, readLanggraphConfig, resolveConfigEnv, splitImportString } from "./config.js";
export type {
  AuthConfig,
  CheckpointerConfig,
  CheckpointerTTLConfig,
  CorsConfig,
  GraphDeclaration,
  HeaderFilterConfig,
  HttpConfig,
  LanggraphConfig,
  StoreConfig,
  StoreIndexConfig,
  StoreTTLConfig,
} from "./config.js";
export { applyEnv, parseDotenv } from "./env.js";
export { GraphConfigError, GraphLoadError, GraphNotFoundError } from "./errors.js";
export { ensureTypeScriptLoader, isCompiledGraph, isGraphBuilder } from "./loader.js";
export type { AnyCompiledGraph, GraphFactory } from "./loader.js";
