/**
 * Authentication of every request when the server has an Auth: before routing, so a request
 * without valid credentials gets 401 whatever it asks for, except the public endpoints.
 */
import type { RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { NO_AUTH, type RequestAuth, type RequestAuthenticator } from "../auth/index.js";
import { errorReply } from "./error-reply.js";
import { isConsolePath } from "./console.js";

/**
 * Served without credentials: health, server info, the contract and its documentation, the web
 * console's page and code (not its data), and (as on the LangGraph servers) reading generative UI
 * assets, which browsers load by URL. No header
 * (such as Studio's `x-auth-scheme`) skips authentication anywhere else.
 */
const PUBLIC_PATHS = new Set(["/ok", "/info", "/openapi.json"]);
const isPublic = (method: string, path: string) =>
  PUBLIC_PATHS.has(path) ||
  path === "/docs" ||
  path.startsWith("/docs/") ||
  ((method === "GET" || method === "HEAD") && path.startsWith("/ui/")) ||
  isConsolePath(method, path);

const AUTH = "lgtsAuth";

export function authentication(authenticator: RequestAuthenticator, logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (isPublic(req.method, req.path)) {
      next();
      return;
    }
    authenticator.authenticate({ method: req.method, url: req.originalUrl, headers: req.headers }).then(
      (auth) => {
        res.locals[AUTH] = auth;
        next();
      },
      (error: unknown) => {
        const reply = errorReply(error, logger);
        if (reply.headers) res.set(reply.headers);
        res.status(reply.status).json(reply.body);
      },
    );
  };
}

/** The caller of a request that passed `authentication`. */
export function requestAuth(res: Response): RequestAuth {
  return (res.locals[AUTH] as RequestAuth | undefined) ?? NO_AUTH;
}
