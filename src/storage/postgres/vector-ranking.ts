/**
 * The seam for semantic ranking: how vectors are stored and how the best items for a query
 * vector are found. `cosineOverArrays` keeps vectors as `double precision[]` with their norm and
 * computes cosine similarity in SQL; it works on any PostgreSQL, and it scores every candidate
 * (no approximate index): with a namespace prefix or an indexed filter the candidates are found
 * through an index, without either they are every stored vector of the query's dimension.
 *
 * A pgvector implementation would store `vector(n)` columns with an HNSW index and select
 * `ORDER BY embedding <=> $q LIMIT k` in `best`; the repository stays as it is. It is not
 * written here: pgvector cannot be installed on this project's machines, so it could not be
 * tested.
 */
import type { StoreVector } from "../types.js";
import type { Params } from "./sql.js";

export interface VectorRanking {
  /** Parameter values for one stored vector, in `store_vectors` column order after `field`. */
  encode(vector: StoreVector): { dims: number; vector: unknown; norm: number };
  /**
   * A SELECT of `item_id, updated_at, score` for the `limit` best of the items `i` (store_items)
   * matching `conditions` that hold a vector of the query's dimension, best first (score = the
   * best similarity over the item's vectors; ties: most recently updated, then item_id).
   * `narrowed`: the conditions select few items through an index (a namespace prefix), so the
   * items are found first and each is scored from its own vectors; otherwise every vector of
   * the query's dimension is scored once and joined to its item.
   */
  best(params: Params, query: readonly number[], conditions: string, limit: string, narrowed: boolean): string;
  /** A condition on the item `item`: it has no vector of the query's dimension (its score is null). */
  unranked(params: Params, item: string, query: readonly number[]): string;
}

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

export const cosineOverArrays: VectorRanking = {
  encode: ({ vector }) => ({ dims: vector.length, vector, norm: norm(vector) }),
  best(params, query, conditions, limit, narrowed) {
    const q = params.add(query);
    const qNorm = params.add(norm(query));
    const dims = params.add(query.length);
    // a zero vector (either side) scores 0, like the embedded backend
    const score = `max(COALESCE((SELECT sum(a * b) FROM unnest(v.vector, ${q}::float8[]) AS t(a, b)) / NULLIF(v.norm * ${qNorm}, 0), 0))`;
    const order = `ORDER BY score DESC, i.updated_at DESC, i.item_id LIMIT ${limit}`;
    // the planner would rather hash-join all vectors than look up a thousand items' vectors one by
    // one (it assumes uncached pages), so the narrowed form is a LATERAL lookup per item
    return narrowed
      ? `SELECT i.item_id, i.updated_at, s.score FROM store_items i
          CROSS JOIN LATERAL (SELECT ${score} AS score FROM store_vectors v
            WHERE v.item_id = i.item_id AND v.dims = ${dims} GROUP BY v.item_id) s
          WHERE ${conditions} ${order}`
      : `SELECT i.item_id, i.updated_at, s.score
          FROM (SELECT v.item_id, ${score} AS score FROM store_vectors v WHERE v.dims = ${dims} GROUP BY v.item_id) s
          JOIN store_items i ON i.item_id = s.item_id WHERE ${conditions} ${order}`;
  },
  unranked: (params, item, query) =>
    `NOT EXISTS (SELECT 1 FROM store_vectors v WHERE v.item_id = ${item}.item_id AND v.dims = ${params.add(query.length)})`,
};
