/**
 * Which server the running code belongs to, for what LangGraph's SDK looks up through process
 * globals: `getLogger()` (`@langchain/langgraph-sdk/logging`) and the URL `new Client()` uses when
 * given no `apiUrl` (RemoteGraph too). Several servers may share a process (tests, embedding).
 * Each server's startup runs inside its scope, and AsyncLocalStorage carries the scope into
 * everything started from there (its requests, custom routes, runs, timers), so those globals
 * answer for the server whose code asks. Code outside every scope gets the latest server.
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

const current = new AsyncLocalStorage<ServerScope>();
/** Servers of this process that started and have not stopped, oldest first. */
const open: ServerScope[] = [];

/** Runs `start` (a server's startup) inside the server's scope. */
export function withinServerScope<T>(scope: ServerScope, start: () => T): T {
  return current.run(scope, start);
}

/** The scope of the calling code: its server's, else the latest server's; none without servers. */
export function currentServerScope(): ServerScope | undefined {
  return current.getStore() ?? open.at(-1);
}

export function openServerScope(scope: ServerScope): void {
  open.push(scope);
}

export function closeServerScope(scope: ServerScope): void {
  const index = open.indexOf(scope);
  if (index >= 0) open.splice(index, 1);
}

/** How many servers of this process are running. */
export function openServerCount(): number {
  return open.length;
}
