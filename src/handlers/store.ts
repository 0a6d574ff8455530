import type { components } from "../../generated/openapi.js";
import type { OperationHandlers } from "../http/operations.js";
import type { StoreItem, StoreSearchHit } from "../storage/types.js";
import { deleteStoreItem, getStoreItem, listStoreNamespaces, putStoreItem, searchStoreItems } from "../app/store.js";

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
    await putStoreItem(services, auth, body);
    return { status: 204, body: undefined };
  },

  async getStoreItem({ query, services, auth }) {
    // the SDK joins labels with "." (labels cannot contain one); "" or absent is the root
    const namespace = query.namespace ? query.namespace.split(".") : [];
    const item = await getStoreItem(services, auth, namespace, query.key, query.refresh_ttl);
    return { status: 200, body: item && toApiItem(item) };
  },

  async deleteStoreItem({ body, services, auth }) {
    await deleteStoreItem(services, auth, body);
    return { status: 204, body: undefined };
  },

  async searchStoreItems({ body, services, auth }) {
    return { status: 200, body: { items: (await searchStoreItems(services, auth, body)).map(toApiSearchItem) } };
  },

  async listStoreNamespaces({ body, services, auth }) {
    return { status: 200, body: { namespaces: await listStoreNamespaces(services, auth, body) } };
  },
};
