import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { Context, Handler, Operation } from "openapi-backend";
import type { Logger } from "pino";
import type { Services } from "../services.js";
import { createContractBackend, loadContract } from "./contract.js";
import { checkResponse, type ContractViolation } from "./contract-check.js";
import { corsMiddleware } from "./cors.js";
import { lazyDocs } from "./docs.js";
import { allowedMethods, disabledOperations, publishedContract } from "./published-contract.js";
import { errorReply } from "./error-reply.js";
import { jsonRpcParseErrors } from "./jsonrpc.js";
import { requestObserver } from "./logging.js";
import { httpTracing } from "./tracing.js";
import type { Tracer } from "@opentelemetry/api";
import { STREAMED, type HandlerContext, type OperationHandlers, type OperationId } from "./operations.js";
import { KEPT_ALIVE_BODY } from "./keep-alive.js";
import { operationRunner } from "./operation-runner.js";
import { describeValidationErrors } from "./validation-errors.js";
import { authentication, requestAuth } from "./authentication.js";
import { consoleRoutes, isConsolePath } from "./console.js";
import type { RequestAuthenticator } from "../auth/index.js";

export interface AppOptions {
  services: Services;
  handlers: OperationHandlers;
  logger: Logger;
  /** The user's Auth (langgraph.json `auth.path`); without it every request is served unauthenticated. */
  authenticator?: RequestAuthenticator;
  /** When set, every response is checked against the contract and violations reported here. */
  onContractViolation?: (violation: ContractViolation) => void;
  /** `http.app`: the user's routes, in front of the built-in ones (see custom-routes.ts). */
  customRoutes?: RequestHandler;
  /** Routes only `lgts dev` has (e.g. POST /internal/truncate), in front of everything. */
  devRoutes?: RequestHandler;
  /** OpenTelemetry: a span per request when tracing is on. */
  tracer?: Tracer;
  /** Serve the web console at `/console` (default true; `--no-console` / `LGTS_CONSOLE=0` remove it). */
  console?: boolean;
}

interface PlainReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

export async function createApp(options: AppOptions) {
  const { services, logger, onContractViolation } = options;
  const http = services.graphs.config.http;
  const contract = loadContract();
  const disabled = disabledOperations(contract, http);
  const published = publishedContract(contract, http);
  const root = express();
  root.disable("x-powered-by");
  // no ETag: computing one hashes every answer, and no client of this API revalidates
  root.set("etag", false);
  // In front of everything: the log line and metrics once the response is finished, and CORS,
  // before anything that may refuse a request (a browser must get CORS headers on refusals too).
  const observe = requestObserver(logger, services.metrics);
  const cors = corsMiddleware(http?.cors);
  const traced = options.tracer ? httpTracing(options.tracer) : undefined;
  const front: RequestHandler = traced
    ? (req, res, next) => {
        observe(req, res);
        traced(req, res, () => cors(req, res, next));
      }
    : (req, res, next) => {
        observe(req, res);
        cors(req, res, next);
      };
  // `http.mount_prefix` moves every route, custom ones included, under the prefix (without one
  // the routes go straight on the app: a nested router costs every request a second dispatch)
  const app = http?.mount_prefix && http.mount_prefix !== "/" ? express.Router() : root;
  const authenticate = options.authenticator ? authentication(options.authenticator, logger) : undefined;
  // With nothing between them (no prefix, dev routes, user's routes or Auth), the front and the
  // routes below are one layer: each layer costs every request a dispatch
  const frontWithRoutes = app === root && !options.devRoutes && !options.customRoutes && !authenticate;
  if (!frontWithRoutes) root.use(front);
  if (app !== root) root.use(http!.mount_prefix!, app);
  if (options.devRoutes) app.use(options.devRoutes);
  // Authentication comes before the body is parsed: a request without valid credentials costs
  // no parsing. The user's routes (which see the request untouched, body unread, and shadow
  // built-ins) come before it, unless `http.enable_custom_route_auth` puts them behind it.
  if (authenticate && http?.enable_custom_route_auth) app.use(authenticate);
  if (options.customRoutes) app.use(options.customRoutes);
  if (authenticate && !http?.enable_custom_route_auth) app.use(authenticate);
  // the console's page and code are public (authentication lets them through); its data calls are
  // not. The console and the docs go in the operations' layer, behind a path check: as layers of
  // their own, every request would pass through them (the docs alone would be three layers)
  const consolePages = (options.console ?? true) ? consoleRoutes(logger) : undefined;
  const docs = http?.disable_meta ? undefined : lazyDocs(published);

  const send = (c: Context | undefined, res: Response, reply: PlainReply) => {
    const body = reply.status === 204 ? undefined : reply.body;
    if (onContractViolation && c?.operation) {
      const headers = { ...reply.headers, "content-type": reply.contentType ?? "application/json" };
      for (const problem of checkResponse(c.api, c.operation, reply.status, headers, body)) {
        onContractViolation({ operationId: c.operation.operationId ?? "?", status: reply.status, problem });
      }
    }
    res.statusCode = reply.status; // the contract's statuses: express's checks of res.status() are not needed
    if (reply.headers) res.set(reply.headers);
    if (body === undefined) res.end();
    else if (reply.contentType) res.type(reply.contentType).send(body);
    else {
      // serialised once, written as one string with its headers (res.json would copy it into a
      // Buffer and write headers and body separately)
      res.setHeader("content-type", "application/json; charset=utf-8");
      res.end(JSON.stringify(body));
    }
  };

  const dispatch =
    (operationId: OperationId): Handler =>
    async (c: Context, req: Request, res: Response) => {
      if (http?.disable_webhooks && asksForWebhook(c.request.requestBody)) {
        send(c, res, { status: 422, body: { detail: "body.webhook: webhooks are disabled on this server (http.disable_webhooks)" } });
        return;
      }
      try {
        const ctx = {
          operationId,
          body: c.request.requestBody ?? (c.operation.requestBody ? {} : undefined),
          params: c.request.params,
          query: c.validation?.coerced?.query ?? c.request.query,
          headers: req.headers,
          auth: requestAuth(res),
          services,
          req,
          res,
        } as unknown as HandlerContext<typeof operationId>;
        const reply = await (options.handlers[operationId] as (ctx: unknown) => Promise<unknown>)(ctx);
        if (reply !== STREAMED) send(c, res, reply as PlainReply);
        else if (onContractViolation) {
          // a stream's status and headers are checked (its events by the stream tests); a kept-alive
          // JSON answer with its body
          // a stream's body is text; a WebSocket handshake (101) has none
          const body = KEPT_ALIVE_BODY in res.locals ? res.locals[KEPT_ALIVE_BODY] : res.statusCode === 101 ? undefined : "";
          const problems = checkResponse(c.api, c.operation, res.statusCode, res.getHeaders(), body);
          for (const problem of problems) onContractViolation({ operationId, status: res.statusCode, problem });
        }
      } catch (error) {
        const reply = errorReply(error, logger);
        if (res.headersSent) res.end();
        else send(c, res, reply);
      }
    };

  const handlers: Record<string, Handler> = {
    validationFail: (c: Context, _req: Request, res: Response) =>
      send(c, res, { status: 422, body: { detail: describeValidationErrors(c.validation.errors ?? []) } }),
    notFound: (c: Context, req: Request, res: Response) =>
      send(undefined, res, { status: 404, body: { detail: `No route for ${req.method} ${c.request.path}` } }),
    methodNotAllowed: (c: Context, req: Request, res: Response) => {
      const allowed = allowedMethods(published, c.request.path);
      // a path whose every operation is disabled is as unknown as any other
      if (allowed.length === 0) return handlers.notFound(c, req, res);
      send(undefined, res, {
        status: 405,
        body: { detail: `Method ${req.method} is not allowed on ${c.request.path}` },
        headers: { Allow: allowed.join(", ") },
      });
    },
  };
  for (const operationId of Object.keys(options.handlers) as OperationId[]) {
    handlers[operationId] = dispatch(operationId);
  }
  const api = await createContractBackend(handlers, contract);

  const parseJson = express.json({ limit: "50mb" });
  const runOperation = operationRunner(api);
  const serve = (operation: Operation | undefined, req: Request, res: Response, next: NextFunction) => {
    const request = { method: req.method, path: req.path, query: req.query as never, body: req.body, headers: req.headers as never };
    // unmatched requests (404, 405) take openapi-backend's own path
    (operation ? runOperation(operation, request, req, res) : api.handleRequest(request, req, res)).catch(next);
  };
  const operations: RequestHandler = (req, res, next) => {
    const path = req.path;
    const operation = api.router.matchOperation({ method: req.method, path, headers: {} });
    if (disabled.size > 0 && disabled.has(operation?.operationId ?? "")) {
      handlers.notFound({ request: { path } } as Context, req, res);
      return;
    }
    // only operations that declare a body get one parsed
    if (operation?.requestBody) parseJson(req, res, (error?: unknown) => (error ? next(error) : serve(operation, req, res, next)));
    else serve(operation, req, res, next);
  };
  const routes: RequestHandler = (req, res, next) => {
    if (consolePages && isConsolePath(req.method, req.path)) consolePages(req, res, next);
    else if (docs && req.path.startsWith("/docs")) docs(req, res, (error?: unknown) => (error ? next(error) : operations(req, res, next)));
    else operations(req, res, next);
  };
  if (frontWithRoutes) root.use((req, res, next) => front(req, res, (error?: unknown) => (error ? next(error) : routes(req, res, next))));
  else app.use(routes);
  app.use(jsonRpcParseErrors(api));
  root.use(unknownRoute);
  root.use(jsonErrors(logger));
  return { app: root, api };
}

/** Whether a run or cron request (or a batch of them) names a webhook. */
function asksForWebhook(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(asksForWebhook);
  return typeof body === "object" && body !== null && (body as { webhook?: unknown }).webhook != null;
}

/** Outside the mount prefix nothing is served: a JSON 404 as for any unknown route. */
const unknownRoute: RequestHandler = (req, res) => {
  res.status(404).json({ detail: `No route for ${req.method} ${req.path}` });
};

/** Body-parser and any other middleware errors become JSON; nothing reaches express's HTML page. */
function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const reply = errorReply(error, logger);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(reply.status).json(reply.body);
  };
}
