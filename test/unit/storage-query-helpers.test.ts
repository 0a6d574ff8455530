/**
 * The in-memory query helpers of the lowdb backend: paging (with its top-k shortcut), sorting and
 * JSON containment with PostgreSQL `jsonb @>` semantics, so both backends answer alike.
 */
import { describe, expect, it } from "vitest";
import { contains, containsIgnoreCase, containsPredicate } from "../../src/storage/lowdb/match.js";
import { byField, countWhere, normalizeWindow, paginate, smallest } from "../../src/storage/lowdb/page.js";

interface Row {
  id: string;
  at: string | null;
  n?: number | null;
}

const rows = (count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `id-${String((i * 37) % count).padStart(3, "0")}`,
    at: `2024-01-${String((i % 28) + 1).padStart(2, "0")}`,
    n: i % 5,
  }));

describe("paging", () => {
  it("clamps the window: limit 10 and offset 0 by default, whole non-negative numbers otherwise", () => {
    expect(normalizeWindow({})).toEqual({ limit: 10, offset: 0 });
    expect(normalizeWindow({ limit: 2.9, offset: 3.5 })).toEqual({ limit: 2, offset: 3 });
    expect(normalizeWindow({ limit: -4, offset: -1 })).toEqual({ limit: 0, offset: 0 });
    expect(normalizeWindow({ limit: Number.NaN, offset: Number.POSITIVE_INFINITY })).toEqual({ limit: 10, offset: 0 });
  });

  it("sorts by a field in either order, missing values first ascending, ties by id in the same direction", () => {
    const data: Row[] = [
      { id: "b", at: "2024-01-02" },
      { id: "a", at: "2024-01-02" },
      { id: "c", at: null },
      { id: "d", at: "2024-01-01" },
      { id: "e", at: "2024-01-03" },
    ];
    const ids = (order: "asc" | "desc") => [...data].sort(byField<Row>("at", order, (r) => r.id)).map((r) => r.id);
    expect(ids("asc")).toEqual(["c", "d", "a", "b", "e"]);
    expect(ids("desc")).toEqual(["e", "b", "a", "d", "c"]);
    const numbers: Row[] = [
      { id: "x", at: null, n: 10 },
      { id: "y", at: null, n: 9 },
      { id: "z", at: null, n: null },
    ];
    expect([...numbers].sort(byField<Row>("n", "asc", (r) => r.id)).map((r) => r.id)).toEqual(["z", "y", "x"]); // 9 < 10 as numbers
    const compare = byField<Row>("at", "asc", (r) => r.id);
    expect(compare({ id: "q", at: "s" }, { id: "q", at: "s" })).toBe(0);
  });

  it("returns the same window through the top-k shortcut as through a full sort, with the total of all matches", () => {
    const data = rows(200);
    const compare = byField<Row>("at", "desc", (r) => r.id);
    const fullSort = [...data].filter((r) => r.n !== 0).sort(compare);
    for (const window of [
      { limit: 3, offset: 0 },
      { limit: 3, offset: 7 },
      { limit: 10, offset: 5 },
      { limit: 50, offset: 100 },
      { limit: 5, offset: 157 },
    ]) {
      const page = paginate(data, (r) => r.n !== 0, compare, window);
      expect(page.total, JSON.stringify(window)).toBe(160);
      expect(page.items, JSON.stringify(window)).toEqual(fullSort.slice(window.offset, window.offset + window.limit));
    }
    expect(paginate(data, () => true, compare, { limit: 0 })).toEqual({ items: [], total: 200 });
    expect(paginate(data, () => true, compare, { offset: 200 })).toEqual({ items: [], total: 200 });
    expect(paginate(data, () => false, compare, {})).toEqual({ items: [], total: 0 });
    expect(paginate(data, () => true, compare, { offset: 199 }).items).toEqual([...data].sort(compare).slice(199));
    expect(countWhere(data, (r) => r.n === 1)).toBe(40);
  });

  it("selects the k smallest in order, keeping the earliest of equal items", () => {
    const byValue = (a: { v: number }, b: { v: number }) => a.v - b.v;
    const items = [5, 1, 4, 1, 3, 9, 0, 2].map((v, i) => ({ v, i }));
    expect(smallest(items, 3, byValue)).toEqual([
      { v: 0, i: 6 },
      { v: 1, i: 1 },
      { v: 1, i: 3 },
    ]);
    expect(smallest(items, 1, byValue)).toEqual([{ v: 0, i: 6 }]);
    expect(smallest(items, 20, byValue).map((x) => x.v)).toEqual([0, 1, 1, 2, 3, 4, 5, 9]);
  });
});

describe("JSON containment (jsonb @>)", () => {
  it("matches scalars by equality, objects key by key, arrays element by element", () => {
    expect(contains(1, 1)).toBe(true);
    expect(contains("1", 1)).toBe(false);
    expect(contains(null, null)).toBe(true);
    expect(contains({ a: 1 }, null)).toBe(false);
    expect(contains({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(contains({ a: 1, b: { c: 2 } }, { b: { c: 3 } })).toBe(false);
    expect(contains({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(contains({ a: undefined }, { a: undefined })).toBe(true);
    expect(contains({}, { toString: Object.prototype.toString })).toBe(false); // own keys only
    expect(contains([1, 2, 3], [3, 1])).toBe(true);
    expect(contains([1, 2], [4])).toBe(false);
    expect(contains([{ a: 1, b: 2 }, { a: 3 }], [{ a: 1 }])).toBe(true);
    expect(contains("abc", ["abc"])).toBe(false);
    expect(contains([1], { 0: 1 })).toBe(false);
    expect(contains(null, {})).toBe(false);
    expect(contains("x", {})).toBe(false);
    expect(contains({}, {})).toBe(true);
    expect(contains([], [])).toBe(true);
  });

  it("a filter's predicate answers like contains, and only for objects", () => {
    const predicate = containsPredicate({ owner: "ann", tags: ["a"] });
    expect(predicate({ owner: "ann", tags: ["a", "b"], x: 1 })).toBe(true);
    expect(predicate({ owner: "ann", tags: ["b"] })).toBe(false);
    expect(predicate({ owner: "bob", tags: ["a"] })).toBe(false);
    expect(predicate({ tags: ["a"] })).toBe(false);
    for (const notObject of [null, undefined, "ann", 3, [{ owner: "ann", tags: ["a"] }]]) expect(predicate(notObject)).toBe(false);
    expect(containsPredicate({})({})).toBe(true);
  });

  it("finds a needle ignoring case, in nothing only when the needle is empty", () => {
    expect(containsIgnoreCase("Hello World", "o w")).toBe(true);
    expect(containsIgnoreCase("Hello", "HELLO!")).toBe(false);
    expect(containsIgnoreCase(null, "")).toBe(true);
    expect(containsIgnoreCase(undefined, "a")).toBe(false);
  });
});

describe("sorting records that lack the field", () => {
  it("orders every record without a value first (ascending), among themselves by id", () => {
    const data: Row[] = [
      { id: "d", at: null },
      { id: "b", at: "2024-01-01" },
      { id: "c", at: null },
      { id: "a", at: null },
      { id: "e", at: null },
    ];
    expect([...data].sort(byField<Row>("at", "asc", (r) => r.id)).map((r) => r.id)).toEqual(["a", "c", "d", "e", "b"]);
    expect([...data].sort(byField<Row>("at", "desc", (r) => r.id)).map((r) => r.id)).toEqual(["b", "e", "d", "c", "a"]);
  });
});
