/**
 * A graph's declared `context` schema, for `context_schema`. LangGraph keeps it on the builder only
 * when it is zod: one declared with `StateSchema` (or another Standard Schema) is dropped at
 * construction, although the graph runs with it. So before a graph module loads, the StateGraph
 * of the @langchain/langgraph copy that module will use records every builder's context schema
 * (`declaredContextSchema`). Graphs of a LangGraph version without the hooked method simply
 * describe no such context.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const CONTEXT_SCHEMA = Symbol.for("lgts.graph.contextSchema");
const HOOKED = Symbol.for("lgts.graph.contextSchemaHooked");

interface StateGraphPrototype {
  _normalizeToStateGraphInit?: (...args: unknown[]) => { context?: unknown } | undefined;
  [HOOKED]?: boolean;
}

function hook(stateGraph: unknown): void {
  const prototype = (stateGraph as { prototype?: StateGraphPrototype } | undefined)?.prototype;
  const normalize = prototype?._normalizeToStateGraphInit;
  if (!prototype || typeof normalize !== "function" || prototype[HOOKED]) return;
  prototype._normalizeToStateGraphInit = function (this: object, ...args: unknown[]) {
    const init = normalize.apply(this, args);
    if (init?.context != null) Object.defineProperty(this, CONTEXT_SCHEMA, { value: init.context, configurable: true });
    return init;
  };
  prototype[HOOKED] = true;
}

/** Whether Node loads `file` as an ES module (its extension, else the nearest package.json's `type`). */
function loadsAsEsm(file: string): boolean {
  if (/\.(mjs|mts)$/i.test(file)) return true;
  if (/\.(cjs|cts)$/i.test(file)) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: string }).type === "module";
    if (path.dirname(dir) === dir) return false;
  }
}

/** The entry of `@langchain/langgraph` an ES module at `file` imports: the package's `import` export. */
function esmEntry(require: NodeJS.Require): string {
  const manifest = require.resolve("@langchain/langgraph/package.json");
  const root = (JSON.parse(readFileSync(manifest, "utf8")) as { exports: Record<string, { import?: string | { default?: string } }> }).exports["."]
    ?.import;
  const relative = typeof root === "string" ? root : root?.default;
  if (!relative) throw new Error("no ES module entry");
  return path.resolve(path.dirname(manifest), relative);
}

/** Hooks the StateGraph the graph module at `file` will construct its builders with. */
export async function recordContextSchemas(file: string): Promise<void> {
  const require = createRequire(file);
  try {
    const module = loadsAsEsm(file)
      ? ((await import(/* @vite-ignore */ pathToFileURL(esmEntry(require)).href)) as { StateGraph?: unknown })
      : (require("@langchain/langgraph") as { StateGraph?: unknown });
    hook(module.StateGraph);
  } catch {
    // the module does not use @langchain/langgraph from where it is: nothing to record
  }
}

/** The context schema a StateGraph builder was declared with, as given (undefined: none, or not recorded). */
export function declaredContextSchema(builder: object | undefined): unknown {
  return builder ? (builder as Record<symbol, unknown>)[CONTEXT_SCHEMA] : undefined;
}
