/**
 * `http.app`: the user's own routes, mounted in front of the built-in ones so they can add routes
 * and shadow built-ins. LangGraph.js projects export a Hono app; an Express app or router works
 * too. A request no custom route answers goes on to the built-in routes.
 */
import { pathToFileURL } from "node:url";
import { getRequestListener } from "@hono/node-server";
import type { NextFunction, Request, RequestHandler, Response } from "express";

/** What a Hono app offers that this module uses (duck-typed: the project brings its own hono). */
interface HonoLike {
  fetch(request: globalThis.Request, env?: unknown): Response | Promise<globalThis.Response> | globalThis.Response;
  notFound(handler: (c: { body(data: null, status: number, headers: Record<string, string>): unknown }) => unknown): unknown;
  routes: unknown[];
}

const isHono = (value: unknown): value is HonoLike =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as HonoLike).fetch === "function" &&
  typeof (value as HonoLike).notFound === "function" &&
  Array.isArray((value as HonoLike).routes);

/** An Express app (a function with `handle`) or router (a function with a `stack`). */
const isExpress = (value: unknown): value is RequestHandler =>
  typeof value === "function" && ("handle" in value || Array.isArray((value as { stack?: unknown }).stack));

/** Header of the answer Hono gives when no route of the user's app matched. */
const NO_ROUTE = "x-lgts-no-custom-route";
/** Thrown after handing a request on, so the adapter writes nothing. */
const HANDED_ON = Symbol("handed on to the built-in routes");

function honoHandler(app: HonoLike): RequestHandler {
  // The mounted app's own not-found answer never reaches clients: an unmatched request goes on
  // to the built-in routes, as with `app.route("/", userApp)` in the official server.
  app.notFound((c) => c.body(null, 404, { [NO_ROUTE]: "1" }));
  const pending = new WeakMap<object, NextFunction>();
  const listener = getRequestListener(
    async (request, env) => {
      const response = await app.fetch(request, env);
      if (!(response as globalThis.Response).headers.has(NO_ROUTE)) return response;
      const { incoming } = env as { incoming: object };
      pending.get(incoming)?.();
      throw HANDED_ON;
    },
    {
      // the process's fetch, Request and Response stay Node's own
      overrideGlobalObjects: false,
      // an unmatched request's body is still unread: the built-in routes parse it
      autoCleanupIncoming: false,
      errorHandler: (error) => {
        if (error === HANDED_ON) return;
        throw error;
      },
    },
  );
  return (req: Request, res: Response, next: NextFunction) => {
    pending.set(req, next);
    listener(req, res).catch(next);
  };
}

export class CustomAppError extends Error {}

/**
 * Imports `http.app` ("./src/app.ts:app", relative to langgraph.json; the export defaults to
 * `default`) and returns it as Express middleware.
 * @throws CustomAppError (one line) when the module cannot be imported or exports neither kind.
 */
export async function loadCustomRoutes(file: string, exportName: string, source: string): Promise<RequestHandler> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CustomAppError(`http.app (${source}): import failed: ${(error as Error).message?.split("\n")[0] ?? String(error)}`);
  }
  const exported = module[exportName];
  if (isHono(exported)) return honoHandler(exported);
  if (isExpress(exported)) return exported;
  const exports = Object.keys(module).join(", ") || "none";
  throw new CustomAppError(
    exported === undefined
      ? `http.app (${source}): the module has no export "${exportName}" (exports: ${exports})`
      : `http.app (${source}): export "${exportName}" is neither a Hono app nor an Express app or router`,
  );
}
