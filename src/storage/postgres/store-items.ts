/**
 * StoreItemsRepository on `store_items` + `store_vectors` (an item's embeddings, replaced with
 * it in one transaction). Namespace prefixes are ranges on `ns_path` (labels URI-encoded, each
 * followed by '/'), expiry is an index on `expires_at`, and ranking goes through `VectorRanking`.
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
import { iso, page, Params, where } from "./sql.js";
import { cosineOverArrays, type VectorRanking } from "./vector-ranking.js";

const COLUMNS = "namespace, key, value, created_at, updated_at, ttl_minutes, expires_at";

interface ItemRow {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  ttl_minutes: number | null;
  expires_at: Date | null;
}

const toItem = (row: ItemRow): StoreItem => ({
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
      return toItem(rows[0]!);
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
    const score = query.queryVector ? this.ranking.bestScore(params, "i", query.queryVector) : "NULL::float8";
    const order = query.queryVector
      ? "ORDER BY score DESC NULLS LAST, i.updated_at DESC, i.item_id"
      : "ORDER BY i.updated_at DESC, i.item_id";
    const select = `SELECT i.item_id, ${COLUMNS.split(", ").map((c) => `i.${c}`).join(", ")}, ${score} AS score
      FROM store_items i WHERE ${where(conditions)} ${order} ${page(params, query)}`;
    const refresh = query.refreshTtl
      ? `, refreshed AS (UPDATE store_items s SET expires_at = ${now}::timestamptz + make_interval(secs => round(s.ttl_minutes * 60000) / 1000)
           FROM hits WHERE s.item_id = hits.item_id AND s.ttl_minutes IS NOT NULL RETURNING s.item_id, s.expires_at)`
      : "";
    const { rows } = await this.db.query<ItemRow & { score: number | null; refreshed_expiry?: Date | null }>(
      `WITH hits AS (${select})${refresh}
       SELECT hits.*${refresh ? ", refreshed.expires_at AS refreshed_expiry" : ""} FROM hits
       ${refresh ? "LEFT JOIN refreshed USING (item_id)" : ""} ${order.replace(/i\./g, "hits.")}`,
      params.values,
    );
    return rows.map((row) => ({
      ...toItem(row.refreshed_expiry ? { ...row, expires_at: row.refreshed_expiry } : row),
      score: row.score,
    }));
  }

  async listNamespaces(query: StoreNamespaceQuery = {}): Promise<string[][]> {
    const params = new Params();
    const conditions = [
      `(i.expires_at IS NULL OR i.expires_at > ${params.add(new Date(this.clock()).toISOString())})`,
      ...storeItemScopeConditions(params, query.scope, "i"),
    ];
    const prefix = query.prefix ?? [];
    const leading = prefix.slice(0, prefix.indexOf("*") === -1 ? prefix.length : prefix.indexOf("*"));
    conditions.push(...prefixRange(params, leading));
    prefix.forEach((label, i) => {
      if (i >= leading.length && label !== "*") conditions.push(`namespace[${i + 1}] = ${params.add(label)}`);
    });
    if (prefix.length > leading.length) conditions.push(`cardinality(namespace) >= ${prefix.length}`);
    const suffix = query.suffix ?? [];
    if (suffix.length) conditions.push(`cardinality(namespace) >= ${suffix.length}`);
    suffix.forEach((label, i) => {
      if (label !== "*") conditions.push(`namespace[cardinality(namespace) - ${suffix.length - 1 - i}] = ${params.add(label)}`);
    });
    const depth = query.maxDepth !== undefined ? `namespace[1:${params.add(Math.max(0, Math.floor(query.maxDepth)))}]` : "namespace";
    const { rows } = await this.db.query<{ ns: string[] }>(
      `SELECT DISTINCT ${depth} AS ns FROM store_items i WHERE ${where(conditions)} ORDER BY ns ${page(params, query, 100)}`,
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
      return `${value} = ${params.json(operand)}`;
    case "$ne":
      return `(NOT ${present} OR ${value} <> ${params.json(operand)})`;
    case "$in":
      return `${value} IN (SELECT jsonb_array_elements(${params.json(operand)}))`;
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
