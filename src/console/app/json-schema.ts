/**
 * What the console needs of JSON Schema: following local `$ref`s, checking a value against the
 * graph's schemas (the keywords the schemas LangGraph derives from graphs use), and an example
 * value to start from. Compiled validators (ajv) would need `eval`, which the console's
 * Content-Security-Policy forbids.
 */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  /** One schema for every item, or (draft-07 tuples) one per position. */
  items?: Schema | Schema[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
  title?: string;
  description?: string;
  default?: unknown;
  definitions?: Record<string, Schema>;
  $defs?: Record<string, Schema>;
}

/** `#/definitions/X`, `#/$defs/X` (any JSON pointer into the root). */
export function resolve(schema: Schema, root: Schema): Schema {
  let current = schema;
  for (let depth = 0; current.$ref && depth < 32; depth++) {
    const ref = current.$ref;
    if (!ref.startsWith("#")) return {};
    let target: unknown = root;
    for (const part of ref.slice(1).split("/").filter(Boolean)) {
      target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    current = (target as Schema | undefined) ?? {};
  }
  return current;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  if (type === "integer") return Number.isInteger(value);
  return actual === type;
}

/** Every way `value` breaks `schema`, as `path: problem` lines (empty when it conforms). */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = "$"): string[] {
  const s = resolve(schema, root);
  const problems: string[] = [];
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.length > 0 && !types.some((type) => hasType(value, type))) {
    return [`${path}: expected ${types.join(" or ")}, got ${typeOf(value)}`];
  }
  if (s.enum && !s.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    problems.push(`${path}: must be one of ${s.enum.map((option) => JSON.stringify(option)).join(", ")}`);
  }
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(value)) problems.push(`${path}: must be ${JSON.stringify(s.const)}`);
  for (const part of s.allOf ?? []) problems.push(...validate(value, part, root, path));
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives && !alternatives.some((option) => validate(value, option, root, path).length === 0)) {
    problems.push(`${path}: matches none of the ${alternatives.length} allowed shapes`);
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in object)) problems.push(`${path}.${key}: required`);
    for (const [key, item] of Object.entries(object)) {
      const property = s.properties?.[key];
      if (property) problems.push(...validate(item, property, root, `${path}.${key}`));
      else if (s.additionalProperties === false) problems.push(`${path}.${key}: not allowed`);
      else if (typeof s.additionalProperties === "object") problems.push(...validate(item, s.additionalProperties, root, `${path}.${key}`));
    }
  }
  if (Array.isArray(value) && s.items) {
    const items = s.items;
    value.forEach((item, index) => {
      const itemSchema = Array.isArray(items) ? items[index] : items;
      if (itemSchema) problems.push(...validate(item, itemSchema, root, `${path}[${index}]`));
    });
  }
  return problems;
}

/** The fields of an object schema (after `$ref`s), or none when the schema is not an object with properties. */
export function objectProperties(schema: Schema | null | undefined): Array<[string, Schema]> {
  if (!schema) return [];
  const s = resolve(schema, schema);
  return Object.entries(s.properties ?? {});
}
