/**
 * Which server the running code belongs to, for what LangGraph's SDK looks up through process
 * globals: `getLogger()` (`@langchain/langgraph-sdk/logging`) and the URL `new Client()` uses when
 * given no `apiUrl` (RemoteGraph too). Several servers may share a process (tests, embedding).
 * The code that asks is found where it runs:
 *
 * - in a run: by the store the run's config carries (each server gives its runs its own);
 * - in a custom route: by the AsyncLocalStorage scope its requests run in;
 * - at import time (a module's top level): the server loading its graphs;
 * - anywhere else: the latest server started.
 *
 * AsyncLocalStorage is entered for custom routes only: once entered, Node tracks every promise of
 * the process, a cost the built-in routes should not pay (runs pay it anyway: LangGraph uses it).
 *
 * `LANGGRAPH_API_URL` cannot follow: it is an environment variable, one value per process (see
 * server.ts for which server it names).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";

export interface ServerScope {
  logger: Logger;
  /** The server's own API URL (with its mount prefix); set once it listens. */
  apiUrl?: string;
}

const requestScope = new AsyncLocalStorage<ServerScope>();
/** Servers of this process that started and have not stopped, oldest first. */
const open: ServerScope[] = [];
const byRunStore = new WeakMap<object, ServerScope>();
let loading: ServerScope | undefined;

/** Runs a custom route's handling inside the server's scope. */
export function withinServerScope<T>(scope: ServerScope, handle: () => T): T {
  return requestScope.run(scope, handle);
}

/**
 * Loads a server's graphs as `scope`'s (their modules' top-level code). Servers starting at the
 * same moment in one process may see each other's import-time lines; a module evaluates once
 * per process anyway.
 */
export async function loadingAs<T>(scope: ServerScope, load: () => Promise<T>): Promise<T> {
  const previous = loading;
  loading = scope;
  try {
    return await load();
  } finally {
    loading = previous;
  }
}

/** A running server; `runStore` is the store its runs get (their config's `store`). */
export function openServerScope(scope: ServerScope, runStore: object): void {
  open.push(scope);
  byRunStore.set(runStore, scope);
}

export function closeServerScope(scope: ServerScope): void {
  const index = open.indexOf(scope);
  if (index >= 0) open.splice(index, 1);
}

/** The server's store inside a run's config: LangGraph hands nodes it wrapped in a batching store. */
function unwrapped(runStore: unknown): object | undefined {
  if (typeof runStore !== "object" || runStore === null) return undefined;
  const batched = runStore as { lg_name?: string; store?: unknown };
  return batched.lg_name === "AsyncBatchedStore" && typeof batched.store === "object" && batched.store !== null ? batched.store : runStore;
}

/** The scope of the calling code; `runStore` is the store of the run it is part of, if any. */
export function callerScope(runStore: unknown): ServerScope | undefined {
  const store = unwrapped(runStore);
  const ofRun = store ? byRunStore.get(store) : undefined;
  return requestScope.getStore() ?? ofRun ?? loading ?? open.at(-1);
}
