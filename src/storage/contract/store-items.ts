/** Storage contract: the store items repository: items with TTLs, filters and vector search. */
import type { Scope } from "./common.js";

/**
 * An item of the key/value store shared by graphs (`BaseStore`) and the Store API, identified by
 * (namespace, key). LangGraph auth handlers usually scope store access by rewriting namespaces;
 * a `Scope` given to the Store API's calls applies to `{...value, namespace, key}` (see `Scope`).
 */
export interface StoreItem {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** Lifetime in minutes, counted from the last write or refreshing read; null = never expires. */
  ttl_minutes: number | null;
  /** When the item stops existing (null = never). Expired items are never returned. */
  expires_at: string | null;
}

/** A search result; `score` is the cosine similarity to the query vector, null when not ranked. */
export interface StoreSearchHit extends StoreItem {
  score: number | null;
}

/** One embedding of an item; `field` names the indexed path its text came from. */
export interface StoreVector {
  field: string;
  vector: number[];
}

export interface StoreItemPut {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  /** Minutes; null = never expires. */
  ttl_minutes: number | null;
  /** Replaces the item's embeddings; [] = not indexed for semantic search. */
  vectors: StoreVector[];
}

export type StoreFilterOperator = "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" | "$in" | "$nin";

/**
 * `value[field] <op> operand` on a top-level field of the item's value (built by
 * `parseStoreFilter`). $eq/$ne: JSON equality (a missing field differs from everything);
 * $gt..$lte: numbers with numbers, strings with strings (code-unit order), else no match;
 * $in/$nin: JSON equality with any element of the operand array.
 */
export interface StoreFilterCondition {
  field: string;
  op: StoreFilterOperator;
  operand: unknown;
}

export interface StoreItemSearch {
  /** Only items whose namespace starts with these labels ([] = every item). */
  namespacePrefix: string[];
  /** Conditions that must all hold. */
  filter?: StoreFilterCondition[];
  /**
   * Ranks by cosine similarity to this vector (best over an item's vectors), best first; items
   * without a comparable vector follow with score null. Without it: most recently updated first.
   */
  queryVector?: number[];
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
  /** Restarts the TTL of the returned items. */
  refreshTtl?: boolean;
  /** Only the items the scope matches. */
  scope?: Scope;
}

export interface StoreNamespaceQuery {
  /** Namespaces starting with these labels; "*" matches any one label. */
  prefix?: string[];
  /** Namespaces ending with these labels; "*" matches any one label. */
  suffix?: string[];
  /** Truncates namespaces to this many labels, then removes duplicates. */
  maxDepth?: number;
  /** default 100 */
  limit?: number;
  /** default 0 */
  offset?: number;
  /** Only namespaces holding at least one item the scope matches. */
  scope?: Scope;
}

export interface StoreItemsRepository {
  /**
   * The live item, or null (also when the scope hides it). `refreshTtl` restarts its TTL (durably)
   * before returning it.
   */
  get(namespace: string[], key: string, options?: { refreshTtl?: boolean; scope?: Scope }): Promise<StoreItem | null>;
  /**
   * Creates or replaces the item; `created_at` survives a replacement of a live item. NotFoundError
   * when a live item with that key exists but the scope hides it (it is never replaced).
   */
  put(input: StoreItemPut, scope?: Scope): Promise<StoreItem>;
  /** Returns false when there was no live item the scope lets the caller see (nothing is deleted then). */
  delete(namespace: string[], key: string, scope?: Scope): Promise<boolean>;
  search(query: StoreItemSearch): Promise<StoreSearchHit[]>;
  /** Namespaces that hold live items, in label-by-label order. */
  listNamespaces(query?: StoreNamespaceQuery): Promise<string[][]>;
  /** Durably deletes every expired item; returns how many. */
  deleteExpired(): Promise<number>;
  /** The earliest `expires_at` of any stored item (possibly already passed), or null. */
  nextExpiry(): Promise<string | null>;
}
