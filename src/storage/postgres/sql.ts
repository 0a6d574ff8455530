/**
 * Small helpers for building parameterised SQL from the interface's query data (filters, sort,
 * page). Values always travel as parameters; only identifiers from fixed allow-lists (sort columns)
 * are spliced into the text.
 */
import type { Page, SortOrder } from "../types.js";
import type { Queryable } from "./database.js";

/** Collects parameters and hands out their `$n` placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  /** A jsonb parameter (objects and arrays are sent as JSON text, never as PostgreSQL arrays). */
  json(value: unknown): string {
    return `${this.add(JSON.stringify(value))}::jsonb`;
  }
}

/** Conditions joined by AND; "TRUE" when there are none. */
export function where(conditions: readonly string[]): string {
  return conditions.length ? conditions.join(" AND ") : "TRUE";
}

/**
 * ORDER BY one column then the id in the same direction (stable pages), with NULLs first when
 * ascending like the embedded backend.
 */
export function orderBy(column: string, order: SortOrder | undefined, idColumn: string): string {
  const dir = order === "asc" ? "ASC NULLS FIRST" : "DESC NULLS LAST";
  const idDir = order === "asc" ? "ASC" : "DESC";
  return column === idColumn ? `ORDER BY ${idColumn} ${idDir}` : `ORDER BY ${column} ${dir}, ${idColumn} ${idDir}`;
}

/** Limit and offset clamped like the embedded backend (limit default 10, offset 0). */
export function pageWindow(window: { limit?: number; offset?: number }, defaultLimit = 10): { limit: number; offset: number } {
  const limit = Number.isFinite(window.limit) ? Math.max(0, Math.floor(window.limit!)) : defaultLimit;
  const offset = Number.isFinite(window.offset) ? Math.max(0, Math.floor(window.offset!)) : 0;
  return { limit, offset };
}

/** LIMIT/OFFSET clamped like the embedded backend (`pageWindow`). */
export function page(params: Params, window: { limit?: number; offset?: number }, defaultLimit = 10): string {
  const { limit, offset } = pageWindow(window, defaultLimit);
  return `LIMIT ${params.add(limit)} OFFSET ${params.add(offset)}`;
}

/** A timestamptz column as the ISO string the API uses. */
export function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function isoNow(): string {
  return new Date().toISOString();
}

/** `column ILIKE %needle%` with the needle's wildcard characters taken literally. */
export function ilikeContains(params: Params, column: string, needle: string): string {
  return `${column} ILIKE ${params.add(`%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`;
}

/** SQLSTATE of a unique violation. */
export const UNIQUE_VIOLATION = "23505";
export const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === UNIQUE_VIOLATION;

/** Deep copy through JSON: what the database would give back (no undefined, no shared references). */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** What `searchPage` selects: rows of `table` matching `filter` (built with `params`). */
export interface PageQuery<Row, Item> {
  columns: string;
  table: string;
  filter: string;
  params: Params;
  /** The ORDER BY clause (`orderBy`). */
  order: string;
  window: { limit?: number; offset?: number };
  toItem: (row: Row) => Item;
  /** Counts every match: only needed when a page past the end comes back empty. */
  countAll: () => Promise<number>;
}

/** One page and the total of all matches, counted in the same query by a window function. */
export async function searchPage<Row, Item>(db: Queryable, q: PageQuery<Row, Item>): Promise<Page<Item>> {
  const { rows } = await db.query<Row & { total: string }>(
    `SELECT ${q.columns}, count(*) OVER () AS total FROM ${q.table} WHERE ${q.filter} ${q.order} ${page(q.params, q.window)}`,
    q.params.values,
  );
  const total = rows[0] ? Number(rows[0].total) : q.window.offset ? await q.countAll() : 0;
  return { items: rows.map(q.toItem), total };
}
