/** What the server says about itself: whether it takes work (readiness), and what it runs on. */
import type { GraphRegistry } from "../runtime/graphs/index.js";
import { StorageUnavailableError } from "../storage/errors.js";
import type { Storage } from "../storage/types.js";

export interface SystemDeps {
  storage: Pick<Storage, "check" | "backend">;
  graphs: Pick<GraphRegistry, "graphIds">;
  /** False from the moment the server starts stopping. */
  readiness: { ready: boolean };
}

/**
 * Whether new work may be sent here: not while the server stops, nor while its storage fails.
 * `retry`: another replica (stopping), or later (storage unreachable), may take it; false: the
 * storage answered with a failure of the server.
 */
export type Readiness = { ready: true; storage: Storage["backend"] } | { ready: false; retry: boolean; detail: string };

export async function readiness(deps: SystemDeps): Promise<Readiness> {
  // a stopping server still answers what reaches it, but takes no new runs
  if (!deps.readiness.ready) return { ready: false, retry: true, detail: "The server is shutting down: send new work to another replica" };
  try {
    await deps.storage.check();
  } catch (error) {
    const detail = `Storage check failed (${deps.storage.backend}): ${(error as Error).message}`;
    return { ready: false, retry: error instanceof StorageUnavailableError, detail };
  }
  return { ready: true, storage: deps.storage.backend };
}

/** The server, its storage backend and the graphs it serves (`/info`'s metadata). */
export function serverMetadata(deps: SystemDeps) {
  return { server: "langgraph-ts-server", storage: deps.storage.backend, graphs: deps.graphs.graphIds };
}
