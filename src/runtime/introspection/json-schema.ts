/**
 * TypeScript type -> JSON Schema (draft-07), for the schemas of graphs whose state is declared
 * with `Annotation`: those carry no schema at runtime, only their TypeScript types do.
 *
 * The result describes the JSON a client sends or receives, not the TypeScript value: functions
 * and symbols are dropped, `Date` becomes a date-time string, and class instances (messages,
 * documents...) are opaque objects named after their class, since their JSON form is whatever
 * their serializer makes of them and expanding their members would describe methods and
 * internals instead.
 */
import ts from "typescript";

export type JsonSchema = Record<string, unknown>;

/** Nesting deeper than this is left as `{}` (any): deep library types would bloat the answer. */
const MAX_DEPTH = 8;

const PRIMITIVES = ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.BigIntLike;

const isFlag = (type: ts.Type, flag: ts.TypeFlags) => (type.flags & flag) !== 0;

export class TypeToJsonSchema {
  /** Types being expanded right now: a type met again inside itself is recursive. */
  private readonly expanding = new Set<ts.Type>();

  constructor(
    private readonly checker: ts.TypeChecker,
    /** Whether a declaration comes from a dependency (its classes stay opaque). */
    private readonly isLibraryFile: (file: ts.SourceFile) => boolean,
  ) {}

  convert(type: ts.Type, depth = 0): JsonSchema {
    if (depth > MAX_DEPTH) return {};
    if (isFlag(type, ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (isFlag(type, ts.TypeFlags.Never)) return { not: {} };
    if (isFlag(type, ts.TypeFlags.Null)) return { type: "null" };
    if (isFlag(type, ts.TypeFlags.StringLiteral)) return { type: "string", const: (type as ts.StringLiteralType).value };
    if (isFlag(type, ts.TypeFlags.NumberLiteral)) return { type: "number", const: (type as ts.NumberLiteralType).value };
    if (isFlag(type, ts.TypeFlags.BooleanLiteral)) return { type: "boolean", const: type === this.checker.getTrueType() };
    if (isFlag(type, ts.TypeFlags.StringLike | ts.TypeFlags.TemplateLiteral)) return { type: "string" };
    if (isFlag(type, ts.TypeFlags.NumberLike)) return { type: "number" };
    if (isFlag(type, ts.TypeFlags.BigIntLike)) return { type: "integer" };
    if (isFlag(type, ts.TypeFlags.Boolean)) return { type: "boolean" };
    if (type.isUnion()) return this.union(type, depth);
    // `string & {}` (how "one of these strings, or any string" is spelled) is a string
    const primitive = type.isIntersection() && type.types.find((t) => isFlag(t, PRIMITIVES));
    if (primitive) return this.convert(primitive, depth);
    if (!isFlag(type, ts.TypeFlags.Object | ts.TypeFlags.Intersection | ts.TypeFlags.NonPrimitive)) return {};
    if (this.expanding.has(type)) return {};
    this.expanding.add(type);
    try {
      return this.object(type, depth);
    } finally {
      this.expanding.delete(type);
    }
  }

  /** Whether a property may be absent: optional, or its type admits `undefined`. */
  private isOptional(symbol: ts.Symbol, type: ts.Type): boolean {
    if (symbol.flags & ts.SymbolFlags.Optional) return true;
    return type.isUnion() && type.types.some((t) => isFlag(t, ts.TypeFlags.Undefined | ts.TypeFlags.Void));
  }

  /** Property types of an object type that have a JSON form (no methods, no symbol keys). */
  private jsonProperties(type: ts.Type): Array<{ name: string; symbol: ts.Symbol; type: ts.Type }> {
    const result: Array<{ name: string; symbol: ts.Symbol; type: ts.Type }> = [];
    for (const symbol of this.checker.getPropertiesOfType(type)) {
      if (symbol.flags & ts.SymbolFlags.Method || symbol.escapedName.toString().startsWith("__@")) continue;
      const propType = this.checker.getTypeOfSymbol(symbol);
      if (this.isFunction(propType)) continue;
      result.push({ name: symbol.name, symbol, type: propType });
    }
    return result;
  }

  private union(type: ts.UnionType, depth: number): JsonSchema {
    const members = type.types.filter((t) => !isFlag(t, ts.TypeFlags.Undefined | ts.TypeFlags.Void) && !this.isFunction(t));
    // `boolean` is the union `true | false`; keep it one schema
    const hasTrue = members.some((t) => t === this.checker.getTrueType());
    const hasFalse = members.some((t) => t === this.checker.getFalseType());
    const rest = hasTrue && hasFalse ? members.filter((t) => !isFlag(t, ts.TypeFlags.BooleanLiteral)) : members;
    const schemas = rest.map((t) => this.convert(t, depth + 1));
    if (hasTrue && hasFalse) schemas.push({ type: "boolean" });
    return anyOf(schemas);
  }

  private object(type: ts.Type, depth: number): JsonSchema {
    const { checker } = this;
    if (checker.isArrayType(type) || isReadonlyArray(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference);
      return { type: "array", items: element ? this.convert(element, depth + 1) : {} };
    }
    if (checker.isTupleType(type)) {
      const elements = checker.getTypeArguments(type as ts.TypeReference).map((t) => this.convert(t, depth + 1));
      const tuple = (type as ts.TypeReference).target as ts.TupleType;
      return { type: "array", items: elements, minItems: tuple.minLength, ...(tuple.hasRestElement ? {} : { maxItems: elements.length }) };
    }
    const name = type.getSymbol()?.getName();
    if (name === "Date") return { type: "string", format: "date-time" };
    if (this.isFunction(type)) return {};
    if (this.isLibraryClass(type)) return { type: "object", title: name };

    const schema: JsonSchema = { type: "object" };
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const prop of this.jsonProperties(type)) {
      properties[prop.name] = { ...this.convert(prop.type, depth + 1), ...this.description(prop.symbol) };
      if (!this.isOptional(prop.symbol, prop.type)) required.push(prop.name);
    }
    if (Object.keys(properties).length) schema.properties = properties;
    if (required.length) schema.required = required;
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    if (index) schema.additionalProperties = this.convert(index.type, depth + 1);
    return schema;
  }

  /** The doc comment of a property declared in the graph project (library docs would bloat it). */
  description(symbol: ts.Symbol): { description?: string } {
    const declarations = symbol.getDeclarations() ?? [];
    if (declarations.length === 0 || declarations.some((d) => this.isLibraryFile(d.getSourceFile()))) return {};
    const text = ts.displayPartsToString(symbol.getDocumentationComment(this.checker)).trim();
    return text ? { description: text } : {};
  }

  private isFunction(type: ts.Type): boolean {
    return type.getCallSignatures().length > 0 && this.checker.getPropertiesOfType(type).length === 0;
  }

  /** An instance of a class declared in a dependency (BaseMessage, Document, ...). */
  private isLibraryClass(type: ts.Type): boolean {
    const declarations = type.getSymbol()?.getDeclarations() ?? [];
    return declarations.some((d) => ts.isClassDeclaration(d) && this.isLibraryFile(d.getSourceFile()));
  }
}

function isReadonlyArray(type: ts.Type): boolean {
  return type.getSymbol()?.getName() === "ReadonlyArray";
}

const isPlainType = (s: JsonSchema) => typeof s.type === "string" && Object.keys(s).length === 1;

/** One schema for alternatives: merged when they are all plain `type`s or all constants of one type. */
function anyOf(schemas: JsonSchema[]): JsonSchema {
  // TypeScript orders union members by internal id; null reads best last (`string | null`)
  const ordered = [...schemas.filter((s) => s.type !== "null"), ...schemas.filter((s) => s.type === "null")];
  const plainTypes = new Set(ordered.filter(isPlainType).map((s) => s.type));
  const unique = ordered.filter(
    (s, i) =>
      ordered.findIndex((o) => JSON.stringify(o) === JSON.stringify(s)) === i &&
      // a constant is redundant next to its whole type ("ai" | string)
      !("const" in s && plainTypes.has(s.type)),
  );
  if (unique.length === 0) return {};
  if (unique.length === 1) return unique[0];
  if (unique.some((s) => Object.keys(s).length === 0)) return {};
  const constants = unique.every((s) => "const" in s && Object.keys(s).length === 2);
  const types = new Set(unique.map((s) => s.type));
  // sorted, as the official servers list them (TypeScript's member order is an internal detail)
  if (constants && types.size === 1) return { type: unique[0].type, enum: unique.map((s) => s.const as string | number).sort() };
  if (unique.every(isPlainType)) return { type: [...types] };
  return { anyOf: unique };
}
