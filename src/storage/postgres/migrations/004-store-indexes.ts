/**
 * Indexes so that store queries read only the rows they return:
 * - `store_items_namespace`: namespaces in label-by-label order (`text[]` under "C" compares
 *   label by label, a namespace before its extensions), so `listNamespaces` walks it from one
 *   distinct namespace to the next (a skip scan) instead of reading every item; `expires_at` is
 *   included so that liveness is checked from the index alone. `ns_path` cannot serve this: its
 *   URI encoding and '/' separators do not sort like labels ("a-b/" sorts before "a/").
 * - `store_items_value`: GIN over item values, for filter equalities written as containment.
 * Built inside the migration's transaction (CONCURRENTLY cannot be), so writes to store_items
 * wait while they build on an existing store.
 */
export const name = "store-indexes";

export const sql = /* sql */ `
CREATE INDEX store_items_namespace ON store_items (namespace) INCLUDE (expires_at);
CREATE INDEX store_items_value ON store_items USING gin (value jsonb_path_ops);
`;
