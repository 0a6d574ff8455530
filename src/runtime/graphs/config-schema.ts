/**
 * langgraph.json checked against langgraph.schema.json (which documents every key), in one line
 * that names the offending key: first the shape (Ajv), then the keys this server refuses
 * (`x-refused` in the schema).
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { packageFile } from "../../package-files.js";

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  "x-expected"?: string;
  "x-messages"?: Record<string, string>;
  "x-refused"?: string;
  default?: unknown;
}

export const LANGGRAPH_SCHEMA = JSON.parse(readFileSync(packageFile("src/runtime/graphs/langgraph.schema.json"), "utf8")) as SchemaNode &
  Record<string, unknown>;

const ajv = new Ajv2020({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
(addFormats as unknown as (ajv: Ajv2020, formats: string[]) => void)(ajv, ["regex"]);
ajv.addVocabulary(["x-expected", "x-messages", "x-refused"]);
const validate = ajv.compile(LANGGRAPH_SCHEMA);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

const ARTICLE: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  null: "null",
};

/** `/http/cors/max_age` -> `http.cors.max_age`. */
const keyPath = (pointer: string) =>
  pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");

function message(error: ErrorObject): string {
  const at = keyPath(error.instancePath);
  const schema = (error.parentSchema ?? {}) as SchemaNode;
  const expectation = (fallback: string) => `${at || "top level"}: expected ${schema["x-expected"] ?? fallback}, got ${describe(error.data)}`;
  const custom = schema["x-messages"]?.[error.keyword];
  if (custom) return `${at}: ${custom}`;
  switch (error.keyword) {
    case "additionalProperties": {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(schema.properties ?? {}).join(", ");
      return at ? `${at}: unknown key "${key}" (allowed: ${allowed})` : `unknown top-level key "${key}" (allowed: ${allowed})`;
    }
    case "required": {
      const key = (error.params as { missingProperty: string }).missingProperty;
      return at ? `${at}: missing required key "${key}"` : `missing required key "${key}"`;
    }
    case "type": {
      const types = [(error.params as { type: string | string[] }).type].flat().filter((t) => t !== "null");
      return expectation(types.map((t) => ARTICLE[t] ?? t).join(" or "));
    }
    case "enum":
      return expectation(`one of ${(schema.enum ?? []).map((v) => JSON.stringify(v)).join(", ")}`);
    case "minLength":
    case "pattern":
      return expectation("a non-empty string");
    case "propertyNames":
      return `${at}: keys must be non-empty strings`;
    default:
      return expectation(error.message ?? "something else");
  }
}

/**
 * The first key the schema marks `x-refused` that is set, as "<key>: <why>". Null and the key's
 * default change nothing, so they pass.
 */
function refusedKey(value: unknown, schema: SchemaNode, at: string): string | undefined {
  if (value === null || value === undefined || value === schema.default) return undefined;
  if (schema["x-refused"]) return `${at}: ${schema["x-refused"]}; remove it to start this server`;
  if (typeof value !== "object" || Array.isArray(value) || !schema.properties) return undefined;
  for (const [key, child] of Object.entries(schema.properties)) {
    const found = refusedKey((value as Record<string, unknown>)[key], child, at ? `${at}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

/** What is wrong with a parsed langgraph.json, in one line naming the key; undefined when valid. */
export function configProblem(raw: unknown): string | undefined {
  if (!validate(raw)) return message(validate.errors![0]);
  return refusedKey(raw, LANGGRAPH_SCHEMA, "");
}
