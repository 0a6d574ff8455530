/**
 * Importing graph modules and recognising what they export.
 */
import { existsSync, statSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { CompiledGraph, LangGraphRunnableConfig } from "@langchain/langgraph";
import { recordContextSchemas } from "./context-schema.js";
import { GraphLoadError, oneLine } from "./errors.js";
import { packageFile } from "../../package-files.js";

/** A compiled LangGraph graph (a Pregel instance: StateGraph.compile(), entrypoint(), ...). */
export type AnyCompiledGraph = CompiledGraph<string>;

/** A function exported in place of a graph; called with the run's config to build the graph. */
export type GraphFactory = (config: LangGraphRunnableConfig) => unknown;

export type ResolvedExport =
  { kind: "compiled"; graph: AnyCompiledGraph } | { kind: "builder"; graph: AnyCompiledGraph } | { kind: "factory"; factory: GraphFactory };

// ---------------------------------------------------------------------------------------------
// TypeScript support.

let tsLoader: Promise<"active" | "tsx-registered"> | undefined;

/**
 * Make sure `.ts` graph files can be imported. When the server runs under tsx (or vitest) a full
 * TypeScript loader is already active and nothing is done. Otherwise (e.g. plain `node` on a
 * runtime that only strips types, or a process that loaded the server through a namespaced
 * `tsImport`) tsx's ESM hooks are registered process-wide with `register()` from "tsx/esm/api".
 */
export function ensureTypeScriptLoader(): Promise<"active" | "tsx-registered"> {
  tsLoader ??= (async () => {
    const probe = pathToFileURL(packageFile("src/runtime/graphs/ts-probe/probe.ts")).href;
    try {
      await import(/* @vite-ignore */ probe);
      return "active" as const;
    } catch {
      // fall through: no (full) TypeScript loader
    }
    const { register } = await import("tsx/esm/api");
    register();
    try {
      // A query string gives a fresh module-map entry: the failed attempt above stays cached.
      await import(/* @vite-ignore */ `${probe}?after-tsx-register`);
    } catch (e) {
      throw new Error(`Cannot load TypeScript graph files: registering tsx failed (${oneLine(String(e))})`, {
        cause: e,
      });
    }
    return "tsx-registered" as const;
  })();
  return tsLoader;
}

// ---------------------------------------------------------------------------------------------
// Recognising graphs. Duck-typed rather than `instanceof`, so graphs built with another copy of
// @langchain/langgraph (a graph project with its own node_modules) are recognised too.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

export function isCompiledGraph(v: unknown): v is AnyCompiledGraph {
  if (!isObject(v)) return false;
  if (v.lg_is_pregel === true) return true;
  return typeof v.invoke === "function" && typeof v.stream === "function" && typeof v.getState === "function";
}

export function isGraphBuilder(v: unknown): v is { compile: (...args: unknown[]) => unknown } {
  return isObject(v) && typeof v.compile === "function" && !isCompiledGraph(v);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return isObject(v) && typeof v.then === "function";
}

/** Unwrap agent wrappers (e.g. langchain's createAgent) that expose the real graph as `.graph`. */
function unwrap(v: unknown): unknown {
  if (isObject(v) && !(v.lg_is_pregel === true) && isCompiledGraph(v.graph)) return v.graph;
  return v;
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (isObject(v)) {
    const ctor = (v as { constructor?: { name?: string } }).constructor?.name;
    return ctor && ctor !== "Object" ? `an instance of ${ctor}` : "a plain object";
  }
  return typeof v;
}

const EXPECTED = "expected a compiled graph, a StateGraph builder, or a function returning one";

/**
 * Turn a (possibly awaited) graph-ish value into a compiled graph; builders are compiled.
 * Throws a plain Error describing what was found; callers add graph id and path.
 */
export async function toCompiledGraph(value: unknown): Promise<{ kind: "compiled" | "builder"; graph: AnyCompiledGraph }> {
  let v = value;
  if (isThenable(v)) v = await v;
  v = unwrap(v);
  if (isCompiledGraph(v)) return { kind: "compiled", graph: v };
  if (isGraphBuilder(v)) {
    let compiled: unknown;
    try {
      compiled = unwrap(v.compile());
    } catch (e) {
      throw new Error(`a graph builder that failed to compile: ${oneLine(e instanceof Error ? e.message : String(e))}`, {
        cause: e,
      });
    }
    if (!isCompiledGraph(compiled)) {
      throw new Error(`a builder whose compile() returned ${describeValue(compiled)}, not a compiled graph`);
    }
    return { kind: "builder", graph: compiled };
  }
  throw new Error(`not a graph (got ${describeValue(v)}); ${EXPECTED}`);
}

/** Import the module of a graph and classify its export. */
export async function loadGraphExport(graphId: string, source: string, file: string, exportName: string): Promise<ResolvedExport> {
  if (!existsSync(file)) throw new GraphLoadError(graphId, source, `file not found: ${file}`);
  if (!statSync(file).isFile()) throw new GraphLoadError(graphId, source, `not a file: ${file}`);
  if (/\.(c|m)?tsx?$/i.test(file)) await ensureTypeScriptLoader();
  await recordContextSchemas(file);

  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new GraphLoadError(graphId, source, `import failed: ${oneLine(e instanceof Error ? e.message : String(e))}`, {
      cause: e,
    });
  }

  if (!(exportName in mod) || mod[exportName] === undefined) {
    const names = Object.keys(mod).filter((k) => k !== "__esModule");
    throw new GraphLoadError(graphId, source, `module has no export "${exportName}" (exports: ${names.length ? names.join(", ") : "none"})`);
  }
  const exported = mod[exportName];

  if (typeof exported === "function" && !isCompiledGraph(exported) && !isGraphBuilder(exported)) {
    return { kind: "factory", factory: exported as GraphFactory };
  }
  try {
    return await toCompiledGraph(exported);
  } catch (e) {
    throw new GraphLoadError(graphId, source, `export "${exportName}" is ${oneLine((e as Error).message)}`, { cause: e });
  }
}
