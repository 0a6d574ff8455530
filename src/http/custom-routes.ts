/**
 * `http.app`: the user's own routes, mounted in front of the built-in ones so they can add routes
 * and shadow built-ins. LangGraph.js projects export a Hono app; an Express app or router works
 * too. A request no custom route answers goes on to the built-in routes.
 */
import { pathToFileURL } from "node:url";
import { getRequestListener } from "@hono/node-server";
import type { NextFunction, Request, RequestHandler, Response } from "express";

/** The bodies a Hono request keeps once read (`c.req.text()`, ...): promises of them. */
interface HonoBodyCache {
  text?: Promise<unknown>;
  arrayBuffer?: Promise<unknown>;
}

/** The part of a Hono context this module uses. */
interface HonoContextLike {
  body(data: null, status: number, headers: Record<string, string>): unknown;
  req: { raw: globalThis.Request; bodyCache?: HonoBodyCache; json(): Promise<unknown> };
}

/** What a Hono app offers that this module uses (duck-typed: the project brings its own hono). */
interface HonoLike {
  fetch(request: globalThis.Request, env?: unknown): Response | Promise<globalThis.Response> | globalThis.Response;
  notFound(handler: (c: HonoContextLike) => unknown): unknown;
  use(path: string, middleware: (c: HonoContextLike, next: () => Promise<void>) => Promise<void>): unknown;
  route(path: string, app: HonoLike): unknown;
  routes: unknown[];
}

const isHono = (value: unknown): value is HonoLike =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as HonoLike).fetch === "function" &&
  typeof (value as HonoLike).notFound === "function" &&
  typeof (value as HonoLike).route === "function" &&
  Array.isArray((value as HonoLike).routes);

/** An Express app (a function with `handle`) or router (a function with a `stack`). */
const isExpress = (value: unknown): value is RequestHandler =>
  typeof value === "function" && ("handle" in value || Array.isArray((value as { stack?: unknown }).stack));

/** Header of the answer Hono gives when no route of the user's app matched. */
const NO_ROUTE = "x-lgts-no-custom-route";
/** Thrown after handing a request on, so the adapter writes nothing. */
const HANDED_ON = Symbol("handed on to the built-in routes");

const parseFailure = (error: unknown) => Object.assign(error as Error, { status: 400, type: "entity.parse.failed" });

/**
 * The body a middleware of the app already read, as the built-in routes will see it: the object
 * `c.req.json()` gave (with the changes the middleware made to it, as the official server's
 * handlers see them), else the text it read, parsed. Undefined when the app read no body.
 */
async function bodyReadByApp(c: HonoContextLike, parsedJson: Promise<unknown> | undefined): Promise<{ body: unknown } | undefined> {
  if (parsedJson) return { body: await parsedJson.catch((error: unknown) => Promise.reject(parseFailure(error))) };
  if (!c.req.raw.bodyUsed) return undefined;
  const raw = await (c.req.bodyCache?.text ?? c.req.bodyCache?.arrayBuffer);
  const text = typeof raw === "string" ? raw : raw instanceof ArrayBuffer ? new TextDecoder().decode(raw) : undefined;
  if (text === undefined) throw Object.assign(new Error("http.app read the request body in a form the built-in routes cannot read"), { status: 400 });
  try {
    return { body: JSON.parse(text) };
  } catch (error) {
    throw parseFailure(error);
  }
}

/**
 * Headers the app's middleware set on its way back (`await next(); c.header(...)`) go on the
 * built-in route's answer, as when the official server runs the built-in routes inside the app;
 * the built-in route may still set its own.
 */
function keepMiddlewareHeaders(unanswered: globalThis.Response, res: Response): void {
  for (const [name, value] of unanswered.headers) {
    if (name === NO_ROUTE || name === "set-cookie") continue;
    res.setHeader(name, value);
  }
  const cookies = unanswered.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
}

function honoHandler(userApp: HonoLike): RequestHandler {
  // The user's app mounted in an app of its own Hono class: a first middleware makes
  // `c.req.json()` give one object per request (Hono parses the text again on every call), so a
  // middleware that changes that object changes what the built-in routes receive.
  const app = new (userApp.constructor as new () => HonoLike)();
  const jsonOf = new WeakMap<globalThis.Request, Promise<unknown>>();
  app.use("*", async (c, next) => {
    const parse = c.req.json.bind(c.req);
    c.req.json = () => {
      let parsed = jsonOf.get(c.req.raw);
      if (!parsed) jsonOf.set(c.req.raw, (parsed = parse()));
      return parsed;
    };
    await next();
  });
  app.route("/", userApp);
  /** Requests the app left unanswered: the body its middleware read, if any. */
  const handedOn = new WeakMap<globalThis.Request, Promise<{ body: unknown } | undefined>>();
  // The mounted app's own not-found answer never reaches clients: an unmatched request goes on
  // to the built-in routes, as with `app.route("/", userApp)` in the official server.
  app.notFound((c) => {
    const read = bodyReadByApp(c, jsonOf.get(c.req.raw));
    read.catch(() => {}); // awaited (and answered) by the listener
    handedOn.set(c.req.raw, read);
    return c.body(null, 404, { [NO_ROUTE]: "1" });
  });
  const pending = new WeakMap<object, NextFunction>();
  const listener = getRequestListener(
    async (request, env) => {
      const response = await app.fetch(request, env);
      if (!(response as globalThis.Response).headers.has(NO_ROUTE)) return response;
      const { incoming, outgoing } = env as unknown as { incoming: Request; outgoing: Response };
      const next = pending.get(incoming);
      keepMiddlewareHeaders(response as globalThis.Response, outgoing);
      try {
        const read = await handedOn.get(request);
        // the stream is consumed: body-parser sees a finished request and keeps `req.body`
        if (read) incoming.body = read.body;
        next?.();
      } catch (error) {
        next?.(error);
      }
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
