/** How a graph's runtime schema information and its static (TypeScript) schemas are combined. */
import { Annotation, ReducedValue, StateGraph, StateSchema, entrypoint } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { graphSchemas } from "../../src/runtime/introspection/schemas.js";

const AnnotationState = Annotation.Root({
  question: Annotation<string>,
  answers: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
const InputOnly = Annotation.Root({ question: Annotation<string> });

const annotationGraph = new StateGraph({ stateSchema: AnnotationState, input: InputOnly })
  .addNode("answer", () => ({ answers: ["42"] }))
  .addEdge("__start__", "answer")
  .addEdge("answer", "__end__")
  .compile();

describe("graphSchemas", () => {
  it("lists an Annotation graph's channels untyped when no types are known", () => {
    expect(graphSchemas(annotationGraph, undefined)).toEqual({
      input_schema: { type: "object", properties: { question: {} } },
      output_schema: { type: "object", properties: { question: {}, answers: {} } },
      state_schema: { type: "object", properties: { question: {}, answers: {} } },
      config_schema: null,
      context_schema: null,
    });
  });

  it("types the channels from the static schemas, without top-level required", () => {
    const state = {
      type: "object",
      properties: { question: { type: "string" }, answers: { type: "array", items: { type: "string" } }, stale: { type: "number" } },
      required: ["question", "answers", "stale"],
    };
    const context = { type: "object", properties: { model: { type: "string" } } };
    const schemas = graphSchemas(annotationGraph, { state, output: state, context });
    // read from TypeScript types: the dialect named at the root, as the official servers do
    const dialect = { $schema: "http://json-schema.org/draft-07/schema#" };
    expect(schemas.state_schema).toEqual({
      ...dialect,
      type: "object",
      properties: { question: { type: "string" }, answers: { type: "array", items: { type: "string" } } },
    });
    // input types unknown: still the input channels
    expect(schemas.input_schema).toEqual({ type: "object", properties: { question: {} } });
    expect(schemas.config_schema).toEqual({ ...dialect, ...context });
    expect(schemas.context_schema).toEqual({ ...dialect, ...context });
  });

  it("prefers the JSON Schemas a StateSchema graph carries", () => {
    const graph = new StateGraph(
      new StateSchema({
        items: new ReducedValue(
          z.array(z.number()).default(() => []),
          { inputSchema: z.number(), reducer: (a: number[], b: number) => [...a, b] },
        ),
      }),
    )
      .addNode("add", () => ({ items: 1 }))
      .addEdge("__start__", "add")
      .addEdge("add", "__end__")
      .compile();
    const schemas = graphSchemas(graph, { input: { type: "object", properties: { items: { type: "string" } } } });
    expect(schemas.input_schema?.properties).toEqual({ items: { type: "number" } });
    expect(schemas.state_schema?.properties).toEqual({ items: { type: "array", items: { type: "number" }, default: [] } });
  });

  it("uses the static schemas as they are for a graph without channels, null without them", () => {
    const workflow = entrypoint("double", async (n: number) => n * 2);
    expect(graphSchemas(workflow, undefined)).toEqual({
      input_schema: null,
      output_schema: null,
      state_schema: null,
      config_schema: null,
      context_schema: null,
    });
    expect(graphSchemas(workflow, { input: { type: "number" }, output: { type: "number" } })).toMatchObject({
      input_schema: { type: "number" },
      output_schema: { type: "number" },
      state_schema: null,
    });
  });
});
