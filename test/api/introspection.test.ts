/**
 * GET /assistants/{id}/graph, /schemas, /subgraphs through the official SDK client, on the example
 * graphs and on test/fixtures/introspection (StateSchema+zod, a config-dependent factory, nested
 * subgraphs, a functional-API graph). Every response is checked against the contract.
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, json, SCHEMA_DERIVING_TIMEOUT_MS, startTestServer, type TestServer } from "../support/server.js";

let examples: TestServer;
let fixtures: TestServer;
beforeAll(async () => {
  [examples, fixtures] = await Promise.all([
    startTestServer(),
    startTestServer({ configPath: path.join(REPO_ROOT, "test/fixtures/introspection/langgraph.json") }),
  ]);
});
afterAll(async () => {
  await Promise.all([examples?.dispose(), fixtures?.dispose()]);
});
afterEach(() => {
  expect(examples.violations.splice(0)).toEqual([]);
  expect(fixtures.violations.splice(0)).toEqual([]);
});

/** The dialect the official servers name at the root of schemas read from TypeScript types. */
const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

const nodeIds = (graph: { nodes: Array<{ id: string | number }> }) => graph.nodes.map((n) => n.id).sort();
const edgeList = (graph: { edges: Array<{ source: string; target: string }> }) => graph.edges.map((e) => `${e.source}->${e.target}`).sort();

describe("GET /assistants/{id}/graph", () => {
  it("draws the nodes and edges; a subgraph is one node until xray expands it", async () => {
    const plain = await examples.client.assistants.getGraph("subgraph");
    expect(nodeIds(plain)).toEqual(["__end__", "__start__", "child", "finish", "prepare"]);
    expect(edgeList(plain)).toEqual(["__start__->prepare", "child->finish", "finish->__end__", "prepare->child"]);

    for (const xray of [true, 1] as const) {
      const expanded = await examples.client.assistants.getGraph("subgraph", { xray });
      expect(nodeIds(expanded)).toEqual(["__end__", "__start__", "child:child_step_1", "child:child_step_2", "finish", "prepare"]);
      expect(edgeList(expanded)).toContain("child:child_step_1->child:child_step_2");
    }
    expect(nodeIds(await examples.client.assistants.getGraph("subgraph", { xray: 0 }))).toEqual(nodeIds(plain));
  });

  it("limits xray to the requested depth", async () => {
    const one = await fixtures.client.assistants.getGraph("nested", { xray: 1 });
    expect(nodeIds(one)).toEqual(["__end__", "__start__", "middle:enter", "middle:inner"]);
    const deepest = ["__end__", "__start__", "middle:enter", "middle:inner:leaf_1", "middle:inner:leaf_2"];
    expect(nodeIds(await fixtures.client.assistants.getGraph("nested", { xray: 2 }))).toEqual(deepest);
    expect(nodeIds(await fixtures.client.assistants.getGraph("nested", { xray: true }))).toEqual(deepest);
  });

  it("marks conditional edges", async () => {
    const slow = await examples.client.assistants.getGraph("slow");
    const fromWork = slow.edges.filter((e) => e.source === "work");
    expect(fromWork.map((e) => e.target).sort()).toEqual(["__end__", "work"]);
    expect(fromWork.every((e) => e.conditional === true)).toBe(true);
  });

  it("builds a factory's graph with the assistant's config", async () => {
    const withExtra = await fixtures.client.assistants.create({ graphId: "configurable", config: { configurable: { extra: true } } });
    expect(nodeIds(await fixtures.client.assistants.getGraph(withExtra.assistant_id))).toContain("extra");
    expect(nodeIds(await fixtures.client.assistants.getGraph("configurable"))).not.toContain("extra");

    const failing = await fixtures.client.assistants.create({ graphId: "configurable", config: { configurable: { fail: true } } });
    const res = await fetch(`${fixtures.url}/assistants/${failing.assistant_id}/graph`);
    expect(res.status).toBe(422);
    expect((await json(res)).detail).toContain("this assistant's config asks to fail");
  });

  it("draws a functional-API graph, whose generated node ids are indexes", async () => {
    const graph = await fixtures.client.assistants.getGraph("functional");
    expect(graph.nodes.map((n) => n.id)).toEqual([0, 1, 2]);
    expect(graph.edges.map((e) => [e.source, e.target])).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it("rejects an xray that is neither a boolean nor a depth", async () => {
    for (const xray of ["maybe", "-1", "1.5"]) {
      const res = await fetch(`${examples.url}/assistants/agent/graph?xray=${xray}`);
      expect(res.status, xray).toBe(422);
      expect((await json(res)).detail).toContain("xray");
    }
  });
});

describe("GET /assistants/{id}/schemas", { timeout: SCHEMA_DERIVING_TIMEOUT_MS }, () => {
  it("types an Annotation graph's channels from its TypeScript types, context included", async () => {
    const schemas = await examples.client.assistants.getSchemas("slow");
    expect(schemas.graph_id).toBe("slow");
    expect(schemas.input_schema).toEqual({
      $schema: DRAFT_07,
      type: "object",
      properties: { steps: { type: "number" }, delay_ms: { type: "number" } },
    });
    expect(schemas.state_schema).toEqual({
      $schema: DRAFT_07,
      type: "object",
      properties: {
        steps: { type: "number" },
        delay_ms: { type: "number" },
        completed: { type: "number" },
        log: { type: "array", items: { type: "string" } },
      },
    });
    expect(schemas.output_schema).toEqual(schemas.state_schema);
    expect(schemas.config_schema).toEqual({
      $schema: DRAFT_07,
      type: "object",
      properties: { delay_ms: { type: "number", description: "Milliseconds each step waits; overrides the input's delay_ms." } },
    });
    expect(schemas.context_schema).toEqual(schemas.config_schema);
  });

  it("describes messages as message objects and answers by assistant id too", async () => {
    const agent = await examples.client.assistants.get("agent");
    const schemas = await examples.client.assistants.getSchemas(agent.assistant_id);
    expect(schemas.graph_id).toBe("agent");
    expect(schemas.state_schema?.properties?.messages).toEqual({ type: "array", items: { type: "object", title: "BaseMessage" } });
    expect(JSON.stringify(schemas.input_schema?.properties?.messages)).toContain('"title":"BaseMessage"');
    expect(schemas.config_schema?.properties?.token_delay_ms).toMatchObject({ type: "number" });
  });

  it("is null where the graph declares nothing", async () => {
    const schemas = await examples.client.assistants.getSchemas("custom");
    expect(Object.keys(schemas.input_schema?.properties ?? {})).toEqual(["count"]);
    expect(schemas.config_schema).toBeNull();
    expect(schemas.context_schema).toBeNull();
  });

  it("returns the JSON Schemas a StateSchema/zod graph carries", async () => {
    const schemas = await fixtures.client.assistants.getSchemas("state_schema");
    // the input takes a reducer's input type, the state holds its value type
    expect(schemas.input_schema?.properties).toEqual({
      topic: { type: "string", description: "What to write about" },
      notes: { type: "string" },
    });
    expect(schemas.state_schema?.properties?.notes).toMatchObject({ type: "array", items: { type: "string" } });
    expect(schemas.state_schema?.required).toEqual(["topic"]);
    expect(schemas.context_schema).toMatchObject({ type: "object", properties: { tone: { type: "string" } } });
  });

  it("describes a context declared with StateSchema, which LangGraph itself keeps no schema of", async () => {
    const schemas = await fixtures.client.assistants.getSchemas("state_schema_context");
    expect(schemas.context_schema).toEqual({
      type: "object",
      properties: {
        tone: { type: "string", enum: ["formal", "casual"], description: "How the reply sounds" },
        max_words: { type: "number" },
      },
      required: ["tone"],
    });
    expect(schemas.config_schema).toEqual(schemas.context_schema);
    // the graph runs with that context
    const thread = await fixtures.client.threads.create();
    const done = await fixtures.client.runs.wait(thread.thread_id, "state_schema_context", { input: {}, context: { tone: "casual" } });
    expect(done).toEqual({ reply: "in a casual tone" });
  });

  it("describes a context declared with another Standard Schema from its JSON Schema", async () => {
    const schemas = await fixtures.client.assistants.getSchemas("standard_context");
    expect(schemas.context_schema).toEqual({
      type: "object",
      properties: { locale: { type: "string", pattern: "^[a-z]{2}$" } },
      required: ["locale"],
    });
  });

  it("takes a functional-API graph's input and output from its types", async () => {
    const schemas = await fixtures.client.assistants.getSchemas("functional");
    expect(schemas.input_schema).toEqual({
      $schema: DRAFT_07,
      type: "object",
      properties: { n: { type: "number", description: "The number to double." }, label: { type: "string" } },
      required: ["n"],
    });
    expect(schemas.output_schema).toEqual({
      $schema: DRAFT_07,
      type: "object",
      properties: { doubled: { type: "number" }, label: { type: ["string", "null"] } },
      required: ["doubled", "label"],
    });
    expect(schemas.state_schema).toBeNull();
  });

  it("reads the types of a graph exported as a promise: its Annotation.Root context, unions of literals sorted", async () => {
    const schemas = await fixtures.client.assistants.getSchemas("promised");
    const context = { $schema: DRAFT_07, type: "object", properties: { model: { type: "string", enum: ["anthropic", "openai", "unknown"] } } };
    expect(schemas.config_schema).toEqual(context);
    expect(schemas.context_schema).toEqual(context);
    expect(schemas.state_schema).toEqual({ $schema: DRAFT_07, type: "object", properties: { reply: { type: "string" } } });
  });
});

describe("GET /assistants/{id}/subgraphs", { timeout: SCHEMA_DERIVING_TIMEOUT_MS }, () => {
  const childState = {
    $schema: DRAFT_07,
    type: "object",
    properties: { text: { type: "string" }, child_trail: { type: "array", items: { type: "string" } } },
  };

  it("returns each subgraph's schemas by namespace, in the official servers' shape", async () => {
    const subgraphs = await examples.client.assistants.getSubgraphs("subgraph");
    expect(Object.keys(subgraphs)).toEqual(["child"]);
    // the official LangGraph.js server answers {state, input, output, config}, not `*_schema` keys
    const child = subgraphs.child as unknown as Record<string, { properties?: Record<string, unknown> }>;
    expect(Object.keys(child).sort()).toEqual(["input", "output", "state"]);
    expect(child.state).toEqual(childState);
    expect(child.input?.properties?.text).toEqual({ type: "string" });

    expect(await examples.client.assistants.getSubgraphs("agent")).toEqual({});
    expect(await examples.client.assistants.getSubgraphs("subgraph", { namespace: "child" })).toEqual(subgraphs);
  });

  it("recurses into subgraphs of subgraphs and selects a nested namespace", async () => {
    const top = await fixtures.client.assistants.getSubgraphs("nested");
    expect(Object.keys(top)).toEqual(["middle"]);
    const all = (await fixtures.client.assistants.getSubgraphs("nested", { recurse: true })) as unknown as Record<
      string,
      { state?: { properties?: Record<string, unknown> } }
    >;
    expect(Object.keys(all)).toEqual(["middle", "middle|inner"]);
    // `inner` is exported by its module; `middle` is not, and is typed from the addNode that adds it
    expect(all["middle|inner"]?.state?.properties?.depth).toEqual({ type: "number" });
    expect(all.middle?.state?.properties).toEqual({ depth: { type: "number" }, path: { type: "array", items: { type: "string" } } });

    const one = await fixtures.client.assistants.getSubgraphs("nested", { namespace: "middle|inner", recurse: true });
    expect(one).toEqual({ "middle|inner": all["middle|inner"] });
  });

  it("answers an empty map for a namespace with no subgraph, as the official servers do", async () => {
    expect(await examples.client.assistants.getSubgraphs("subgraph", { namespace: "nope" })).toEqual({});
    // a nested namespace is found only with recurse
    const res = await fetch(`${fixtures.url}/assistants/nested/subgraphs/${encodeURIComponent("middle|inner")}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({});
  });
});

describe("unknown assistants", () => {
  it("answers 404 on every introspection endpoint", async () => {
    const id = crypto.randomUUID();
    const calls = [
      () => examples.client.assistants.getGraph(id),
      () => examples.client.assistants.getSchemas(id),
      () => examples.client.assistants.getSubgraphs(id),
      () => examples.client.assistants.getSubgraphs(id, { namespace: "child" }),
    ];
    for (const call of calls) await expect(call()).rejects.toMatchObject({ status: 404 });
  });

  it("answers 404 for an assistant whose graph this server no longer serves", async () => {
    // the assistant was made by a server of the examples; this one serves other graphs
    const earlier = await startTestServer();
    const orphan = await earlier.client.assistants.create({ graphId: "agent" });
    await earlier.stop();
    const later = await startTestServer({
      configPath: path.join(REPO_ROOT, "test/fixtures/introspection/langgraph.json"),
      dataDir: earlier.dataDir,
    });
    try {
      const res = await fetch(`${later.url}/assistants/${orphan.assistant_id}/schemas`);
      expect(res.status).toBe(404);
      expect((await json(res)).detail).toContain("Graph 'agent'");
      expect(later.violations).toEqual([]);
    } finally {
      await later.dispose();
    }
  });
});
