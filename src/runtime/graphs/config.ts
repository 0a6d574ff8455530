/**
 * langgraph.json: read, validate, normalise.
 *
 * langgraph.schema.json defines every key the LangGraph CLIs know, what each does here, and which
 * this server refuses (config-schema.ts checks it). Unknown keys are rejected so typos ("graph",
 * "stroe") fail fast. This module turns a valid file into the shapes the server uses.
 */
import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { configProblem } from "./config-schema.js";
import { GraphConfigError } from "./errors.js";
import { parseDotenv } from "./env.js";

export interface GraphDeclaration {
  graphId: string;
  /** The import string as written in langgraph.json, e.g. "./src/agent.ts:graph". */
  source: string;
  /** Absolute path of the graph's module file. */
  file: string;
  /** Exported symbol; "default" when the import string has no ":export" part. */
  exportName: string;
  description?: string;
}

export interface StoreIndexConfig {
  dims: number;
  embed: string;
  fields?: string[] | null;
}
export interface StoreTTLConfig {
  refresh_on_read?: boolean;
  default_ttl?: number | null;
  sweep_interval_minutes?: number | null;
}
export interface StoreConfig {
  index?: StoreIndexConfig | null;
  ttl?: StoreTTLConfig | null;
}
export interface CheckpointerTTLConfig {
  strategy?: "delete" | "keep_latest";
  default_ttl?: number | null;
  sweep_interval_minutes?: number | null;
  sweep_limit?: number | null;
}
export interface CheckpointerConfig {
  path?: string;
  ttl?: CheckpointerTTLConfig | null;
  serde?: Record<string, unknown> | null;
}
export interface CorsConfig {
  allow_origins?: string[];
  allow_methods?: string[];
  allow_headers?: string[];
  allow_credentials?: boolean;
  allow_origin_regex?: string;
  expose_headers?: string[];
  max_age?: number;
}
export interface HeaderFilterConfig {
  includes?: string[] | null;
  excludes?: string[] | null;
}
export interface HttpConfig {
  app?: string;
  disable_assistants?: boolean;
  disable_threads?: boolean;
  disable_runs?: boolean;
  disable_store?: boolean;
  disable_mcp?: boolean;
  disable_a2a?: boolean;
  disable_meta?: boolean;
  disable_ui?: boolean;
  disable_webhooks?: boolean;
  cors?: CorsConfig | null;
  configurable_headers?: HeaderFilterConfig | null;
  logging_headers?: HeaderFilterConfig | null;
  middleware_order?: "auth_first" | "middleware_first" | null;
  enable_custom_route_auth?: boolean;
  mount_prefix?: string;
}
export interface AuthConfig {
  path?: string;
  disable_studio_auth?: boolean;
  openapi?: Record<string, unknown>;
  cache?: { cache_keys?: string[]; ttl_seconds?: number; max_size?: number };
}

export interface LanggraphConfig {
  /** Absolute path of the langgraph.json file. */
  configPath: string;
  /** Folder of the config file; graph paths and the env file are relative to it. */
  configDir: string;
  graphs: Record<string, GraphDeclaration>;
  /** `env` as written: a .env path (relative to configDir) or a map of variables. */
  env?: string | Record<string, string>;
  /** Absolute path of the .env file when `env` is a string. */
  envFile?: string;
  store?: StoreConfig | null;
  checkpointer?: CheckpointerConfig | null;
  http?: HttpConfig | null;
  auth?: AuthConfig | null;
  encryption?: { path?: string } | null;
  webhooks?: Record<string, unknown> | null;
  ui?: Record<string, string> | null;
  /** `shared`: packages the UI bundles take from the host page instead of bundling them. */
  ui_config?: { shared?: string[] } | null;
  /** The parsed JSON, untouched, for fields not modelled here. */
  raw: Record<string, unknown>;
}

const PYTHON_EXTENSIONS = new Set([".py", ".pyx", ".pyd", ".pyi"]);

/** Split "path/to/file.ts:export" into file and export ("default" when there is no export). */
export function splitImportString(source: string): { file: string; exportName: string } {
  const idx = source.lastIndexOf(":");
  // A colon followed by a path (e.g. a Windows drive, "C:\\...") does not introduce an export.
  if (idx > 0 && !/[\\/]/.test(source.slice(idx + 1))) {
    const exportName = source.slice(idx + 1).trim();
    return { file: source.slice(0, idx), exportName: exportName === "" ? "default" : exportName };
  }
  return { file: source, exportName: "default" };
}

type GraphEntry = string | { path: string; description?: string | null };

/** Graph entries (already valid against the schema) as declarations with absolute files. */
function graphDeclarations(graphs: Record<string, GraphEntry>, configDir: string): Record<string, GraphDeclaration> {
  const out: Record<string, GraphDeclaration> = {};
  for (const [graphId, entry] of Object.entries(graphs)) {
    const source = typeof entry === "string" ? entry : entry.path;
    const description = typeof entry === "string" ? undefined : (entry.description ?? undefined);
    const { file, exportName } = splitImportString(source.trim());
    if (file.trim() === "")
      throw new GraphConfigErrorAt(`graphs.${graphId}: expected a "<file>:<export>" string with a file part, got ${JSON.stringify(source)}`);
    if (PYTHON_EXTENSIONS.has(path.extname(file).toLowerCase())) {
      throw new GraphConfigErrorAt(`graphs.${graphId}: Python graphs are not supported by this server (${source})`);
    }
    out[graphId] = {
      graphId,
      source,
      file: path.resolve(configDir, file),
      exportName,
      ...(description !== undefined ? { description } : {}),
    };
  }
  return out;
}

/** A problem found while normalising; becomes a GraphConfigError naming the file. */
class GraphConfigErrorAt extends Error {}

/** Validate an already-parsed langgraph.json object. `configPath` anchors relative paths. */
export function parseLanggraphConfig(raw: unknown, configPath: string): LanggraphConfig {
  const absPath = path.resolve(configPath);
  const configDir = path.dirname(absPath);
  const problem = configProblem(raw);
  if (problem) throw new GraphConfigError(absPath, problem);
  const json = raw as Record<string, unknown>;
  let graphs: Record<string, GraphDeclaration>;
  try {
    graphs = graphDeclarations(json.graphs as Record<string, GraphEntry>, configDir);
  } catch (e) {
    if (e instanceof GraphConfigErrorAt) throw new GraphConfigError(absPath, e.message);
    throw e;
  }
  const config: LanggraphConfig = { configPath: absPath, configDir, graphs, raw: json };
  const env = json.env as LanggraphConfig["env"] | null | undefined;
  if (env !== undefined && env !== null) config.env = env;
  if (typeof env === "string") config.envFile = path.resolve(configDir, env);
  for (const key of ["store", "checkpointer", "http", "auth", "encryption", "webhooks", "ui", "ui_config"] as const) {
    if (json[key] !== undefined) config[key] = json[key] as never;
  }
  return config;
}

/**
 * Read and validate a langgraph.json. `configPath` may be the file or a folder containing
 * `langgraph.json`.
 */
export function readLanggraphConfig(configPath: string): LanggraphConfig {
  let file = path.resolve(configPath);
  let text: string;
  try {
    if (statSync(file).isDirectory()) file = path.join(file, "langgraph.json");
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file not found" : `cannot read file (${code ?? String(e)})`;
    throw new GraphConfigError(file, why, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new GraphConfigError(file, `not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return parseLanggraphConfig(raw, file);
}

/**
 * The variables `env` declares. A missing .env file is not fatal (both LangGraph CLIs warn and
 * continue); it is reported in `warnings`.
 */
export function resolveConfigEnv(config: LanggraphConfig): { vars: Record<string, string>; warnings: string[] } {
  if (config.env === undefined) return { vars: {}, warnings: [] };
  if (typeof config.env !== "string") return { vars: { ...config.env }, warnings: [] };
  const envFile = config.envFile!;
  let text: string;
  try {
    text = readFileSync(envFile, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      return { vars: {}, warnings: [`env file "${config.env}" (${envFile}) not found; continuing without it`] };
    }
    throw new GraphConfigError(config.configPath, `env: cannot read ${envFile} (${code ?? String(e)})`, { cause: e });
  }
  return { vars: parseDotenv(text), warnings: [] };
}
