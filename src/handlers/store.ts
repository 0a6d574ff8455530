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
  async putStoreItem({ body, services, auth }) {
    // handlers typically rewrite the namespace (e.g. prefix it with the user's identity)
    const { value, scope } = await auth.authorize("store:put", { namespace: body.namespace, key: body.key, value: body.value });
    await services.store.putItem(
      {
        namespace: value.namespace,
        key: value.key,
        value: value.value,
        index: body.index,
        // absent (default TTL) and null (no expiry) mean different things: keep them apart
        ...("ttl" in body ? { ttl: body.ttl } : {}),
      },
      scope,
    );
    return { status: 204, body: undefined };
  },

  async getStoreItem({ query, services, auth }) {
    // the SDK joins labels with "." (labels cannot contain one); "" or absent is the root
    const given = query.namespace ? query.namespace.split(".") : [];
    const { value, scope } = await auth.authorize("store:get", { namespace: given, key: query.key });
    const item = await services.store.getItem(value.namespace ?? [], value.key, { refreshTtl: query.refresh_ttl, scope });
    return { status: 200, body: item && toApiItem(item) };
  },

  async deleteStoreItem({ body, services, auth }) {
    const { value, scope } = await auth.authorize("store:delete", { namespace: body.namespace ?? [], key: body.key });
    await services.store.deleteItem(value.namespace ?? [], value.key, scope);
    return { status: 204, body: undefined };
  },

  async searchStoreItems({ body, services, auth }) {
    const { value, scope } = await auth.authorize("store:search", {
      namespace: body.namespace_prefix ?? [],
      filter: body.filter,
      limit: body.limit,
      offset: body.offset,
      query: body.query,
    });
    const hits = await services.store.searchItems({
      namespacePrefix: value.namespace ?? [],
      filter: value.filter,
      limit: body.limit,
      offset: body.offset,
      query: body.query,
      refreshTtl: body.refresh_ttl,
      scope,
    });
    return { status: 200, body: { items: hits.map(toApiSearchItem) } };
  },

  async listStoreNamespaces({ body, services, auth }) {
    const { value, scope } = await auth.authorize("store:list_namespaces", {
      namespace: body.prefix,
      suffix: body.suffix,
      max_depth: body.max_depth,
      limit: body.limit,
      offset: body.offset,
    });
    const namespaces = await services.store.namespaces({
      prefix: value.namespace ?? undefined,
      suffix: value.suffix ?? undefined,
      maxDepth: body.max_depth,
      limit: body.limit,
      offset: body.offset,
      scope,
    });
    return { status: 200, body: { namespaces } };
  },
};
