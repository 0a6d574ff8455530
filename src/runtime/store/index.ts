/**
 * The store graphs receive at run time (`BaseStore`) and the Store API handlers call: one
 * object over `storage.storeItems`, so an item a graph writes is what the API reads and vice
 * versa. It adds to storage what langgraph.json configures:
 * - `store.ttl`: `default_ttl` for puts that give none, `refresh_on_read` (default true) for reads
 *   that do not say, and the sweeper that deletes expired items;
 * - `store.index`: embeddings of the indexed fields on put, and `query` ranking on search.
 *
 * Without an index a search `query` ranks nothing: results come in the unranked order (most
 * recently updated first) with a null score, and a put's `index` has no effect. That is what the
 * LangGraph stores (InMemoryStore, PostgresStore) do without an index configuration, so a graph
 * behaves here as it does there.
 */
import {
  BaseStore,
  InvalidNamespaceError,
  validateNamespace,
  type GetOperation,
  type Item,
  type ListNamespacesOperation,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from "@langchain/langgraph-checkpoint";
import type { Logger } from "pino";
import { InvalidStoreRequestError, parseStoreFilter } from "../../storage/store-query.js";
import { forbidden } from "../../errors.js";
import { inScope, storeItemScopeView } from "../../storage/scope.js";
import type { Scope, StoreItem, StoreItemsRepository, StoreNamespaceQuery, StoreSearchHit, StoreVector } from "../../storage/types.js";
import type { StoreConfig } from "../graphs/config.js";
import { loadStoreIndex, type StoreIndex } from "./embeddings.js";
import type { Cluster } from "../cluster.js";
import { StoreSweeper } from "./sweeper.js";
import { indexedTexts, parseFieldPath } from "./texts.js";

export interface PutItemInput {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  /** false: not indexed; a list: these paths; absent/null: the index's `fields`. */
  index?: false | string[] | null;
  /** Minutes; null: never expires; absent: `store.ttl.default_ttl`. */
  ttl?: number | null;
}

export interface SearchItemsInput {
  namespacePrefix: string[];
  /** Field -> value or operator object (see `parseStoreFilter`). */
  filter?: Record<string, unknown> | null;
  limit?: number;
  offset?: number;
  query?: string | null;
  /** Absent/null: `store.ttl.refresh_on_read`. */
  refreshTtl?: boolean | null;
  /** Only the items the caller may see. */
  scope?: Scope;
}

export interface ServerStoreOptions {
  index?: StoreIndex | null;
  defaultTtl?: number | null;
  refreshOnRead?: boolean;
  /** Told about every write that expires, to schedule its deletion; stopped by `close`. */
  sweeper?: StoreSweeper;
}

/** Namespace rules shared with graphs (`validateNamespace`), reported as a 422. */
function checkNamespace(namespace: string[], what: string, forWrite: boolean): void {
  try {
    validateNamespace(namespace, forWrite ? {} : { allowEmpty: true, allowReservedRoot: true });
  } catch (error) {
    if (error instanceof InvalidNamespaceError) throw new InvalidStoreRequestError(`${what}: ${error.message}`);
    throw error;
  }
}

export class ServerStore extends BaseStore {
  constructor(
    private readonly items: StoreItemsRepository,
    private readonly options: ServerStoreOptions = {},
  ) {
    super();
  }

  /** Stops the sweeper (storage itself is closed by its owner). */
  async close(): Promise<void> {
    await this.options.sweeper?.stop();
  }

  // --------------------------------------------------------------- the API's operations

  async getItem(namespace: string[], key: string, options: { refreshTtl?: boolean | null; scope?: Scope } = {}): Promise<StoreItem | null> {
    checkNamespace(namespace, "namespace", false);
    return this.items.get(namespace, key, { refreshTtl: options.refreshTtl ?? this.#refreshOnRead, scope: options.scope });
  }

  /**
   * Within a scope, an item the caller could not see after writing it is refused (forbidden), and
   * a hidden item is never replaced (not found).
   */
  async putItem(input: PutItemInput, scope?: Scope): Promise<StoreItem> {
    if (!inScope(storeItemScopeView(input), scope)) {
      throw forbidden(`Not authorized to write item '${input.key}' in namespace [${input.namespace.join(", ")}]`);
    }
    const [item] = await this.#putMany([input], scope);
    return item;
  }

  async deleteItem(namespace: string[], key: string, scope?: Scope): Promise<void> {
    checkNamespace(namespace, "namespace", false);
    await this.items.delete(namespace, key, scope);
  }

  async searchItems(input: SearchItemsInput): Promise<StoreSearchHit[]> {
    checkNamespace(input.namespacePrefix, "namespace_prefix", false);
    const filter = parseStoreFilter(input.filter);
    const index = this.options.index;
    const queryVector = input.query && index ? await index.embedQuery(input.query) : undefined;
    return this.items.search({
      namespacePrefix: input.namespacePrefix,
      filter,
      limit: input.limit,
      offset: input.offset,
      refreshTtl: input.refreshTtl ?? this.#refreshOnRead,
      scope: input.scope,
      ...(queryVector ? { queryVector } : {}),
    });
  }

  async namespaces(query: StoreNamespaceQuery = {}): Promise<string[][]> {
    if (query.prefix) checkNamespace(query.prefix, "prefix", false);
    if (query.suffix) checkNamespace(query.suffix, "suffix", false);
    return this.items.listNamespaces(query);
  }

  // ------------------------------------------------------------------ BaseStore (graphs)

  /**
   * Reads first, then writes, like the LangGraph stores: every read of a batch sees the state
   * before the batch, and of several puts to one item the last wins. Puts are embedded together.
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const results: unknown[] = new Array(operations.length).fill(null);
    const reads: Promise<void>[] = [];
    const puts = new Map<string, PutOperation>();
    operations.forEach((op, i) => {
      if ("namespacePrefix" in op) reads.push(this.#search(op).then((r) => void (results[i] = r)));
      else if ("value" in op) puts.set(JSON.stringify([op.namespace, op.key]), op);
      else if ("key" in op) reads.push(this.#get(op).then((r) => void (results[i] = r)));
      else if ("limit" in op) reads.push(this.#list(op).then((r) => void (results[i] = r)));
      else throw new Error(`unknown store operation ${JSON.stringify(op)}`);
    });
    await Promise.all(reads);
    const deletes = [...puts.values()].filter((op) => op.value === null);
    const writes = [...puts.values()].filter((op) => op.value !== null);
    await Promise.all(deletes.map((op) => this.deleteItem(op.namespace, op.key)));
    await this.#putMany(writes.map((op) => ({ namespace: op.namespace, key: op.key, value: op.value!, index: op.index })));
    return results as OperationResults<Op>;
  }

  async #get(op: GetOperation): Promise<Item | null> {
    const item = await this.getItem(op.namespace, op.key);
    return item && toStoreItem(item);
  }

  async #search(op: SearchOperation): Promise<SearchItem[]> {
    const hits = await this.searchItems({
      namespacePrefix: op.namespacePrefix,
      filter: op.filter,
      limit: op.limit,
      offset: op.offset,
      query: op.query,
    });
    return hits.map((hit) => ({ ...toStoreItem(hit), ...(hit.score === null ? {} : { score: hit.score }) }));
  }

  #list(op: ListNamespacesOperation): Promise<string[][]> {
    const query: StoreNamespaceQuery = { limit: op.limit, offset: op.offset, maxDepth: op.maxDepth };
    for (const condition of op.matchConditions ?? []) query[condition.matchType] = condition.path;
    return this.namespaces(query);
  }

  // ---------------------------------------------------------------------------- shared

  get #refreshOnRead(): boolean {
    return this.options.refreshOnRead ?? true;
  }

  async #putMany(inputs: PutItemInput[], scope?: Scope): Promise<StoreItem[]> {
    for (const input of inputs) {
      checkNamespace(input.namespace, "namespace", true);
      // the API serves values as JSON objects; a graph must not store anything else
      if (typeof input.value !== "object" || input.value === null || Array.isArray(input.value)) {
        throw new InvalidStoreRequestError(`value of '${input.key}': expected a JSON object`);
      }
      // checked with or without an index, so a bad path fails the same way on every server
      if (Array.isArray(input.index)) input.index.forEach((path) => parseFieldPath(path));
    }
    const vectors = await this.#embed(inputs);
    const { defaultTtl = null, sweeper } = this.options;
    return Promise.all(
      inputs.map(async (input, i) => {
        const item = await this.items.put(
          {
            namespace: input.namespace,
            key: input.key,
            value: input.value,
            ttl_minutes: input.ttl === undefined ? defaultTtl : input.ttl,
            vectors: vectors[i],
          },
          scope,
        );
        if (item.expires_at !== null) sweeper?.expiresAt(item.expires_at);
        return item;
      }),
    );
  }

  /** The vectors of each input's indexed texts, from one call of the embedding function. */
  async #embed(inputs: readonly PutItemInput[]): Promise<StoreVector[][]> {
    const index = this.options.index;
    if (!index) return inputs.map(() => []);
    const perInput = inputs.map((input) => (input.index === false ? [] : indexedTexts(input.value, input.index ?? index.fields)));
    const texts = [...new Set(perInput.flat().map(([, text]) => text))];
    const embedded = new Map<string, number[]>();
    (await index.embed(texts)).forEach((vector, i) => embedded.set(texts[i], vector));
    return perInput.map((pairs) => pairs.map(([field, text]) => ({ field, vector: embedded.get(text)! })));
  }
}

/** The BaseStore shape of an item (Date timestamps, camelCase). */
function toStoreItem(item: StoreItem): Item {
  return {
    namespace: item.namespace,
    key: item.key,
    value: item.value,
    createdAt: new Date(item.created_at),
    updatedAt: new Date(item.updated_at),
  };
}

/**
 * The server's store as langgraph.json configures it, with its sweeper started.
 * @throws Error (one line) when the configured embedding function cannot be loaded.
 */
export async function openServerStore(
  items: StoreItemsRepository,
  config: StoreConfig | null | undefined,
  configDir: string,
  logger: Logger,
  cluster?: Cluster,
): Promise<ServerStore> {
  const index = config?.index ? await loadStoreIndex(config.index, configDir) : null;
  const sweeper = new StoreSweeper(items, logger, config?.ttl?.sweep_interval_minutes, cluster);
  const store = new ServerStore(items, {
    index,
    defaultTtl: config?.ttl?.default_ttl ?? null,
    refreshOnRead: config?.ttl?.refresh_on_read ?? true,
    sweeper,
  });
  await sweeper.start();
  return store;
}
