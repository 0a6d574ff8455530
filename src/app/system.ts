/** What the server says about itself: whether it takes work (readiness), and what it runs on. */
import type { RequestAuth } from "../auth/index.js";
import type { GraphRegistry } from "../runtime/graphs/index.js";
import { StorageUnavailableError } from "../storage/errors.js";
import type { Run, Storage } from "../storage/types.js";

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

export interface ProcessDeps {
  storage: { runs: Pick<Storage["runs"], "executing" | "processes"> };
  /** This process's name (`Services.processId`). */
  processId: string;
}

/** A server process and the runs it executes now, oldest first. */
export interface ServerProcess {
  process_id: string;
  current: boolean;
  runs: Run[];
}

/**
 * The processes and the runs each executes now, as far as the caller may read them (`threads:read`
 * filters): this one first, then the others by id (PostgreSQL). A process of the others shows
 * through a run it executes.
 */
export async function serverProcesses(deps: ProcessDeps, auth: RequestAuth): Promise<ServerProcess[]> {
  const { scope } = await auth.authorize("threads:read", {});
  const byId = new Map<string, Run[]>([[deps.processId, []]]);
  // the live processes, those without a run the caller may see included
  for (const id of await deps.storage.runs.processes()) if (!byId.has(id)) byId.set(id, []);
  for (const { run, owner } of await deps.storage.runs.executing(scope)) {
    const id = owner ?? deps.processId;
    let runs = byId.get(id);
    if (!runs) byId.set(id, (runs = []));
    runs.push(run);
  }
  const others = [...byId.keys()].filter((id) => id !== deps.processId).sort();
  return [deps.processId, ...others].map((id) => ({ process_id: id, current: id === deps.processId, runs: byId.get(id) ?? [] }));
}
