/**
 * The seam for semantic ranking. `CosineOverArrays` keeps vectors as `double precision[]` with
 * their norm and computes cosine similarity in SQL; it works on any PostgreSQL but scores every
 * candidate item (no approximate index). A pgvector implementation of this interface would store
 * `vector(n)` columns, score with `1 - (vector <=> $q)` and add an HNSW index; nothing else in
 * the repository changes.
 */
import type { StoreVector } from "../types.js";
import type { Params } from "./sql.js";

export interface VectorRanking {
  /** Parameter values for one stored vector, in `store_vectors` column order after `field`. */
  encode(vector: StoreVector): { dims: number; vector: unknown; norm: number };
  /**
   * A scalar SQL expression: the best similarity between the query vector and the vectors of the
   * item `item` (a `store_items` alias), null when it has none of the query's dimension.
   */
  bestScore(params: Params, item: string, query: readonly number[]): string;
}

export const cosineOverArrays: VectorRanking = {
  encode: ({ vector }) => ({ dims: vector.length, vector, norm: Math.sqrt(vector.reduce((s, x) => s + x * x, 0)) }),
  bestScore(params, item, query) {
    const q = params.add(query);
    const qNorm = params.add(Math.sqrt(query.reduce((s, x) => s + x * x, 0)));
    // a zero vector (either side) scores 0, like the embedded backend
    return `(SELECT max(COALESCE((SELECT sum(a * b) FROM unnest(v.vector, ${q}::float8[]) AS t(a, b)) / NULLIF(v.norm * ${qNorm}, 0), 0))
      FROM store_vectors v WHERE v.item_id = ${item}.item_id AND v.dims = ${params.add(query.length)})`;
  },
};
