/**
 * Errors raised by the graph registry. Every message is a single line that names the config file
 * and, where relevant, the graph id and its path, so the server can print `err.message` and exit.
 *
 * The registry knows nothing about HTTP: handlers map `GraphNotFoundError` to a 404 themselves.
 */

/** Collapse a message to one line (first line of a multi-line message, trimmed). */
export function oneLine(text: string): string {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== "") ?? text;
  return first.trim();
}

/** The langgraph.json file is missing, not JSON, or has an invalid shape. */
export class GraphConfigError extends Error {
  override name = "GraphConfigError";
  constructor(
    readonly configPath: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(oneLine(`Invalid graph config ${configPath}: ${detail}`), options);
  }
}

/** A declared graph could not be loaded (file missing, export missing, not a graph, import failed). */
export class GraphLoadError extends Error {
  override name = "GraphLoadError";
  constructor(
    readonly graphId: string,
    readonly graphPath: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(oneLine(`Failed to load graph "${graphId}" (${graphPath}): ${detail}`), options);
  }
}

/** No graph with this id is registered. */
export class GraphNotFoundError extends Error {
  override name = "GraphNotFoundError";
  constructor(readonly graphId: string) {
    super(`Graph "${graphId}" not found`);
  }
}
