/** langgraph.schema.json: every key documented or refused, refusals naming the key. */
import { describe, expect, it } from "vitest";
import { configProblem, LANGGRAPH_SCHEMA } from "../../src/runtime/graphs/config-schema.js";

interface Node {
  properties?: Record<string, Node>;
  description?: string;
  "x-refused"?: string;
}

/** Every key path of the schema with its node, refused subtrees not descended into. */
function keys(node: Node, at = ""): Array<[string, Node]> {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = at ? `${at}.${key}` : key;
    return [[path, child] as [string, Node], ...(child["x-refused"] ? [] : keys(child, path))];
  });
}

const minimal = { graphs: { agent: "./agent.ts:graph" } };

describe("langgraph.schema.json", () => {
  it("says of every key what it does here, or why it is refused", () => {
    const undocumented = keys(LANGGRAPH_SCHEMA as Node).filter(([, node]) => !node.description && !node["x-refused"]);
    expect(undocumented.map(([path]) => path)).toEqual([]);
  });

  it("refuses every x-refused key once set, naming it; null (where allowed) and defaults pass", () => {
    const refused = keys(LANGGRAPH_SCHEMA as Node).filter(([, node]) => node["x-refused"]);
    expect(refused.length).toBeGreaterThan(0);
    for (const [path, node] of refused) {
      const [top, sub] = path.split(".");
      const set = (value: unknown) => (sub ? { ...minimal, [top]: { [sub]: value } } : { ...minimal, [top]: value });
      if ([(node as { type?: unknown }).type].flat().includes("null")) expect(configProblem(set(null))).toBeUndefined();
      const sample = "default" in node ? !(node as { default: unknown }).default : sampleOf(node);
      if ("default" in node) expect(configProblem(set((node as { default: unknown }).default))).toBeUndefined();
      expect(configProblem(set(sample))).toBe(`${path}: ${node["x-refused"]}; remove it to start this server`);
    }
  });

  it("names the key of a wrong value", () => {
    expect(configProblem({ ...minimal, http: { cors: { max_age: -1 } } })).toBe("http.cors.max_age: expected a non-negative integer, got number -1");
    expect(configProblem({ ...minimal, store: { index: { dims: 3 } } })).toBe('store.index: missing required key "embed"');
    expect(configProblem({ graphs: { a: { path: "./a.ts:g", descripton: "typo" } } })).toMatch(/^graphs\.a: unknown key "descripton"/);
    expect(configProblem([])).toBe("top level: expected a JSON object, got an array");
    expect(configProblem(minimal)).toBeUndefined();
  });
});

/** A value of the node's type (the first one that is not null). */
function sampleOf(node: Node & { type?: string | string[]; enum?: unknown[] }): unknown {
  if (node.enum) return node.enum.find((v) => v !== null);
  const type = [node.type ?? "object"].flat().find((t) => t !== "null");
  return { string: "x", boolean: true, object: {}, integer: 1, number: 1, array: [] }[type as string];
}
