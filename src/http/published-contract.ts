/**
 * The contract as this server publishes it (`/openapi.json`, `/docs`): only the operations it
 * serves, at the URL it serves them. `http.disable_*` removes operations (they answer 404 as
 * unknown routes do), and `http.mount_prefix` moves every route under a prefix, which the
 * published document carries as its server URL (its paths stay those of the API).
 */
import type { Document } from "openapi-backend";
import type { HttpConfig } from "../runtime/graphs/config.js";

/** The `http.disable_*` flags and the contract tags whose operations each removes. */
const DISABLED_TAGS: Record<string, string[]> = {
  disable_assistants: ["Assistants"],
  disable_threads: ["Threads"],
  disable_runs: ["Thread Runs", "Stateless Runs", "Crons"],
  disable_store: ["Store"],
  disable_mcp: ["MCP"],
  disable_a2a: ["A2A"],
  disable_meta: ["System"],
  disable_ui: ["UI"],
};

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

interface OperationLike {
  operationId?: string;
  tags?: string[];
}

/** The operationIds `http.disable_*` removes. */
export function disabledOperations(contract: Document, http: HttpConfig | null | undefined): Set<string> {
  const tags = new Set(Object.entries(DISABLED_TAGS).flatMap(([flag, names]) => (http?.[flag as keyof HttpConfig] ? names : [])));
  const disabled = new Set<string>();
  for (const item of Object.values(contract.paths ?? {})) {
    for (const method of METHODS) {
      const { operationId, tags: own } = ((item as Record<string, unknown> | undefined)?.[method] ?? {}) as OperationLike;
      if (operationId && own?.some((tag) => tags.has(tag))) disabled.add(operationId);
    }
  }
  return disabled;
}

/** The document without the disabled operations (and paths and tags left empty), served from `mount_prefix`. */
export function publishedContract(contract: Document, http: HttpConfig | null | undefined): Document {
  const disabled = disabledOperations(contract, http);
  const paths: Record<string, unknown> = {};
  const usedTags = new Set<string>();
  for (const [path, item] of Object.entries(contract.paths ?? {})) {
    const kept = Object.entries(item ?? {}).filter(([key, value]) => {
      if (!METHODS.includes(key)) return true;
      const operation = value as OperationLike;
      if (operation.operationId && disabled.has(operation.operationId)) return false;
      for (const tag of operation.tags ?? []) usedTags.add(tag);
      return true;
    });
    if (kept.some(([key]) => METHODS.includes(key))) paths[path] = Object.fromEntries(kept);
  }
  const tags = (contract.tags ?? []).filter((tag) => usedTags.has(tag.name));
  // a relative server URL: clients resolve it against where they fetched the document
  const servers = [{ url: http?.mount_prefix || "/", description: "This server" }];
  return { ...contract, servers, tags, paths } as Document;
}

/** The methods the published document offers on a concrete path (empty: no such path). */
export function allowedMethods(contract: Document, path: string): string[] {
  const template = Object.keys(contract.paths ?? {}).find((candidate) => new RegExp(`^${candidate.replace(/\{[^}]+\}/g, "[^/]+")}/?$`).test(path));
  const item = template ? (contract.paths?.[template] ?? {}) : {};
  return Object.keys(item)
    .filter((method) => METHODS.includes(method))
    .map((method) => method.toUpperCase());
}
