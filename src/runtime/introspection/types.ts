/**
 * Static schemas: JSON Schemas read from the TypeScript types of the graph modules' exports.
 *
 * Graphs whose state is declared with `Annotation` carry only channel names at runtime; the
 * value types of state, input, output and context exist only in the source. So the graph files
 * are type-checked with the compiler API (one program for all of them) and, for every export
 * that is (or builds, or is a function returning) a compiled graph, the types LangGraph itself
 * exposes for inference are converted: `~InputType` (what invoke accepts), `~OutputType`,
 * `~RunOutput` (the state) and the `context` of `withConfig` (the context/configurable type).
 *
 * Slow (about 2 s for the examples) and synchronous: run it in a worker (worker.ts).
 */
import path from "node:path";
import ts from "typescript";
import { TypeToJsonSchema, type JsonSchema } from "./json-schema.js";

/** JSON Schemas of one graph export; a key is absent when its type says nothing (any/unknown). */
export interface StaticGraphSchemas {
  input?: JsonSchema;
  output?: JsonSchema;
  state?: JsonSchema;
  context?: JsonSchema;
}

export interface StaticSchemaIndex {
  /** Absolute module path -> export name -> schemas. Exports that are not graphs are left out. */
  exports: Record<string, Record<string, StaticGraphSchemas>>;
  /**
   * Node name -> the schemas of compiled graphs added as a node of that name
   * (`.addNode("name", subgraph.compile())`) in the project's modules: how a subgraph no module
   * exports finds its types, as the official servers find them.
   */
  subgraphNodes: Record<string, StaticGraphSchemas[]>;
}

const DEFAULT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  esModuleInterop: true,
  strict: true,
};

/** The compiler options of the graph project: its tsconfig.json (if any), made analysis-only. */
export function compilerOptionsFor(projectDir: string): ts.CompilerOptions {
  const configFile = ts.findConfigFile(projectDir, ts.sys.fileExists);
  let options = DEFAULT_OPTIONS;
  if (configFile) {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configFile,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => {},
      },
    );
    if (parsed) options = parsed.options;
  }
  // strictNullChecks: without it `undefined` vanishes from types and no property looks optional
  return { ...options, noEmit: true, skipLibCheck: true, allowJs: true, strictNullChecks: true, incremental: false, composite: false };
}

export function extractStaticSchemas(files: readonly string[], projectDir: string): StaticSchemaIndex {
  const program = ts.createProgram({ rootNames: [...files], options: compilerOptionsFor(projectDir) });
  const checker = program.getTypeChecker();
  const converter = new TypeToJsonSchema(checker, (file) => program.isSourceFileFromExternalLibrary(file) || file.isDeclarationFile);
  const index: StaticSchemaIndex = { exports: {}, subgraphNodes: {} };
  for (const file of files) {
    const source = program.getSourceFile(path.resolve(file));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) continue;
    const graphs: Record<string, StaticGraphSchemas> = {};
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!(symbol.flags & ts.SymbolFlags.Value)) continue;
      const graph = compiledGraphType(checker, checker.getTypeOfSymbol(symbol));
      if (graph) graphs[exported.name] = schemasOf(checker, converter, graph);
    }
    index.exports[path.resolve(file)] = graphs;
  }
  for (const source of program.getSourceFiles()) {
    if (!program.isSourceFileFromExternalLibrary(source) && !source.isDeclarationFile)
      collectSubgraphNodes(checker, converter, source, index.subgraphNodes);
  }
  return index;
}

/** Every `x.addNode("name", graph)` of a module whose second argument is a compiled graph. */
function collectSubgraphNodes(
  checker: ts.TypeChecker,
  converter: TypeToJsonSchema,
  source: ts.SourceFile,
  into: Record<string, StaticGraphSchemas[]>,
): void {
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === "addNode") {
      const [name, action] = node.arguments;
      // a function written in place is a node, never a graph: typing it would check the whole
      // builder chain around it, doubling the analysis
      const inline = action && (ts.isArrowFunction(action) || ts.isFunctionExpression(action));
      const graph =
        name && action && !inline && ts.isStringLiteralLike(name) ? compiledGraphType(checker, checker.getTypeAtLocation(action)) : undefined;
      if (graph) (into[(name as ts.StringLiteralLike).text] ??= []).push(schemasOf(checker, converter, graph));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

function propertyType(checker: ts.TypeChecker, type: ts.Type, name: string): ts.Type | undefined {
  const symbol = checker.getPropertyOfType(type, name);
  return symbol && checker.getTypeOfSymbol(symbol);
}

/**
 * The compiled graph an export stands for, following what the registry accepts: a compiled graph,
 * a promise of one, a builder (its `compile()`), an agent wrapper (its `.graph`), or a factory
 * (its awaited result).
 */
function compiledGraphType(checker: ts.TypeChecker, type: ts.Type, hops = 0): ts.Type | undefined {
  if (hops > 3 || type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return undefined;
  if (checker.getPropertyOfType(type, "~InputType")) return type;
  const next = (t: ts.Type | undefined) => (t ? compiledGraphType(checker, t, hops + 1) : undefined);
  // `export const graph = (async () => builder.compile())()`: the registry awaits it
  const awaited = checker.getAwaitedType(type);
  if (awaited && awaited !== type) return next(awaited);
  const compile = propertyType(checker, type, "compile")?.getCallSignatures()[0];
  if (compile) return next(compile.getReturnType());
  const wrapped = propertyType(checker, type, "graph");
  if (wrapped) return next(wrapped);
  const factory = type.getCallSignatures()[0];
  if (factory) return next(checker.getAwaitedType(factory.getReturnType()));
  return undefined;
}

/** The value type of a channel definition: a channel's `ValueType`, or a bare `Annotation<T>`'s (its no-argument call gives `LastValue<T>`). */
function channelValueType(checker: ts.TypeChecker, channel: ts.Type): ts.Type | undefined {
  const direct = propertyType(checker, channel, "ValueType");
  if (direct) return direct;
  const bare = channel.getCallSignatures().find((s) => s.getParameters().length === 0);
  return bare && propertyType(checker, bare.getReturnType(), "ValueType");
}

/**
 * The context schema of a StateGraph from the builder's `_configSchema` (its channel definitions):
 * a context `Annotation.Root` reaches the compiled graph's context type as bare `Annotation<T>`
 * functions, which LangGraph's own type helpers turn into `Record<string, any>`.
 */
function contextFromDefinition(checker: ts.TypeChecker, converter: TypeToJsonSchema, graph: ts.Type): JsonSchema | undefined {
  const builder = propertyType(checker, graph, "builder");
  const definition = builder && propertyType(checker, builder, "_configSchema");
  if (!definition) return undefined;
  const properties: Record<string, JsonSchema> = {};
  for (const symbol of checker.getPropertiesOfType(checker.getNonNullableType(definition))) {
    const value = channelValueType(checker, checker.getTypeOfSymbol(symbol));
    if (value) properties[symbol.name] = { ...converter.convert(value, 1), ...converter.description(symbol) };
  }
  return Object.keys(properties).length ? { type: "object", properties } : undefined;
}

/** The context type `withConfig` accepts (entrypoint graphs, zod context schemas). */
function contextFromOptions(checker: ts.TypeChecker, converter: TypeToJsonSchema, graph: ts.Type): JsonSchema | undefined {
  const withConfig = propertyType(checker, graph, "withConfig")?.getCallSignatures()[0];
  const options = withConfig?.getParameters()[0];
  const context = options && propertyType(checker, checker.getTypeOfSymbol(options), "context");
  if (!context) return undefined;
  const schema = converter.convert(checker.getNonNullableType(context));
  // the default context type is an open record: the graph declares no context
  return schema.properties ? schema : undefined;
}

function schemasOf(checker: ts.TypeChecker, converter: TypeToJsonSchema, graph: ts.Type): StaticGraphSchemas {
  const schemas: StaticGraphSchemas = {};
  const inferred = { input: "~InputType", output: "~OutputType", state: "~RunOutput" } as const;
  for (const [key, property] of Object.entries(inferred) as Array<[keyof typeof inferred, string]>) {
    const type = propertyType(checker, graph, property);
    // an entrypoint's output is its function's (async) return type: the JSON is the awaited value
    const schema = type && converter.convert(checker.getAwaitedType(type) ?? type);
    if (schema && Object.keys(schema).length > 0) schemas[key] = schema;
  }
  const context = contextFromDefinition(checker, converter, graph) ?? contextFromOptions(checker, converter, graph);
  if (context) schemas.context = context;
  return schemas;
}
