/**
 * The Store API's items as every caller reads and writes them: each operation authorizes its
 * `store:*` event (handlers typically rewrite the namespace, e.g. prefix it with the user's
 * identity), then calls the server's store (the one graphs use).
 */
import type { components } from "../../generated/openapi.js";
import type { RequestAuth } from "../auth/index.js";
import type { ServerStore } from "../runtime/store/index.js";
import type { StoreItem, StoreSearchHit } from "../storage/types.js";

type Schemas = components["schemas"];

/** What store operations use: the server's store. */
export interface StoreDeps {
  store: Pick<ServerStore, "putItem" | "getItem" | "deleteItem" | "searchItems" | "namespaces">;
}

export async function putStoreItem(deps: StoreDeps, auth: RequestAuth, body: Schemas["StorePutRequest"]): Promise<void> {
  const { value, scope } = await auth.authorize("store:put", { namespace: body.namespace, key: body.key, value: body.value });
  await deps.store.putItem(
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
}

/** The item, or null; `refreshTtl` restarts its TTL. */
export async function getStoreItem(
  deps: StoreDeps,
  auth: RequestAuth,
  namespace: string[],
  key: string,
  refreshTtl?: boolean | null,
): Promise<StoreItem | null> {
  const { value, scope } = await auth.authorize("store:get", { namespace, key });
  return deps.store.getItem(value.namespace ?? [], value.key, { refreshTtl, scope });
}

export async function deleteStoreItem(deps: StoreDeps, auth: RequestAuth, body: Schemas["StoreDeleteRequest"]): Promise<void> {
  const { value, scope } = await auth.authorize("store:delete", { namespace: body.namespace ?? [], key: body.key });
  await deps.store.deleteItem(value.namespace ?? [], value.key, scope);
}

export async function searchStoreItems(deps: StoreDeps, auth: RequestAuth, body: Schemas["StoreSearchRequest"]): Promise<StoreSearchHit[]> {
  const { value, scope } = await auth.authorize("store:search", {
    namespace: body.namespace_prefix ?? [],
    filter: body.filter,
    limit: body.limit,
    offset: body.offset,
    query: body.query,
  });
  return deps.store.searchItems({
    namespacePrefix: value.namespace ?? [],
    filter: value.filter,
    limit: body.limit,
    offset: body.offset,
    query: body.query,
    refreshTtl: body.refresh_ttl,
    scope,
  });
}

export async function listStoreNamespaces(deps: StoreDeps, auth: RequestAuth, body: Schemas["StoreListNamespacesRequest"]): Promise<string[][]> {
  const { value, scope } = await auth.authorize("store:list_namespaces", {
    namespace: body.prefix,
    suffix: body.suffix,
    max_depth: body.max_depth,
    limit: body.limit,
    offset: body.offset,
  });
  return deps.store.namespaces({
    prefix: value.namespace ?? undefined,
    suffix: value.suffix ?? undefined,
    maxDepth: body.max_depth,
    limit: body.limit,
    offset: body.offset,
    scope,
  });
}
