/**
 * Static schemas from TypeScript types: which exports count as graphs, and how types become JSON
 * Schemas. A stand-in graph class with LangGraph's inference members keeps the program small.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractStaticSchemas, type StaticGraphSchemas } from "../../src/runtime/introspection/types.js";

const LIBRARY = `
export declare class Message {
  content: string;
  toJSON(): unknown;
}
`;

const GRAPHS = `
import type { Message } from "./library.js";

declare class Graph<I, O, C = Record<string, any>> {
  "~InputType": I;
  "~OutputType": O;
  "~RunOutput": O;
  withConfig(config: { context?: C }): this;
}
declare function graphOf<I, O, C = Record<string, any>>(): Graph<I, O, C>;

/** A user class: its fields are data. */
class Note {
  text = "";
  shout() {
    return this.text.toUpperCase();
  }
}

interface Tree {
  label: string;
  children: Tree[];
}

export interface Everything {
  /** Free text. */
  text: string;
  count?: number;
  big: bigint;
  flag: boolean;
  mode: "fast" | "slow";
  level: 1 | 2;
  role: "ai" | "human" | (string & {});
  maybe: string | null;
  when: Date;
  pair: [string, number];
  scores: Record<string, number>;
  tags: readonly string[];
  message: Message;
  note: Note;
  tree: Tree;
  callback: () => void;
  either: string | number;
}

export const compiled = graphOf<Everything, { done: boolean }, { model: string }>();
export const builder = { compile: () => graphOf<{ a: string }, { a: string }>() };
export async function factory(_config: unknown) {
  return graphOf<{ b: number }, { b: number }>();
}
export const agent = { graph: graphOf<{ c: string[] }, { c: string[] }>() };

/** A StateGraph: the context Annotation.Root reaches the builder as bare \`Annotation<T>\` functions. */
declare const contextDefinition: {
  /** Which model answers. */
  model: { (): { ValueType: string } };
  temperature: { ValueType: number };
};
export const stateGraph = Object.assign(graphOf<{ d: string }, { d: string }>(), {
  builder: { _configSchema: contextDefinition as typeof contextDefinition | undefined },
});

export const notAGraph = { invoke: () => 1 };
export const answer = 42;
export type OnlyAType = Graph<string, string>;
`;

let dir: string;
let graphs: Record<string, StaticGraphSchemas>;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "lgts-introspection-"));
  await writeFile(path.join(dir, "library.d.ts"), LIBRARY);
  await writeFile(path.join(dir, "graphs.ts"), GRAPHS);
  const file = path.join(dir, "graphs.ts");
  graphs = extractStaticSchemas([file], dir).exports[file] ?? {};
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("graph exports", () => {
  it("recognises compiled graphs, builders, factories and agent wrappers; skips the rest", () => {
    expect(Object.keys(graphs).sort()).toEqual(["agent", "builder", "compiled", "factory", "stateGraph"]);
    expect(graphs.builder?.input).toEqual({ type: "object", properties: { a: { type: "string" } }, required: ["a"] });
    expect(graphs.factory?.output).toEqual({ type: "object", properties: { b: { type: "number" } }, required: ["b"] });
    expect(graphs.agent?.state).toEqual({
      type: "object",
      properties: { c: { type: "array", items: { type: "string" } } },
      required: ["c"],
    });
  });

  it("reads the context from withConfig, or from a StateGraph's context definition", () => {
    expect(graphs.compiled?.context).toEqual({ type: "object", properties: { model: { type: "string" } }, required: ["model"] });
    expect(graphs.stateGraph?.context).toEqual({
      type: "object",
      properties: { model: { type: "string", description: "Which model answers." }, temperature: { type: "number" } },
    });
    // an open record is no declared context
    expect(graphs.builder?.context).toBeUndefined();
  });
});

describe("types to JSON Schema", () => {
  const property = (name: string) => (graphs.compiled?.input?.properties as Record<string, unknown>)[name];

  it("maps primitives, literals and unions", () => {
    expect(property("text")).toEqual({ type: "string", description: "Free text." });
    expect(property("count")).toEqual({ type: "number" });
    expect(property("big")).toEqual({ type: "integer" });
    expect(property("flag")).toEqual({ type: "boolean" });
    expect(property("mode")).toEqual({ type: "string", enum: ["fast", "slow"] });
    expect(property("level")).toEqual({ type: "number", enum: [1, 2] });
    expect(property("role")).toEqual({ type: "string" });
    expect(property("maybe")).toEqual({ type: ["string", "null"] });
    expect(property("either")).toEqual({ type: ["string", "number"] });
  });

  it("maps dates, tuples, records and arrays to their JSON forms", () => {
    expect(property("when")).toEqual({ type: "string", format: "date-time" });
    expect(property("pair")).toEqual({ type: "array", items: [{ type: "string" }, { type: "number" }], minItems: 2, maxItems: 2 });
    expect(property("scores")).toEqual({ type: "object", additionalProperties: { type: "number" } });
    expect(property("tags")).toEqual({ type: "array", items: { type: "string" } });
  });

  it("keeps library classes opaque, expands the project's own, drops functions, stops at recursion", () => {
    expect(property("message")).toEqual({ type: "object", title: "Message" });
    expect(property("note")).toEqual({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });
    expect(property("callback")).toBeUndefined();
    expect(property("tree")).toEqual({
      type: "object",
      properties: { label: { type: "string" }, children: { type: "array", items: {} } },
      required: ["label", "children"],
    });
  });

  it("lists as required exactly the properties that may not be absent", () => {
    const required = graphs.compiled?.input?.required as string[];
    expect(required).not.toContain("count");
    expect(required).toContain("maybe");
    expect(required).toContain("text");
  });
});
