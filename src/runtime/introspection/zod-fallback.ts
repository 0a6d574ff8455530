/**
 * LangGraph's schema converters give up on a whole zod schema when one field has no JSON Schema
 * (`z.custom`, as message channels registered with `MessagesZodMeta` are): the schema, and with
 * it the registry metadata Studio reads (`langgraph_type: "messages"`), would be lost. This
 * converts such schemas again with the unrepresentable fields left open (`{}`), keeping the
 * metadata and the declared order of enums.
 */
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { META_EXTRAS_DESCRIPTION_PREFIX, schemaMetaRegistry } from "@langchain/langgraph/zod";
import type { JsonSchema } from "./json-schema.js";

type ChannelEffects = Parameters<typeof schemaMetaRegistry.getExtendedChannelSchemas>[1];
type ZodObjectLike = Parameters<typeof schemaMetaRegistry.getExtendedChannelSchemas>[0];

/** Registry metadata travels as a `lg:{json}` description; it becomes the schema's own keys. */
function withExtras(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withExtras);
  if (schema === null || typeof schema !== "object") return schema;
  const { description, ...rest } = schema as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, withExtras(value)]));
  if (typeof description === "string" && description.startsWith(META_EXTRAS_DESCRIPTION_PREFIX)) {
    return { ...converted, ...(JSON.parse(description.slice(META_EXTRAS_DESCRIPTION_PREFIX.length)) as object) };
  }
  return description === undefined ? converted : { ...converted, description };
}

/** The JSON Schema of a zod object of channels, or undefined when it is none or still cannot convert. */
export function tolerantZodSchema(definition: unknown, effects: ChannelEffects): JsonSchema | undefined {
  if (definition === null || typeof definition !== "object") return undefined;
  try {
    const extended = schemaMetaRegistry.getExtendedChannelSchemas(definition as ZodObjectLike, {
      ...effects,
      withJsonSchemaExtrasAsDescription: true,
    });
    return withExtras(toJsonSchema(extended, { unrepresentable: "any" } as never)) as JsonSchema;
  } catch {
    return undefined;
  }
}
