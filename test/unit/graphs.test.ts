import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { Command, MemorySaver } from "@langchain/langgraph";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  defaultAssistantId,
  GraphConfigError,
  GraphLoadError,
  GraphNotFoundError,
  loadGraphRegistry,
  parseDotenv,
  splitImportString,
  type GraphRegistry,
} from "../../src/runtime/graphs/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const EXAMPLES = path.join(ROOT, "examples/langgraph.json");
const FIXTURES = path.join(ROOT, "test/fixtures/graphs/langgraph.json");
const BAD = (name: string) => path.join(ROOT, "test/fixtures/graphs-bad", name);
const EXTERNAL = path.join(ROOT, "test/fixtures/graphs-external/langgraph.json");

// The registry writes the config's env into process.env: restore it after the suite.
const savedEnv = { ...process.env };
afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

describe("default assistant id", () => {
  it("is uuid5(graph_id, 6ba7b821-9dad-11d1-80b4-00c04fd430c8), as LangGraph servers derive it", () => {
    // Computed independently with Python: uuid.uuid5(uuid.UUID("6ba7b821-..."), "agent")
    expect(defaultAssistantId("agent")).toBe("fe096781-5601-53d2-b2f6-0d3403f7e9ca");
    expect(defaultAssistantId("agent")).toBe(defaultAssistantId("agent"));
    expect(defaultAssistantId("trivial")).not.toBe(defaultAssistantId("agent"));
  });
});

describe("examples/langgraph.json", () => {
  let registry: GraphRegistry;
  beforeAll(async () => {
    registry = await loadGraphRegistry(EXAMPLES);
  });

  it("lists every example graph in declaration order", () => {
    expect(registry.graphIds).toEqual(["agent", "interrupt", "subgraph", "slow", "custom", "trivial"]);
    expect(registry.has("agent")).toBe(true);
    expect(registry.has("nope")).toBe(false);
    expect(registry.warnings).toEqual([]);
  });

  it("describes each graph", () => {
    expect(registry.spec("agent")).toEqual({
      graphId: "agent",
      path: path.join(ROOT, "examples/src/agent.ts"),
      exportName: "graph",
      description: expect.stringContaining("echo"),
      source: "./src/agent.ts:graph",
      kind: "compiled",
      assistantId: "fe096781-5601-53d2-b2f6-0d3403f7e9ca",
    });
    expect(registry.spec("trivial").description).toBeUndefined();
    expect(registry.spec("interrupt").description).toMatch(/interrupt/);
    expect(registry.defaultAssistantId("agent")).toBe("fe096781-5601-53d2-b2f6-0d3403f7e9ca");
  });

  it("loads from a folder containing langgraph.json too", async () => {
    const again = await loadGraphRegistry(path.dirname(EXAMPLES));
    expect(again.graphIds).toEqual(registry.graphIds);
  });

  it("reports unknown graphs with GraphNotFoundError", async () => {
    expect(() => registry.spec("nope")).toThrow(GraphNotFoundError);
    await expect(registry.resolveGraph("nope")).rejects.toThrow('Graph "nope" not found');
  });

  it("agent echoes the last human message", async () => {
    const graph = await registry.resolveGraph("agent");
    const out = await graph.invoke({
      messages: [
        { role: "user", content: "first" },
        { role: "assistant", content: "Echo: first" },
        { role: "user", content: "hello world" },
      ],
    });
    const messages = out.messages as BaseMessage[];
    expect(messages).toHaveLength(4);
    expect(messages[3].getType()).toBe("ai");
    expect(messages[3].content).toBe("Echo: hello world");
  });

  it("agent streams its reply token by token in messages mode", async () => {
    const graph = await registry.resolveGraph("agent");
    const tokens: string[] = [];
    const ids = new Set<string | undefined>();
    for await (const [chunk, meta] of await graph.stream({ messages: [{ role: "user", content: "hello big world" }] }, { streamMode: "messages" })) {
      expect(AIMessageChunk.isInstance(chunk)).toBe(true);
      expect(meta.langgraph_node).toBe("call_model");
      tokens.push(chunk.content as string);
      ids.add(chunk.id);
    }
    expect(tokens).toEqual(["Echo:", " hello", " big", " world"]);
    expect(ids.size).toBe(1);
  });

  it("interrupt pauses for human input and continues with the resume value", async () => {
    const graph = await registry.resolveGraph("interrupt", undefined, { checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "hitl-1" } };
    const paused = await graph.invoke({ topic: "cats" }, config);
    expect(paused.__interrupt__).toHaveLength(1);
    expect(paused.__interrupt__[0].value).toEqual({ question: "Approve the draft?", draft: "Draft about cats" });
    expect(paused.result).toBeUndefined();
    expect((await graph.getState(config)).next).toEqual(["ask_human"]);

    const done = await graph.invoke(new Command({ resume: "approved" }), config);
    expect(done).toEqual({
      topic: "cats",
      draft: "Draft about cats",
      decision: "approved",
      result: "Draft about cats (approved)",
    });
    expect((await graph.getState(config)).next).toEqual([]);
  });

  it("subgraph runs its compiled child graph as a node", async () => {
    const graph = await registry.resolveGraph("subgraph");
    expect(await graph.invoke({ text: " hi " })).toEqual({
      text: "HI!",
      trail: ["prepare", "finish"],
      child_trail: ["child_step_1", "child_step_2"],
      result: "HI! (child ran 2 steps)",
    });
    const namespaces: string[][] = [];
    for await (const [ns] of await graph.stream({ text: "x" }, { streamMode: "updates", subgraphs: true })) {
      namespaces.push(ns);
    }
    expect(namespaces.some((ns) => ns.length === 1 && ns[0].startsWith("child:"))).toBe(true);
  });

  it("slow takes its delay from the input or from configurable.delay_ms", async () => {
    const graph = await registry.resolveGraph("slow");
    expect(await graph.invoke({ steps: 2, delay_ms: 1 })).toEqual({
      steps: 2,
      delay_ms: 1,
      completed: 2,
      log: ["step 1", "step 2"],
    });
    const started = Date.now();
    const out = await graph.invoke({ steps: 3, delay_ms: 600_000 }, { configurable: { delay_ms: 1 } });
    expect(out.completed).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("slow stops promptly when the run is aborted, clearing its own timer", async () => {
    const graph = await registry.resolveGraph("slow");
    const setSpy = vi.spyOn(globalThis, "setTimeout");
    const clearSpy = vi.spyOn(globalThis, "clearTimeout");
    try {
      const started = Date.now();
      await expect(graph.invoke({ steps: 3, delay_ms: 600_000 }, { signal: AbortSignal.timeout(50) })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);
      // The node itself honours the signal: its 10-minute timer is cleared, not left running.
      const index = setSpy.mock.calls.findIndex((call) => call[1] === 600_000);
      expect(index).toBeGreaterThanOrEqual(0);
      const handle = setSpy.mock.results[index].value;
      const deadline = Date.now() + 2_000;
      const cleared = () => clearSpy.mock.calls.some((call) => call[0] === handle);
      while (!cleared() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      expect(cleared()).toBe(true);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });

  it("custom emits custom stream events through the writer", async () => {
    const graph = await registry.resolveGraph("custom");
    const events: unknown[] = [];
    for await (const chunk of await graph.stream({ count: 2 }, { streamMode: "custom" })) events.push(chunk);
    expect(events).toEqual([
      { type: "progress", step: 1, total: 2 },
      { type: "progress", step: 2, total: 2 },
      { type: "done", total: 2 },
    ]);
    expect(await graph.invoke({ count: 1 })).toEqual({ count: 1, result: "emitted 1 progress events" });
  });

  it("trivial runs three nodes", async () => {
    const graph = await registry.resolveGraph("trivial");
    expect(await graph.invoke({ value: 1 })).toEqual({ value: 4 });
    const updates: string[] = [];
    for await (const chunk of await graph.stream({ value: 0 }, { streamMode: "updates" })) updates.push(...Object.keys(chunk));
    expect(updates).toEqual(["a", "b", "c"]);
  });

  it("static exports resolve to one shared instance; resource options give a copy", async () => {
    const a = await registry.resolveGraph("trivial");
    expect(await registry.resolveGraph("trivial")).toBe(a);
    const saver = new MemorySaver();
    const copy = await registry.resolveGraph("trivial", undefined, { checkpointer: saver });
    expect(copy).not.toBe(a);
    expect(copy.checkpointer).toBe(saver);
    expect(a.checkpointer).toBeUndefined();
    expect(await copy.invoke({ value: 10 }, { configurable: { thread_id: "t" } })).toEqual({ value: 13 });
    expect((await copy.getState({ configurable: { thread_id: "t" } })).values).toEqual({ value: 13 });
  });
});

describe("export kinds, env and pass-through config (test/fixtures/graphs)", () => {
  let registry: GraphRegistry;
  beforeAll(async () => {
    process.env.LGTS_FIXTURE_PLAIN = "set before loading";
    registry = await loadGraphRegistry(FIXTURES);
  });

  it("classifies every export", () => {
    const kinds = Object.fromEntries(registry.graphIds.map((id) => [id, registry.spec(id).kind]));
    expect(kinds).toEqual({
      factory: "factory",
      async_factory: "factory",
      builder: "builder",
      promised: "compiled",
      default_export: "compiled",
      env_reader: "compiled",
      plain_js: "compiled",
    });
    expect(registry.spec("default_export").exportName).toBe("default");
    expect(registry.spec("async_factory").description).toBe("Async factory returning a builder");
  });

  it("calls a sync factory with the run's config on every resolve", async () => {
    const g1 = await registry.resolveGraph("factory", { configurable: { greeting: "Howdy" } });
    const g2 = await registry.resolveGraph("factory", { configurable: { greeting: "Howdy" } });
    expect(g1).not.toBe(g2);
    expect(await g1.invoke({ name: "Ada" })).toMatchObject({ greeting: "Howdy, Ada", built_by: "sync factory" });
    const dflt = await registry.resolveGraph("factory");
    expect(await dflt.invoke({ name: "Ada" })).toMatchObject({ greeting: "Hello, Ada" });
  });

  it("awaits an async factory and compiles the builder it returns", async () => {
    const graph = await registry.resolveGraph("async_factory", { configurable: { greeting: "Salut" } });
    expect(await graph.invoke({ name: "Bo" })).toEqual({ name: "Bo", greeting: "Salut, Bo", built_by: "async factory" });
  });

  it("compiles an uncompiled StateGraph builder export", async () => {
    const graph = await registry.resolveGraph("builder");
    expect(await graph.invoke({})).toEqual({ items: ["first", "second"] });
  });

  it("awaits a promised graph, uses default exports and plain .mjs modules", async () => {
    expect(await (await registry.resolveGraph("promised")).invoke({})).toEqual({ items: ["first", "second"] });
    expect(await (await registry.resolveGraph("default_export")).invoke({ n: 21 })).toEqual({ n: 42 });
    expect(await (await registry.resolveGraph("plain_js")).invoke({ text: "hey" })).toEqual({ text: "HEY" });
  });

  it("applies the .env file before importing graphs; the config's env overrides", async () => {
    expect(await (await registry.resolveGraph("env_reader")).invoke({})).toEqual({ seen: "Bonjour from .env" });
    expect(process.env.LGTS_FIXTURE_GREETING).toBe("Bonjour from .env");
    expect(process.env.LGTS_FIXTURE_PLAIN).toBe("plain value");
    expect(process.env.LGTS_FIXTURE_SINGLE).toBe("single # not a comment");
    expect(process.env.LGTS_FIXTURE_ESCAPED).toBe("line1\nline2");
  });

  it("keeps variables already set with overrideEnv: false", async () => {
    process.env.LGTS_FIXTURE_PLAIN = "from the shell";
    await loadGraphRegistry(FIXTURES, { overrideEnv: false });
    expect(process.env.LGTS_FIXTURE_PLAIN).toBe("from the shell");
  });

  it("passes store and http settings through", () => {
    expect(registry.config.store).toEqual({
      index: { dims: 3, embed: "fake:embed", fields: ["$"] },
      ttl: { default_ttl: 60, sweep_interval_minutes: 5 },
    });
    expect(registry.config.http?.cors?.allow_origins).toEqual(["*"]);
    expect(registry.config.envFile).toBe(path.join(ROOT, "test/fixtures/graphs/fixture.env"));
  });
});

describe("bad configs fail fast with one-line messages", () => {
  const cases: Array<[file: string, type: typeof GraphConfigError | typeof GraphLoadError, pattern: RegExp]> = [
    ["invalid-json.json", GraphConfigError, /invalid-json\.json: not valid JSON/],
    ["unknown-key.json", GraphConfigError, /unknown top-level key "grpahs"/],
    ["graphs-array.json", GraphConfigError, /graphs: expected an object mapping graph ids .* got an array/],
    ["no-graphs.json", GraphConfigError, /missing required key "graphs"/],
    ["empty-graphs.json", GraphConfigError, /graphs: no graphs declared/],
    ["graph-number.json", GraphConfigError, /graphs\.a: expected .*got number 42/],
    ["graph-object-extra.json", GraphConfigError, /graphs\.a: unknown key "descripton"/],
    ["python.json", GraphConfigError, /graphs\.a: Python graphs are not supported/],
    ["env-list.json", GraphConfigError, /env: expected a .env file path or an object of strings, got an array/],
    ["env-number.json", GraphConfigError, /env\.PORT: expected a string, got number 8000/],
    ["store-dims.json", GraphConfigError, /store\.index\.dims: expected a positive integer, got string "abc"/],
    ["checkpointer-strategy.json", GraphConfigError, /checkpointer\.ttl\.strategy: expected one of "delete", "keep_latest"/],
    ["checkpointer-ttl.json", GraphConfigError, /checkpointer\.ttl: checkpoint TTL sweeps are not built.*; remove it to start this server/],
    ["cors-regex.json", GraphConfigError, /http\.cors\.allow_origin_regex: expected a regular expression, got string "\(unclosed"/],
    ["http-bool.json", GraphConfigError, /http\.disable_runs: expected a boolean/],
    ["does-not-exist.json", GraphConfigError, /does-not-exist\.json: file not found/],
    ["missing-file.json", GraphLoadError, /graph "ghost" \(\.\/does_not_exist\.ts:graph\): file not found: .*does_not_exist\.ts/],
    ["missing-export.json", GraphLoadError, /graph "nope" \(\.\/not_a_graph\.ts:grpah\): module has no export "grpah" \(exports: .*notAGraph/],
    ["not-a-graph.json", GraphLoadError, /graph "plain_object" .*export "notAGraph" is not a graph \(got a plain object\)/],
    ["undefined-export.json", GraphLoadError, /graph "undef" .*no export "graph"/],
    ["throws.json", GraphLoadError, /graph "thrower" \(\.\/throws\.ts:graph\): import failed: boom at import time$/],
    ["uncompilable.json", GraphLoadError, /graph "lonely" .*builder that failed to compile/],
  ];

  it.each(cases)("%s", async (file, type, pattern) => {
    const error = await loadGraphRegistry(BAD(file)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(type);
    const message = (error as Error).message;
    expect(message).toMatch(pattern);
    expect(message).not.toContain("\n");
    if (type === GraphConfigError) expect(message).toContain(BAD(file));
  });

  it("reports factories that throw or return something else when resolved", async () => {
    const registry = await loadGraphRegistry(BAD("bad-factory.json"));
    await expect(registry.resolveGraph("number_factory")).rejects.toThrow(
      /graph "number_factory" .*factory "returnsNumber" returned not a graph \(got number\)/,
    );
    await expect(registry.resolveGraph("throwing_factory")).rejects.toThrow(/factory "throwsError" threw: factory exploded/);
    await expect(registry.resolveGraph("throwing_factory")).rejects.toBeInstanceOf(GraphLoadError);
  });

  it("warns and continues when the env file is missing (as the LangGraph CLIs do)", async () => {
    const registry = await loadGraphRegistry(BAD("missing-env-file.json"));
    expect(registry.warnings).toEqual([expect.stringMatching(/env file "\.\/no-such\.env" .* not found/)]);
  });
});

describe("a graph project with its own node_modules", () => {
  it("resolves the graph's imports from the graph's folder", async () => {
    // Premise: the package is not reachable from the server's own folder.
    expect(() => createRequire(path.join(ROOT, "package.json")).resolve("lgts-fixture-greeter")).toThrow();

    const registry = await loadGraphRegistry(EXTERNAL);
    const graph = await registry.resolveGraph("external");
    expect(await graph.invoke({ name: "Grace" })).toEqual({
      name: "Grace",
      message: "Greetings, Grace, from lgts-fixture-greeter",
      origin: "graphs-external/node_modules",
    });
  });
});

describe("loading outside tsx's global hooks", () => {
  it("imports .ts graphs when the registry itself was loaded through a namespaced tsx import", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, "test/fixtures/graphs-launch/launch.mjs"), EXAMPLES], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    const result = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(["active", "tsx-registered"]).toContain(result.mode);
    expect(result.graphIds).toContain("agent");
    expect(result.out).toEqual({ value: 4 });
  });
});

describe("helpers", () => {
  it("parseDotenv handles comments, export, quotes and inline comments", () => {
    expect(
      parseDotenv(
        ["# comment", "A=1", "export B = two words  # trailing", 'C="x # y"', "D='z'", 'E="multi', 'line"', "F=", "garbage line", "A=override"].join(
          "\n",
        ),
      ),
    ).toEqual({ A: "override", B: "two words", C: "x # y", D: "z", E: "multi\nline", F: "" });
  });

  it("splitImportString separates file and export", () => {
    expect(splitImportString("./src/agent.ts:graph")).toEqual({ file: "./src/agent.ts", exportName: "graph" });
    expect(splitImportString("./src/agent.ts")).toEqual({ file: "./src/agent.ts", exportName: "default" });
    expect(splitImportString("C:\\proj\\agent.ts:graph")).toEqual({ file: "C:\\proj\\agent.ts", exportName: "graph" });
    expect(splitImportString("C:\\proj\\agent.ts")).toEqual({ file: "C:\\proj\\agent.ts", exportName: "default" });
  });
});
