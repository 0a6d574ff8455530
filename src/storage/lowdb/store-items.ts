/**
 * StoreItemsRepository over a lowdb `Collection`.
 *
 * One record per (namespace, key), sharded by that full key: a popular namespace spreads over
 * all shards instead of growing one file that every write would rewrite. A record keeps its
 * embeddings (`vectors`) beside the item so an item and its vectors change in one atomic write.
 * Indexes: the first namespace label (narrows prefix searches). Expiry: an `ExpiryHeap`.
 */
import type {
  Scope,
  StoreItem,
  StoreItemPut,
  StoreItemSearch,
  StoreItemsRepository,
  StoreNamespaceQuery,
  StoreSearchHit,
  StoreVector,
} from "../types.js";
import { NotFoundError } from "../errors.js";
import { inScope, scopePredicate, storeItemScopeView } from "../scope.js";
import { storeItemId } from "../store-query.js";
import { Collection, type CollectionOptions } from "./collection.js";
import { ExpiryHeap } from "./expiry-heap.js";
import { copy } from "./json.js";
import { normalizeWindow, paginate, type Compare } from "./page.js";
import { bestCosine, compareNamespaces, endsWith, filterPredicate, norm, startsWith } from "./store-match.js";

/** What is stored: the item plus its embeddings. */
export interface StoreItemEntity extends StoreItem {
  vectors: StoreVector[];
}

export function storeItemCollectionOptions(dir: string, shards: number): CollectionOptions<StoreItemEntity> {
  return {
    dir,
    shards,
    idOf: (r) => storeItemId(r.namespace, r.key),
    indexes: { root: (r) => r.namespace[0] },
  };
}

const DEFAULT_NAMESPACE_LIMIT = 100;
/** Stale heap entries tolerated beyond the record count before a rebuild. */
const HEAP_SLACK = 1024;

export class LowdbStoreItems implements StoreItemsRepository {
  readonly #expiries: ExpiryHeap;

  constructor(
    private readonly col: Collection<StoreItemEntity>,
    /** Epoch milliseconds; injectable so that expiry can be tested without waiting. */
    private readonly clock: () => number = Date.now,
  ) {
    this.#expiries = new ExpiryHeap(({ at, id }) => {
      const record = this.col.get(id);
      return record?.expires_at != null && Date.parse(record.expires_at) === at;
    });
    this.#expiries.rebuild(this.#expiryEntries());
  }

  async get(namespace: string[], key: string, options: { refreshTtl?: boolean; scope?: Scope } = {}): Promise<StoreItem | null> {
    const id = storeItemId(namespace, key);
    const record = this.#live(id, this.clock());
    if (!record || !inScope(storeItemScopeView(record), options.scope)) return null;
    if (options.refreshTtl && record.ttl_minutes !== null) return toItem(await this.#refresh(record));
    await this.col.settled(id);
    return toItem(record);
  }

  async put(input: StoreItemPut, scope?: Scope): Promise<StoreItem> {
    const now = this.clock();
    const id = storeItemId(input.namespace, input.key);
    const existing = this.#live(id, now);
    if (existing && !inScope(storeItemScopeView(existing), scope)) throw new NotFoundError("Store item", input.key);
    const at = new Date(now).toISOString();
    const record: StoreItemEntity = {
      namespace: [...input.namespace],
      key: input.key,
      value: copy(input.value),
      created_at: existing?.created_at ?? at,
      updated_at: at,
      ttl_minutes: input.ttl_minutes,
      expires_at: expiry(now, input.ttl_minutes),
      vectors: copy(input.vectors),
    };
    await this.#write(record);
    return toItem(record);
  }

  async delete(namespace: string[], key: string, scope?: Scope): Promise<boolean> {
    const id = storeItemId(namespace, key);
    const live = this.#live(id, this.clock());
    if (live && !inScope(storeItemScopeView(live), scope)) return false;
    const wasLive = live !== undefined;
    // an expired record not yet swept is removed too: the caller wants it gone
    await this.col.delete(id);
    return wasLive;
  }

  async search(query: StoreItemSearch): Promise<StoreSearchHit[]> {
    const now = this.clock();
    const prefix = query.namespacePrefix;
    const matches = filterPredicate(query.filter);
    const visible = scopePredicate(query.scope);
    const candidates = prefix.length > 0 ? this.col.candidates([["root", prefix[0]]]) : this.col.values();
    const hits: Array<{ record: StoreItemEntity; score: number | null }> = [];
    const queryVector = query.queryVector;
    const queryNorm = queryVector ? norm(queryVector) : 0;
    for (const record of candidates) {
      if (!isLive(record, now) || !startsWith(record.namespace, prefix) || !matches(record.value)) continue;
      if (visible && !visible(storeItemScopeView(record))) continue;
      hits.push({ record, score: queryVector ? bestCosine(queryVector, queryNorm, record.vectors) : null });
    }
    const page = paginate(hits, () => true, queryVector ? byScore : byRecency, query).items;
    return Promise.all(
      page.map(async ({ record, score }) => {
        if (query.refreshTtl && record.ttl_minutes !== null) return { ...toItem(await this.#refresh(record)), score };
        await this.col.settled(idOf(record));
        return { ...toItem(record), score };
      }),
    );
  }

  async listNamespaces(query: StoreNamespaceQuery = {}): Promise<string[][]> {
    const now = this.clock();
    const seen = new Map<string, string[]>();
    const visible = scopePredicate(query.scope);
    for (const record of this.col.values()) {
      if (!isLive(record, now) || (visible && !visible(storeItemScopeView(record)))) continue;
      const ns = record.namespace;
      if (query.prefix && !startsWith(ns, query.prefix, true)) continue;
      if (query.suffix && !endsWith(ns, query.suffix)) continue;
      const kept = query.maxDepth !== undefined ? ns.slice(0, query.maxDepth) : ns;
      const k = JSON.stringify(kept);
      if (!seen.has(k)) seen.set(k, kept);
    }
    const { limit, offset } = normalizeWindow({ limit: query.limit ?? DEFAULT_NAMESPACE_LIMIT, offset: query.offset });
    return [...seen.values()]
      .sort(compareNamespaces)
      .slice(offset, offset + limit)
      .map((ns) => [...ns]);
  }

  async deleteExpired(): Promise<number> {
    const now = this.clock();
    const deletions: Promise<boolean>[] = [];
    for (let due = this.#expiries.popDue(now); due; due = this.#expiries.popDue(now)) {
      deletions.push(this.col.delete(due.id));
    }
    return (await Promise.all(deletions)).filter(Boolean).length;
  }

  async nextExpiry(): Promise<string | null> {
    const next = this.#expiries.peek();
    return next ? new Date(next.at).toISOString() : null;
  }

  /** The record if it exists and has not expired at `now`. */
  #live(id: string, now: number): StoreItemEntity | undefined {
    const record = this.col.get(id);
    return record && isLive(record, now) ? record : undefined;
  }

  /** Stores an item as it is given (an archive's), expiry included. */
  restore(record: StoreItemEntity): Promise<void> {
    return this.#write(record);
  }

  /** Restarts a record's TTL from now (durably). */
  async #refresh(record: StoreItemEntity): Promise<StoreItemEntity> {
    const refreshed = { ...record, expires_at: expiry(this.clock(), record.ttl_minutes) };
    await this.#write(refreshed);
    return refreshed;
  }

  #write(record: StoreItemEntity): Promise<void> {
    const done = this.col.put(record);
    if (record.expires_at !== null) {
      this.#expiries.push(Date.parse(record.expires_at), idOf(record));
      if (this.#expiries.size > 2 * this.col.size + HEAP_SLACK) this.#expiries.rebuild(this.#expiryEntries());
    }
    return done;
  }

  *#expiryEntries(): Iterable<{ at: number; id: string }> {
    for (const record of this.col.values()) {
      if (record.expires_at !== null) yield { at: Date.parse(record.expires_at), id: idOf(record) };
    }
  }
}

const idOf = (r: StoreItemEntity) => storeItemId(r.namespace, r.key);

function isLive(record: StoreItem, now: number): boolean {
  return record.expires_at === null || Date.parse(record.expires_at) > now;
}

function expiry(now: number, ttlMinutes: number | null): string | null {
  return ttlMinutes === null ? null : new Date(now + Math.round(ttlMinutes * 60_000)).toISOString();
}

/** A copy without the embeddings (they never leave storage). */
function toItem(record: StoreItemEntity): StoreItem {
  const { vectors: _vectors, ...item } = record;
  return copy(item);
}

type Hit = { record: StoreItemEntity; score: number | null };

/** Most recently updated first; ties by id so that pages are stable. */
const byRecency: Compare<Hit> = (a, b) => {
  if (a.record.updated_at !== b.record.updated_at) return a.record.updated_at < b.record.updated_at ? 1 : -1;
  const ia = idOf(a.record);
  const ib = idOf(b.record);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
};

/** Best score first, unscored items last (by recency). */
const byScore: Compare<Hit> = (a, b) => {
  if (a.score !== b.score) {
    if (a.score === null) return 1;
    if (b.score === null) return -1;
    return b.score - a.score;
  }
  return byRecency(a, b);
};
