/** What a `Scope` lets through (the lowdb backend filters with this; the PostgreSQL one translates it to SQL). */
import { describe, expect, it } from "vitest";
import { inScope, metadataInScope, scopePredicate, storeItemScopeView, UNSCOPED } from "../../src/storage/scope.js";
import type { Scope } from "../../src/storage/types.js";

const eq = (key: string, value: string | number | boolean) => ({ key, op: "$eq" as const, value });
const contains = (key: string, values: Array<string | number | boolean>) => ({ key, op: "$contains" as const, values });

describe("scope predicates", () => {
  it("lets everything through without conditions, and UNSCOPED cannot be given any", () => {
    expect(scopePredicate(undefined)).toBeUndefined();
    expect(scopePredicate(UNSCOPED)).toBeUndefined();
    expect(UNSCOPED).toEqual({ conditions: [] });
    expect(Object.isFrozen(UNSCOPED) && Object.isFrozen(UNSCOPED.conditions)).toBe(true);
    expect(inScope({ owner: "x" }, undefined)).toBe(true);
    expect(inScope(null, UNSCOPED)).toBe(true);
  });

  it("needs every condition to hold, not just one", () => {
    const scope: Scope = { conditions: [eq("owner", "ann"), eq("team", "t")] };
    expect(inScope({ owner: "ann", team: "t", other: 1 }, scope)).toBe(true);
    expect(inScope({ owner: "ann", team: "u" }, scope)).toBe(false);
    expect(inScope({ owner: "bob", team: "t" }, scope)).toBe(false);
    expect(inScope({ owner: "ann" }, scope)).toBe(false);
  });

  it("compares $eq strictly and $contains as array containment of every value", () => {
    expect(inScope({ n: 1 }, { conditions: [eq("n", 1)] })).toBe(true);
    expect(inScope({ n: "1" }, { conditions: [eq("n", 1)] })).toBe(false);
    expect(inScope({ tags: ["a", "b", "c"] }, { conditions: [contains("tags", ["a", "c"])] })).toBe(true);
    expect(inScope({ tags: ["a"] }, { conditions: [contains("tags", ["a", "c"])] })).toBe(false);
    expect(inScope({ tags: "a" }, { conditions: [contains("tags", ["a"])] })).toBe(false);
    expect(inScope({}, { conditions: [contains("tags", ["a"])] })).toBe(false);
  });

  it("hides records whose metadata is missing or not an object", () => {
    const scope: Scope = { conditions: [eq("0", "ann")] };
    for (const metadata of [null, undefined, "ann", 7, ["ann"]]) expect(inScope(metadata, scope), JSON.stringify(metadata)).toBe(false);
    expect(inScope({ 0: "ann" }, scope)).toBe(true);
  });

  it("looks only at the metadata's own keys", () => {
    expect(inScope({}, { conditions: [contains("constructor", [])] })).toBe(false);
    expect(inScope({ constructor: [] }, { conditions: [contains("constructor", [])] })).toBe(true);
  });
});

describe("records made on a scoped caller's behalf", () => {
  it("metadataInScope gives metadata every condition holds on", () => {
    const scope: Scope = { conditions: [eq("owner", "ann"), contains("tags", ["a", "b"]), contains("tags", ["b", "c"])] };
    const metadata = metadataInScope(scope);
    expect(metadata).toEqual({ owner: "ann", tags: ["a", "b", "c"] });
    expect(inScope(metadata, scope)).toBe(true);
    expect(metadataInScope(undefined)).toEqual({});
    expect(metadataInScope(UNSCOPED)).toEqual({});
  });

  it("a store item is scoped on its value with its namespace and key", () => {
    expect(storeItemScopeView({ namespace: ["u"], key: "k", value: { owner: "ann", key: "shadowed" } })).toEqual({
      owner: "ann",
      namespace: ["u"],
      key: "k",
    });
    expect(storeItemScopeView({ namespace: [], key: "k", value: null })).toEqual({ namespace: [], key: "k" });
  });
});
