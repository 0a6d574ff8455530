/**
 * CORS for browser front-ends (useStream pages, Studio, Agent Chat UI) on another origin.
 *
 * Without `http.cors` every origin may call the server, as `langgraph dev` and LangGraph Platform
 * deployments allow. `http.cors` narrows it with Starlette's settings. Either way the headers the
 * SDK reads from JavaScript (run locations for reconnecting, pagination) are exposed.
 */
import cors, { type CorsOptions } from "cors";
import type { RequestHandler } from "express";
import type { CorsConfig } from "../runtime/graphs/config.js";

/** Response headers the SDK reads: `Content-Location` to rejoin a run, the pagination totals. */
export const SDK_READ_HEADERS = ["Content-Location", "Location", "X-Pagination-Total", "X-Pagination-Next"];

const ALL_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"];

const listOrAll = (values: string[] | undefined) => (values === undefined || values.includes("*") ? undefined : values);

/** Which origins are allowed: an exact origin from the list or one the regex fully matches. */
function allowedOrigins(config: CorsConfig): CorsOptions["origin"] {
  const origins = config.allow_origins ?? [];
  const pattern = config.allow_origin_regex ? new RegExp(`^(?:${config.allow_origin_regex})$`) : null;
  if (origins.includes("*")) {
    // "*" cannot be combined with credentials: browsers then need the caller's origin echoed
    return config.allow_credentials ? true : "*";
  }
  const exact = new Set(origins);
  return (origin, callback) => {
    callback(null, origin !== undefined && (exact.has(origin) || (pattern?.test(origin) ?? false)));
  };
}

export function corsOptions(config: CorsConfig | null | undefined): CorsOptions {
  if (!config) return { origin: "*", methods: ALL_METHODS, exposedHeaders: SDK_READ_HEADERS };
  const exposed = new Map(SDK_READ_HEADERS.map((h) => [h.toLowerCase(), h]));
  for (const header of config.expose_headers ?? []) exposed.set(header.toLowerCase(), header);
  return {
    origin: allowedOrigins(config),
    methods: listOrAll(config.allow_methods) ?? ALL_METHODS,
    // absent: the headers the preflight asks for are allowed (Starlette's "*")
    ...(listOrAll(config.allow_headers) ? { allowedHeaders: config.allow_headers } : {}),
    exposedHeaders: [...exposed.values()],
    credentials: config.allow_credentials ?? false,
    ...(config.max_age !== undefined ? { maxAge: config.max_age } : {}),
  };
}

/** Answers preflights (on every path) and adds the CORS headers to every response. */
export function corsMiddleware(config: CorsConfig | null | undefined): RequestHandler {
  const options = corsOptions(config);
  const full = cors(options) as RequestHandler;
  if (options.origin !== "*") return full;
  // Every origin allowed (the default): every answer but a preflight gets the same headers, the
  // ones the cors package would set, without its per-request options copy and callbacks.
  const exposed = ([] as string[]).concat(options.exposedHeaders ?? []).join(",");
  return (req, res, next) => {
    if (req.method === "OPTIONS") {
      full(req, res, next);
      return;
    }
    res.setHeader("Access-Control-Allow-Origin", "*");
    if (options.credentials === true) res.setHeader("Access-Control-Allow-Credentials", "true");
    if (exposed) res.setHeader("Access-Control-Expose-Headers", exposed);
    next();
  };
}
