/**
 * langgraph.json: read, validate, normalise.
 *
 * Accepts the keys the LangGraph CLIs (Python langgraph-cli and @langchain/langgraph-cli) define.
 * The fields this server uses are validated in depth (graphs, env, store, checkpointer, http,
 * auth); build-only fields (dependencies, dockerfile_lines, python_version...) are type-checked
 * and passed through untouched. Unknown keys are rejected so typos ("graph", "stroe") fail fast.
 */
import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
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

// ---------------------------------------------------------------------------------------------
// Tiny validation helpers; every failure names the JSON path of the offending value.

class ShapeError extends Error {}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

function fail(at: string, expected: string, got: unknown): never {
  throw new ShapeError(`${at}: expected ${expected}, got ${describe(got)}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

type Check = (v: unknown, at: string) => void;

const str: Check = (v, at) => {
  if (typeof v !== "string") fail(at, "a string", v);
};
const nonEmptyStr: Check = (v, at) => {
  if (typeof v !== "string" || v.trim() === "") fail(at, "a non-empty string", v);
};
const bool: Check = (v, at) => {
  if (typeof v !== "boolean") fail(at, "a boolean", v);
};
const num: Check = (v, at) => {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) fail(at, "a non-negative number", v);
};
const int: Check = (v, at) => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(at, "a non-negative integer", v);
};
const posInt: Check = (v, at) => {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(at, "a positive integer", v);
};
const strArray: Check = (v, at) => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail(at, "an array of strings", v);
};
const anyObject: Check = (v, at) => {
  if (!isPlainObject(v)) fail(at, "an object", v);
};
const strMap: Check = (v, at) => {
  if (!isPlainObject(v)) fail(at, "an object of strings", v);
  for (const [k, x] of Object.entries(v)) if (typeof x !== "string") fail(`${at}.${k}`, "a string", x);
};
const oneOf =
  (...values: string[]): Check =>
  (v, at) => {
    if (typeof v !== "string" || !values.includes(v)) fail(at, `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`, v);
  };
const nullable =
  (check: Check): Check =>
  (v, at) => {
    if (v !== null) check(v, at);
  };
const either =
  (expected: string, ...checks: Check[]): Check =>
  (v, at) => {
    for (const c of checks) {
      try {
        c(v, at);
        return;
      } catch (e) {
        if (!(e instanceof ShapeError)) throw e;
      }
    }
    fail(at, expected, v);
  };

/** An object with known keys only; `required` keys must be present. */
function shape(fields: Record<string, Check>, required: string[] = []): Check {
  return (v, at) => {
    if (!isPlainObject(v)) fail(at, "an object", v);
    for (const key of Object.keys(v)) {
      if (!(key in fields)) {
        throw new ShapeError(`${at}: unknown key "${key}" (allowed: ${Object.keys(fields).join(", ")})`);
      }
    }
    for (const key of required) {
      if (!(key in v)) throw new ShapeError(`${at}: missing required key "${key}"`);
    }
    for (const [key, check] of Object.entries(fields)) {
      if (key in v && v[key] !== undefined) check(v[key], `${at}.${key}`);
    }
  };
}

const storeShape = shape({
  index: nullable(
    shape({ dims: posInt, embed: nonEmptyStr, fields: nullable(strArray) }, ["dims", "embed"]),
  ),
  ttl: nullable(
    shape({ refresh_on_read: bool, default_ttl: nullable(num), sweep_interval_minutes: nullable(int) }),
  ),
});

const checkpointerShape = shape({
  path: nonEmptyStr,
  ttl: nullable(
    shape({
      strategy: oneOf("delete", "keep_latest"),
      default_ttl: nullable(num),
      sweep_interval_minutes: nullable(int),
      sweep_limit: nullable(posInt),
    }),
  ),
  serde: nullable(anyObject),
});

const headerFilter = nullable(shape({ includes: nullable(strArray), excludes: nullable(strArray) }));

const httpShape = shape({
  app: nonEmptyStr,
  disable_assistants: bool,
  disable_threads: bool,
  disable_runs: bool,
  disable_store: bool,
  disable_mcp: bool,
  disable_a2a: bool,
  disable_meta: bool,
  disable_ui: bool,
  disable_webhooks: bool,
  cors: nullable(
    shape({
      allow_origins: strArray,
      allow_methods: strArray,
      allow_headers: strArray,
      allow_credentials: bool,
      allow_origin_regex: str,
      expose_headers: strArray,
      max_age: int,
    }),
  ),
  configurable_headers: headerFilter,
  logging_headers: headerFilter,
  middleware_order: nullable(oneOf("auth_first", "middleware_first")),
  enable_custom_route_auth: bool,
  mount_prefix: str,
});

const authShape = shape({
  path: nonEmptyStr,
  disable_studio_auth: bool,
  openapi: anyObject,
  cache: shape({ cache_keys: strArray, ttl_seconds: int, max_size: int }),
});

/** Every top-level key the LangGraph CLIs know. Build-only keys are checked for type only. */
const TOP_LEVEL: Record<string, Check> = {
  $schema: str,
  graphs: () => {}, // validated separately (needs normalisation)
  env: () => {}, // validated separately
  store: nullable(storeShape),
  checkpointer: nullable(checkpointerShape),
  http: nullable(httpShape),
  auth: nullable(authShape),
  encryption: nullable(shape({ path: nonEmptyStr })),
  webhooks: nullable(anyObject),
  ui: nullable(strMap),
  ui_config: nullable(shape({ shared: strArray })),
  dependencies: strArray,
  dockerfile_lines: strArray,
  docker_compose_file: str,
  python_version: str,
  node_version: nullable(either("a string or number", str, num)),
  api_version: nullable(str),
  base_image: nullable(str),
  image_distro: nullable(str),
  pip_config_file: nullable(str),
  pip_installer: nullable(str),
  keep_pkg_tools: nullable(either("a boolean or an array of strings", bool, strArray)),
  _INTERNAL_docker_tag: nullable(str),
};

// ---------------------------------------------------------------------------------------------

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

function parseGraphs(value: unknown, configDir: string): Record<string, GraphDeclaration> {
  if (value === undefined) throw new ShapeError(`missing required key "graphs"`);
  if (!isPlainObject(value)) fail("graphs", 'an object mapping graph ids to "<file>:<export>"', value);
  const entries = Object.entries(value);
  if (entries.length === 0) throw new ShapeError("graphs: no graphs declared");
  const out: Record<string, GraphDeclaration> = {};
  for (const [graphId, decl] of entries) {
    const at = `graphs.${graphId}`;
    if (graphId.trim() === "") throw new ShapeError(`graphs: graph id must be a non-empty string`);
    let source: string;
    let description: string | undefined;
    if (typeof decl === "string") {
      source = decl;
    } else if (isPlainObject(decl)) {
      shape({ path: nonEmptyStr, description: nullable(str) }, ["path"])(decl, at);
      source = decl.path as string;
      description = (decl.description as string | null | undefined) ?? undefined;
    } else {
      fail(at, '"<file>:<export>" or {"path": "<file>:<export>", "description": "..."}', decl);
    }
    if (source.trim() === "") fail(at, 'a non-empty "<file>:<export>" string', source);
    const { file, exportName } = splitImportString(source.trim());
    if (file.trim() === "") fail(at, 'a "<file>:<export>" string with a file part', source);
    if (PYTHON_EXTENSIONS.has(path.extname(file).toLowerCase())) {
      throw new ShapeError(`${at}: Python graphs are not supported by this server (${source})`);
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

function parseEnv(value: unknown): string | Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") {
    if (value.trim() === "") fail("env", "a .env file path or an object of strings", value);
    return value;
  }
  if (Array.isArray(value)) {
    throw new ShapeError(
      "env: a list of variable names is not supported; use a .env file path or an object of strings",
    );
  }
  if (!isPlainObject(value)) fail("env", "a .env file path or an object of strings", value);
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(`env.${k}`, "a string", v);
    vars[k] = v;
  }
  return vars;
}

/** Validate an already-parsed langgraph.json object. `configPath` anchors relative paths. */
export function parseLanggraphConfig(raw: unknown, configPath: string): LanggraphConfig {
  const absPath = path.resolve(configPath);
  const configDir = path.dirname(absPath);
  try {
    if (!isPlainObject(raw)) fail("top level", "a JSON object", raw);
    for (const key of Object.keys(raw)) {
      if (!(key in TOP_LEVEL)) {
        throw new ShapeError(`unknown top-level key "${key}" (allowed: ${Object.keys(TOP_LEVEL).join(", ")})`);
      }
    }
    for (const [key, check] of Object.entries(TOP_LEVEL)) {
      if (key in raw && raw[key] !== undefined) check(raw[key], key);
    }
    const graphs = parseGraphs(raw.graphs, configDir);
    const env = parseEnv(raw.env);
    const pick = <T>(key: string) => (key in raw ? (raw[key] as T) : undefined);
    const config: LanggraphConfig = { configPath: absPath, configDir, graphs, raw };
    if (env !== undefined) config.env = env;
    if (typeof env === "string") config.envFile = path.resolve(configDir, env);
    for (const key of ["store", "checkpointer", "http", "auth", "encryption", "webhooks", "ui", "ui_config"] as const) {
      const v = pick<never>(key);
      if (v !== undefined) config[key] = v;
    }
    return config;
  } catch (e) {
    if (e instanceof ShapeError) throw new GraphConfigError(absPath, e.message);
    throw e;
  }
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
