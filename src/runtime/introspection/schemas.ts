/**
 * The JSON Schemas of a compiled graph (input, output, state, context), from two sources:
 *
 * - runtime: graphs declared with zod or StateSchema carry JSON Schemas (LangGraph's own
 *   converters, reducers and `withLangGraph` extras included); a StateGraph always carries the
 *   channel names of its state, input and output.
 * - static: the TypeScript types of the graph's export (types.ts), the only place
 *   the value types of an `Annotation` state, and any context schema not written in zod, exist.
 *
 * A runtime JSON Schema wins; otherwise a StateGraph's schema lists its channels, typed by the
 * static types where known. The top level has no `required`: any channel may be unset.
 */
import type { components } from "../../../generated/openapi.js";
import { getConfigTypeSchema, getInputTypeSchema, getOutputTypeSchema, getStateTypeSchema } from "@langchain/langgraph/zod/schema";
import { declaredContextSchema } from "../graphs/context-schema.js";
import type { JsonSchema } from "./json-schema.js";
import type { StaticGraphSchemas } from "./types.js";
import { tolerantZodSchema } from "./zod-fallback.js";

export type GraphSchemas = components["schemas"]["GraphSchemaNoId"];

type Slot = keyof StaticGraphSchemas;

interface ChannelDefinitions {
  _schemaDefinition?: Record<string, unknown>;
  _inputDefinition?: Record<string, unknown>;
  _outputDefinition?: Record<string, unknown>;
}

/** The dialect of the schemas read from TypeScript types, named at the root as the official servers do. */
const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

/** StateSchema gives every property its own `$schema`; a dialect belongs at the document root only. */
function withoutNestedDialects(schema: JsonSchema): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return schema;
  const cleaned = Object.entries(properties).map(([name, { $schema: _dialect, ...property }]) => [name, property]);
  return { ...schema, properties: Object.fromEntries(cleaned) };
}

interface RuntimeDefinitions {
  _schemaRuntimeDefinition?: unknown;
  _inputRuntimeDefinition?: unknown;
  _outputRuntimeDefinition?: unknown;
  _configRuntimeSchema?: unknown;
}

/**
 * The schemas the graph carries itself. LangGraph's converters throw on a schema with a field
 * JSON Schema cannot express; such zod schemas are converted again with that field left open.
 */
function runtimeSchemas(graph: object): Partial<Record<Slot, JsonSchema>> {
  const builder = (graph as { builder?: RuntimeDefinitions }).builder ?? {};
  const convert = (get: (graph: unknown) => unknown, fallback: () => JsonSchema | undefined): JsonSchema | undefined => {
    let schema: unknown;
    try {
      schema = get(graph);
    } catch {
      schema = fallback();
    }
    return typeof schema === "object" && schema !== null ? withoutNestedDialects(schema as JsonSchema) : undefined;
  };
  // an input "definition" that is not an object stands for the state's (LangGraph's partial marker)
  const input = typeof builder._inputRuntimeDefinition === "object" ? builder._inputRuntimeDefinition : builder._schemaRuntimeDefinition;
  return {
    input: convert(getInputTypeSchema, () => tolerantZodSchema(input, { withReducerSchema: true, asPartial: true })),
    output: convert(getOutputTypeSchema, () => tolerantZodSchema(builder._outputRuntimeDefinition, {})),
    state: convert(getStateTypeSchema, () => tolerantZodSchema(builder._schemaRuntimeDefinition, {})),
    context:
      convert(getConfigTypeSchema, () => tolerantZodSchema(builder._configRuntimeSchema, {})) ??
      convert(
        () => declaredContextJsonSchema((graph as { builder?: object }).builder),
        () => undefined,
      ),
  };
}

interface DeclaredSchema {
  getJsonSchema?: () => unknown;
  "~standard"?: { jsonSchema?: { input?: (options: { target: string }) => unknown } };
}

/**
 * A context schema LangGraph keeps no JSON Schema for: a StateSchema's own, or a Standard JSON
 * Schema's (valibot, arktype, ...). An Annotation context is left to the static types.
 */
function declaredContextJsonSchema(builder: object | undefined): unknown {
  const schema = declaredContextSchema(builder) as DeclaredSchema | undefined;
  try {
    if (typeof schema?.getJsonSchema === "function") return schema.getJsonSchema();
    const standard = schema?.["~standard"]?.jsonSchema?.input;
    if (typeof standard === "function") return standard({ target: "draft-2020-12" });
  } catch {
    // a schema JSON Schema cannot express: the static types may still describe it
  }
  return undefined;
}

/** Channel names of a StateGraph by role; undefined for other graphs (functional API, Graph). */
function channelNames(graph: object): Partial<Record<Slot, string[]>> | undefined {
  const builder = (graph as { builder?: ChannelDefinitions }).builder;
  if (!builder?._schemaDefinition) return undefined;
  const names = (definition: Record<string, unknown> | undefined) => Object.keys(definition ?? builder._schemaDefinition ?? {});
  return {
    state: names(builder._schemaDefinition),
    input: names(builder._inputDefinition),
    output: names(builder._outputDefinition),
  };
}

/** The state channel names of a StateGraph; undefined for other graphs. */
export function stateChannelNames(graph: object): string[] | undefined {
  return channelNames(graph)?.state;
}

function channelsSchema(names: string[], typed: JsonSchema | undefined): JsonSchema {
  const known = (typed?.properties ?? {}) as Record<string, JsonSchema>;
  const dialect = typed === undefined ? {} : { $schema: DRAFT_07 };
  return { ...dialect, type: "object", properties: Object.fromEntries(names.map((name) => [name, known[name] ?? {}])) };
}

/** Whether the graph carries every schema itself, so its TypeScript types would add nothing. */
export function carriesAllSchemas(graph: object): boolean {
  const runtime = runtimeSchemas(graph);
  return (["input", "output", "state", "context"] as const).every((slot) => runtime[slot] !== undefined);
}

export function graphSchemas(graph: object, statics: StaticGraphSchemas | undefined): GraphSchemas {
  const runtime = runtimeSchemas(graph);
  const channels = channelNames(graph);
  const pick = (slot: Slot): JsonSchema | null => {
    const names = channels?.[slot];
    const typed = statics?.[slot] && { $schema: DRAFT_07, ...statics[slot] };
    return runtime[slot] ?? (names ? channelsSchema(names, typed) : typed) ?? null;
  };
  // LangGraph.js has one schema for what arrives as `configurable` and as `context`
  const context = pick("context");
  return {
    input_schema: pick("input"),
    output_schema: pick("output"),
    state_schema: pick("state"),
    config_schema: context,
    context_schema: context,
  };
}
