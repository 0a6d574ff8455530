/**
 * StoreItemsRepository on `store_items` + `store_vectors` (an item's embeddings, replaced with
 * it in one transaction). Search prefixes are ranges on `ns_path` (labels URI-encoded, each
 * followed by '/'); namespace listing walks the `namespace` index, which sorts label by label;
 * expiry is an index on `expires_at`, and ranking goes through `VectorRanking`.
 * Times come from an injectable clock, like the embedded backend, so expiry is testable.
 */
import { NotFoundError } from "../errors.js";
import type {
  Scope,
  StoreFilterCondition,
  StoreItem,
  StoreItemPut,
  StoreItemSearch,
  StoreItemsRepository,
  StoreNamespaceQuery,
  StoreSearchHit,
} from "../types.js";
import { storeItemId } from "../store-query.js";
import type { Database, Queryable } from "./database.js";
import { storeItemScopeConditions } from "./scope.js";
import { iso, page, pageWindow, Params, where } from "./sql.js";
import { cosineOverArrays, type VectorRanking } from "./vector-ranking.js";

const COLUMNS = "namespace, key, value, created_at, updated_at, ttl_minutes, expires_at";
const itemColumns = (alias: string) => ["item_id", ...COLUMNS.split(", ")].map((c) => `${alias}.${c}`).join(", ");

export interface ItemRow {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  ttl_minutes: number | null;
  expires_at: Date | null;
}

export const toItem = (row: ItemRow): StoreItem => ({
  namespace: row.namespace,
  key: row.key,
  value: row.value,
  created_at: iso(row.created_at)!,
  updated_at: iso(row.updated_at)!,
  ttl_minutes: row.ttl_minutes,
  expires_at: iso(row.expires_at),
});

/** The `ns_path` of a namespace (or of a prefix of one). */
export const nsPath = (labels: readonly string[]) => labels.map((l) => `${encodeURIComponent(l)}/`).join("");

/** `ns_path` range of every namespace starting with `labels` (C collation: '0' follows '/'). */
function prefixRange(params: Params, labels: readonly string[], column = "ns_path"): string[] {
  if (labels.length === 0) return [];
  const path = nsPath(labels);
  return [`${column} >= ${params.add(path)}`, `${column} < ${params.add(`${path.slice(0, -1)}0`)}`];
}

/** The least namespace after every namespace that starts with `labels` (see `listNamespaces`). */
const successor = (labels: readonly string[]) => [...labels.slice(0, -1), `${labels.at(-1)!}\u0001`];

const expiry = (now: number, ttl: number | null) => (ttl === null ? null : new Date(now + Math.round(ttl * 60_000)).toISOString());

export class PostgresStoreItems implements StoreItemsRepository {
  constructor(
    private readonly db: Database,
    /** Epoch milliseconds; injectable so that expiry can be tested without waiting. */
    private readonly clock: () => number = Date.now,
    private readonly ranking: VectorRanking = cosineOverArrays,
  ) {}

  async get(namespace: string[], key: string, options: { refreshTtl?: boolean; scope?: Scope } = {}): Promise<StoreItem | null> {
    const params = new Params();
    const now = params.add(new Date(this.clock()).toISOString());
    const conditions = [
      `i.item_id = ${params.add(storeItemId(namespace, key))}`,
      `(i.expires_at IS NULL OR i.expires_at > ${now})`,
      ...storeItemScopeConditions(params, options.scope, "i"),
    ];
    const { rows } = options.refreshTtl
      ? await this.db.query<ItemRow>(
          `UPDATE store_items i SET expires_at = CASE WHEN ttl_minutes IS NULL THEN NULL
             ELSE ${now}::timestamptz + make_interval(secs => round(ttl_minutes * 60000) / 1000) END
           WHERE ${where(conditions)} RETURNING ${COLUMNS}`,
          params.values,
        )
      : await this.db.query<ItemRow>(`SELECT ${COLUMNS} FROM store_items i WHERE ${where(conditions)}`, params.values);
    return rows[0] ? toItem(rows[0]) : null;
  }

  async put(input: StoreItemPut, scope?: Scope): Promise<StoreItem> {
    const now = this.clock();
    const at = new Date(now).toISOString();
    const id = storeItemId(input.namespace, input.key);
    return this.db.transaction(async (tx) => {
      if (scope?.conditions.length) await this.#requireWritable(tx, id, at, scope, input.key);
      // created_at survives the replacement of a live item only
      const { rows } = await tx.query<ItemRow>(
        `INSERT INTO store_items (item_id, namespace, ns_path, key, value, created_at, updated_at, ttl_minutes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
         ON CONFLICT (item_id) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at,
           ttl_minutes = EXCLUDED.ttl_minutes, expires_at = EXCLUDED.expires_at,
           created_at = CASE WHEN store_items.expires_at IS NULL OR store_items.expires_at > EXCLUDED.updated_at
             THEN store_items.created_at ELSE EXCLUDED.created_at END
         RETURNING ${COLUMNS}`,
        [id, input.namespace, nsPath(input.namespace), input.key, JSON.stringify(input.value), at, input.ttl_minutes, expiry(now, input.ttl_minutes)],
      );
      await this.#replaceVectors(tx, id, input);
      return toItem(rows[0]);
    });
  }

  async delete(namespace: string[], key: string, scope?: Scope): Promise<boolean> {
    const params = new Params();
    const now = params.add(new Date(this.clock()).toISOString());
    const id = params.add(storeItemId(namespace, key));
    const terms = storeItemScopeConditions(params, scope, "i");
    // an expired item not yet swept is removed too (the caller wants it gone); a live one the scope hides stays
    const hidden = terms.length ? `AND NOT ((i.expires_at IS NULL OR i.expires_at > ${now}) AND NOT (${terms.join(" AND ")}))` : "";
    const { rows } = await this.db.query<{ live: boolean }>(
      `DELETE FROM store_items i WHERE i.item_id = ${id} ${hidden}
       RETURNING (i.expires_at IS NULL OR i.expires_at > ${now}) AS live`,
      params.values,
    );
    return rows[0]?.live === true;
  }

  async search(query: StoreItemSearch): Promise<StoreSearchHit[]> {
    const params = new Params();
    const now = params.add(new Date(this.clock()).toISOString());
    const conditions = [`(i.expires_at IS NULL OR i.expires_at > ${now})`, ...prefixRange(params, query.namespacePrefix, "i.ns_path")];
    for (const condition of query.filter ?? []) conditions.push(filterSql(params, condition));
    conditions.push(...storeItemScopeConditions(params, query.scope, "i"));
    const order = "ORDER BY score DESC NULLS LAST, updated_at DESC, item_id";
    const ranked = query.queryVector
      ? this.#ranked(params, query.queryVector, where(conditions), query, query.namespacePrefix.length > 0)
      : undefined;
    // without a query vector: walks `store_items_recent` and stops after the page
    const hits = ranked
      ? `${ranked}, hits AS (SELECT ${itemColumns("i")}, page.score FROM page JOIN store_items i USING (item_id))`
      : `hits AS (SELECT ${itemColumns("i")}, NULL::float8 AS score FROM store_items i
           WHERE ${where(conditions)} ORDER BY i.updated_at DESC, i.item_id ${page(params, query)})`;
    const refresh = query.refreshTtl
      ? `, refreshed AS (UPDATE store_items s SET expires_at = ${now}::timestamptz + make_interval(secs => round(s.ttl_minutes * 60000) / 1000)
           FROM hits WHERE s.item_id = hits.item_id AND s.ttl_minutes IS NOT NULL RETURNING s.item_id, s.expires_at)`
      : "";
    const { rows } = await this.db.query<ItemRow & { score: number | null; refreshed_expiry?: Date | null }>(
      `WITH ${hits}${refresh}
       SELECT hits.*${refresh ? ", refreshed.expires_at AS refreshed_expiry" : ""} FROM hits
       ${refresh ? "LEFT JOIN refreshed USING (item_id)" : ""} ${order}`,
      params.values,
    );
    return rows.map((row) => ({
      ...toItem(row.refreshed_expiry ? { ...row, expires_at: row.refreshed_expiry } : row),
      score: row.score,
    }));
  }

  /**
   * CTEs ending in `page` (item_id, updated_at, score): the page of items matching `conditions`,
   * best score first, then those without a comparable vector (score null) by recency. At most
   * limit + offset are scored and ranked (`VectorRanking.best`); unranked items are looked for
   * only when fewer than that many are ranked, so a store whose items all have vectors is not
   * walked a second time.
   */
  #ranked(params: Params, vector: readonly number[], conditions: string, window: { limit?: number; offset?: number }, narrowed: boolean): string {
    const { limit, offset } = pageWindow(window);
    const wanted = params.add(limit + offset);
    return `ranked AS (${this.ranking.best(params, vector, conditions, wanted, narrowed)}),
      unranked AS (SELECT i.item_id, i.updated_at, NULL::float8 AS score FROM store_items i
        WHERE ${conditions} AND ${this.ranking.unranked(params, "i", vector)} AND (SELECT count(*) FROM ranked) < ${wanted}
        ORDER BY i.updated_at DESC, i.item_id LIMIT ${wanted}),
      page AS (SELECT * FROM ranked UNION ALL SELECT * FROM unranked
        ORDER BY score DESC NULLS LAST, updated_at DESC, item_id LIMIT ${params.add(limit)} OFFSET ${params.add(offset)})`;
  }

  /**
   * A skip scan over `store_items_namespace` (a recursive CTE): each step is one index descent
   * to the first live, matching item past the previous namespace (or past every namespace under
   * the previous truncated one, with `maxDepth`), so the cost is one descent per namespace
   * listed (offset included) instead of a read of every item. PostgreSQL evaluates a recursive
   * CTE only as far as the outer LIMIT pulls it, and it yields its rows in the order made.
   * Rows the walk steps over are only those that fail a condition (expired, hidden by the scope,
   * not matching a wildcard or suffix label). Chosen over a table of namespaces kept beside the
   * items: that table would have to follow every put, delete, and expiry (which is by time,
   * not by a write), and each scope.
   */
  async listNamespaces(query: StoreNamespaceQuery = {}): Promise<string[][]> {
    const params = new Params();
    const conditions = [
      `(i.expires_at IS NULL OR i.expires_at > ${params.add(new Date(this.clock()).toISOString())})`,
      ...storeItemScopeConditions(params, query.scope, "i"),
    ];
    const prefix = query.prefix ?? [];
    const leading = prefix.slice(0, prefix.indexOf("*") === -1 ? prefix.length : prefix.indexOf("*"));
    if (leading.length) {
      conditions.push(`i.namespace >= ${params.add(leading)}::text[]`, `i.namespace < ${params.add(successor(leading))}::text[]`);
    }
    prefix.forEach((label, i) => {
      if (i >= leading.length && label !== "*") conditions.push(`i.namespace[${i + 1}] = ${params.add(label)}`);
    });
    if (prefix.length > leading.length) conditions.push(`cardinality(i.namespace) >= ${prefix.length}`);
    const suffix = query.suffix ?? [];
    if (suffix.length) conditions.push(`cardinality(i.namespace) >= ${suffix.length}`);
    suffix.forEach((label, i) => {
      if (label !== "*") conditions.push(`i.namespace[cardinality(i.namespace) - ${suffix.length - 1 - i}] = ${params.add(label)}`);
    });
    const depth = query.maxDepth === undefined ? undefined : Math.max(0, Math.floor(query.maxDepth));
    const d = depth === undefined ? "" : params.add(depth);
    const listed = depth === undefined ? "i.namespace" : `i.namespace[1:${d}]`;
    // the least namespace past `w.ns` and, with a depth, past everything `w.ns` truncates: the
    // next label after w.ns[d] is w.ns[d] || E'\x01' ("C" order; text holds no NUL)
    const next =
      depth === undefined
        ? "i.namespace > w.ns"
        : depth === 0
          ? "FALSE"
          : `i.namespace >= CASE WHEN cardinality(w.ns) < ${d} THEN w.ns || ''::text
              ELSE w.ns[1:${d} - 1] || (w.ns[${d}] || E'\\x01') END`;
    const step = (extra: string) => `SELECT ${listed} FROM store_items i WHERE ${where([...conditions, extra])} ORDER BY i.namespace LIMIT 1`;
    const { rows } = await this.db.query<{ ns: string[] }>(
      `WITH RECURSIVE walk(ns) AS (
         (${step("TRUE")})
         UNION ALL
         SELECT (${step(next)}) FROM walk w WHERE w.ns IS NOT NULL
       )
       SELECT ns FROM walk WHERE ns IS NOT NULL ${page(params, query, 100)}`,
      params.values,
    );
    return rows.map((r) => r.ns);
  }

  async deleteExpired(): Promise<number> {
    const { rowCount } = await this.db.query("DELETE FROM store_items WHERE expires_at <= $1", [new Date(this.clock()).toISOString()]);
    return rowCount;
  }

  async nextExpiry(): Promise<string | null> {
    const { rows } = await this.db.query<{ at: Date | null }>("SELECT min(expires_at) AS at FROM store_items WHERE expires_at IS NOT NULL");
    return iso(rows[0]?.at ?? null);
  }

  /** A live item the scope hides cannot be replaced (it looks absent, yet its key is taken). */
  async #requireWritable(tx: Queryable, id: string, at: string, scope: Scope, key: string): Promise<void> {
    const params = new Params();
    const terms = storeItemScopeConditions(params, scope, "i");
    const { rows } = await tx.query<{ visible: boolean }>(
      `SELECT ${where(terms)} AS visible FROM store_items i
       WHERE i.item_id = ${params.add(id)} AND (i.expires_at IS NULL OR i.expires_at > ${params.add(at)}) FOR UPDATE`,
      params.values,
    );
    if (rows[0] && !rows[0].visible) throw new NotFoundError("Store item", key);
  }

  async #replaceVectors(tx: Queryable, id: string, input: StoreItemPut): Promise<void> {
    await tx.query("DELETE FROM store_vectors WHERE item_id = $1", [id]);
    if (input.vectors.length === 0) return;
    const encoded = input.vectors.map((v) => this.ranking.encode(v));
    await tx.query(
      `INSERT INTO store_vectors (item_id, position, field, dims, vector, norm)
       SELECT $1, p, f, d, (SELECT array_agg(x::float8) FROM jsonb_array_elements_text(v) AS x), n
       FROM unnest($2::int[], $3::text[], $4::int[], $5::jsonb[], $6::float8[]) AS t(p, f, d, v, n)`,
      [
        id,
        encoded.map((_, i) => i),
        input.vectors.map((v) => v.field),
        encoded.map((e) => e.dims),
        encoded.map((e) => JSON.stringify(e.vector)),
        encoded.map((e) => e.norm),
      ],
    );
  }
}

/**
 * One store filter condition as SQL over `i.value` (semantics on `StoreFilterCondition`):
 * equality is jsonb equality, ordering compares numbers with numbers and strings with strings.
 */
function filterSql(params: Params, { field, op, operand }: StoreFilterCondition): string {
  const f = params.add(field);
  const value = `i.value -> ${f}`;
  const present = `i.value ? ${f}`;
  switch (op) {
    case "$eq":
      // the containment lets `store_items_value` (GIN) find the candidates; the equality is exact
      return `(i.value @> ${params.json({ [field]: operand })} AND ${value} = ${params.json(operand)})`;
    case "$ne":
      return `(NOT ${present} OR ${value} <> ${params.json(operand)})`;
    case "$in": {
      const each = (operand as unknown[]).map((x) => JSON.stringify({ [field]: x }));
      return `(i.value @> ANY(${params.add(each)}::jsonb[]) AND ${value} IN (SELECT jsonb_array_elements(${params.json(operand)})))`;
    }
    case "$nin":
      return `(NOT ${present} OR ${value} NOT IN (SELECT jsonb_array_elements(${params.json(operand)})))`;
    default: {
      const cmp = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" }[op];
      if (typeof operand === "number") {
        return `(jsonb_typeof(${value}) = 'number' AND (i.value ->> ${f})::numeric ${cmp} ${params.add(operand)}::numeric)`;
      }
      if (typeof operand === "string") {
        return `(jsonb_typeof(${value}) = 'string' AND (i.value ->> ${f}) COLLATE "C" ${cmp} ${params.add(operand)}::text COLLATE "C")`;
      }
      return "FALSE";
    }
  }
}
