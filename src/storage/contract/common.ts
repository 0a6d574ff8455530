/** Storage contract: what every repository shares: authorization scopes, search queries, pages. */
/** A JSON scalar an authorization condition compares with. */
export type ScopeScalar = string | number | boolean;

/**
 * One condition on the scoped record's metadata object `m` (what `m` is per repository: see
 * `Scope`). `key` names a top-level field of `m`, taken literally (no paths).
 * - `$eq`: `m[key]` exists and is JSON-equal to `value` (no type coercion: 1 is not "1").
 *   SQL: `m -> key = to_jsonb(value)`.
 * - `$contains`: `m[key]` is an array holding every element of `values` (JSON equality).
 *   SQL: `jsonb_typeof(m -> key) = 'array' AND m -> key @> to_jsonb(values)`.
 */
export type ScopeCondition = { key: string; op: "$eq"; value: ScopeScalar } | { key: string; op: "$contains"; values: ScopeScalar[] };

/**
 * Visibility of a call: the records it may see and touch are those matching every condition
 * (none = every record; no scope at all = every record). Built from the filters LangGraph
 * `auth.on` handlers return (`{owner: "u1"}`, `{owner: {$eq: "u1"}}`, `{tags: {$contains: "a"}}`),
 * so the filters are part of the query itself: counts, totals, limit and offset see only the
 * matching records (SQL: the conditions are ANDed into the WHERE clause of the same statement).
 *
 * What `m` (the metadata the conditions apply to) is, per repository:
 * - assistants: the assistant's metadata (its current version); a hidden assistant's versions
 *   are hidden with it.
 * - threads: the thread's metadata.
 * - runs: the metadata of the run's thread (LangGraph scopes runs through their thread); `create`
 *   refuses a thread the scope hides with NotFoundError.
 * - crons: the cron's metadata.
 * - store items: `{...value, namespace, key}` (the item's value, with its namespace array and key
 *   overriding same-named fields; SQL: `namespace`/`key` columns, else `value -> key`);
 *   `listNamespaces` lists the namespaces holding at least one matching item.
 * - checkpoints: not scoped; callers reach them through a thread the scope lets them see.
 */
export interface Scope {
  readonly conditions: readonly ScopeCondition[];
}

export type SortOrder = "asc" | "desc";

/** Filter + sort + page, expressed as data. */
export interface SearchQuery<F, S extends string> {
  filter?: F;
  /** default: "created_at" */
  sortBy?: S;
  /** default: "desc" */
  sortOrder?: SortOrder;
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
}

/** One page of results, plus how many records matched the filter in total. */
export interface Page<T> {
  items: T[];
  total: number;
}

/**
 * How a save must be durable when its promise resolves. `deferred`: applied (readable) is enough;
 * it becomes durable at the latest with the next durable write of this storage (a run's end),
 * and a crash before that may lose it. A run with LangGraph's `durability: "async"` saves its checkpoints so.
 */
export interface SaveOptions {
  deferred?: boolean;
}
