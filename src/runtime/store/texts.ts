/**
 * Which texts of a stored value get embedded: the paths of a store index's `fields` (or of a
 * put's `index` list), in the syntax LangGraph stores use:
 *
 *   "$"                    the whole value, as JSON
 *   "title", "meta.title"  a (nested) field
 *   "chapters[*].content"  that field of every element
 *   "authors[0]", "a[-1]"  one element (negative counts from the end)
 *
 * Strings are embedded as they are, numbers and booleans as their text, objects and arrays as
 * JSON; a missing value or null contributes nothing.
 */
import { InvalidStoreRequestError } from "../../storage/store-query.js";

type Step = { field: string } | { index: number } | { every: true };

/** One dot-separated part: a field name followed by any number of [n] / [*] selectors. */
const PART = /^([^[\]]+)((?:\[(?:\*|-?\d+)\])*)$/;
const SELECTOR = /\[(\*|-?\d+)\]/g;

/** Parses a field path; throws InvalidStoreRequestError (422) on bad syntax. */
export function parseFieldPath(path: string): Step[] | "$" {
  if (path === "$") return "$";
  const steps: Step[] = [];
  for (const part of path.split(".")) {
    const m = PART.exec(part);
    if (!m) throw new InvalidStoreRequestError(`invalid index field path '${path}' (at '${part}')`);
    steps.push({ field: m[1] });
    for (const [, selector] of m[2].matchAll(SELECTOR)) {
      steps.push(selector === "*" ? { every: true } : { index: Number(selector) });
    }
  }
  return steps;
}

function asText(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === "string") return [value];
  if (typeof value === "number" || typeof value === "boolean") return [String(value)];
  return [JSON.stringify(value)];
}

function walk(value: unknown, steps: readonly Step[], at: number): string[] {
  if (at === steps.length) return asText(value);
  const step = steps[at];
  if ("field" in step) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
    const obj = value as Record<string, unknown>;
    return Object.hasOwn(obj, step.field) ? walk(obj[step.field], steps, at + 1) : [];
  }
  if (!Array.isArray(value)) return [];
  if ("every" in step) return value.flatMap((element) => walk(element, steps, at + 1));
  const i = step.index < 0 ? value.length + step.index : step.index;
  return i >= 0 && i < value.length ? walk(value[i], steps, at + 1) : [];
}

/** The texts at `path` in `value`. */
export function textsAt(value: Record<string, unknown>, path: string): string[] {
  const steps = parseFieldPath(path);
  return steps === "$" ? [JSON.stringify(value)] : walk(value, steps, 0);
}

/**
 * (vector field name, text) pairs for an item: one per text found; a path yielding several
 * texts names them `<path>.<i>`, so each gets its own vector (a search scores an item by its
 * best-matching one).
 */
export function indexedTexts(value: Record<string, unknown>, paths: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const path of paths) {
    const texts = textsAt(value, path);
    if (texts.length === 1) out.push([path, texts[0]]);
    else texts.forEach((text, i) => out.push([`${path}.${i}`, text]));
  }
  return out;
}
