import type { components } from "../../generated/openapi.js";
import type { OperationHandlers } from "../http/operations.js";
import type { StoreItem, StoreSearchHit } from "../storage/types.js";

type StoreOperations = "putStoreItem" | "getStoreItem" | "deleteStoreItem" | "searchStoreItems" | "listStoreNamespaces";

/** The API shape of an item: TTL bookkeeping stays on the server. */
function toApiItem(item: StoreItem): components["schemas"]["Item"] {
  const { namespace, key, value, created_at, updated_at } = item;
  return { namespace, key, value, created_at, updated_at };
}

function toApiSearchItem(hit: StoreSearchHit): components["schemas"]["SearchItem"] {
  return { ...toApiItem(hit), score: hit.score };
}

export const storeHandlers: OperationHandlers<StoreOperations> = {
  async putStoreItem({ body, services }) {
    await services.store.putItem({
      namespace: body.namespace,
      key: body.key,
      value: body.value,
      index: body.index,
      // absent (default TTL) and null (no expiry) mean different things: keep them apart
      ...("ttl" in body ? { ttl: body.ttl } : {}),
    });
    return { status: 204, body: undefined };
  },

  async getStoreItem({ query, services }) {
    // the SDK joins labels with "." (labels cannot contain one); "" or absent is the root
    const namespace = query.namespace ? query.namespace.split(".") : [];
    const item = await services.store.getItem(namespace, query.key, { refreshTtl: query.refresh_ttl });
    return { status: 200, body: item && toApiItem(item) };
  },

  async deleteStoreItem({ body, services }) {
    await services.store.deleteItem(body.namespace ?? [], body.key);
    return { status: 204, body: undefined };
  },

  async searchStoreItems({ body, services }) {
    const hits = await services.store.searchItems({
      namespacePrefix: body.namespace_prefix ?? [],
      filter: body.filter,
      limit: body.limit,
      offset: body.offset,
      query: body.query,
      refreshTtl: body.refresh_ttl,
    });
    return { status: 200, body: { items: hits.map(toApiSearchItem) } };
  },

  async listStoreNamespaces({ body, services }) {
    const namespaces = await services.store.namespaces({
      prefix: body.prefix,
      suffix: body.suffix,
      maxDepth: body.max_depth,
      limit: body.limit,
      offset: body.offset,
    });
    return { status: 200, body: { namespaces } };
  },
};
