/**
 * openapi-backend's router, made cheap per request. Its matching compiles a regex for every path
 * of the contract on every request, and its request parsing (run four times per request) clones
 * with lodash and compiles a path-parameter parser each time. The contract never changes at run
 * time, so everything derived from it is built once here:
 *
 * - operations: the flat list, built once (openapi-backend rebuilds it on every lookup);
 * - matchOperation: a find-my-way radix tree per method (as Fastify routes). A miss falls back to
 *   openapi-backend's own matcher, so 404/405 answers and odd paths behave exactly as before;
 * - parseRequest: path parameters through one precompiled pattern per operation, query
 *   parameters through a per-operation lookup table, no deep clones.
 *
 * An empty query value (`stream_mode=`, what the Python SDK's httpx sends for a None argument)
 * means the parameter is absent, as on the LangGraph servers, unless the parameter takes free
 * text, where "" is a value (the root store namespace, a root stream namespace).
 */
import FindMyWay, { type HTTPMethod } from "find-my-way";
import type { OpenAPIRouter, Operation, ParsedRequest, Request } from "openapi-backend";

interface CompiledOperation {
  /** `^…$` over the path, one capture group per parameter, in `names` order. */
  pattern: RegExp;
  names: string[];
  /** Query parameters by name. */
  query: Map<string, QueryParameter>;
}

interface QueryParameter {
  json: boolean;
  /** "" is no value of this parameter (a flag, a number, an enum): it counts as absent. */
  emptyIsAbsent: boolean;
  explode?: boolean;
  style?: string;
}

export function compileRouter(router: OpenAPIRouter): void {
  const operations = router.getOperations();
  if (operations.some((op) => op.parameters?.some((p) => "in" in p && p.in === "cookie"))) {
    // cookie parameters would need openapi-backend's own parsing, kept as it is
    throw new Error("compileRouter: the contract declares cookie parameters, which it does not parse");
  }
  const tree = FindMyWay({ ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 64 * 1024 });
  const compiled = new Map<Operation, CompiledOperation>();
  for (const operation of operations) {
    tree.on(operation.method.toUpperCase() as HTTPMethod, findMyWayPath(operation.path), () => undefined, { operation });
    compiled.set(operation, compile(operation));
  }
  tree.compile();

  const fallbackMatch = router.matchOperation.bind(router) as (req: Request, strict?: boolean) => Operation | undefined;
  const fallbackParse = router.parseRequest.bind(router);
  router.getOperations = () => operations;
  router.getOperation = (operationId: string) => operations.find((op) => op.operationId === operationId);
  router.matchOperation = ((req: Request, strict?: boolean) => {
    const found = tree.find(req.method.toUpperCase() as HTTPMethod, pathOf(req));
    return found ? (found.store as { operation: Operation }).operation : fallbackMatch(req, strict);
  }) as OpenAPIRouter["matchOperation"];
  router.parseRequest = (req: Request, operation?: Operation): ParsedRequest => {
    // a query string rather than an object: qs semantics, as openapi-backend parses it
    if (typeof req.query !== "object" || req.query === null) return fallbackParse(req, operation);
    const path = pathOf(req);
    const query = cloneQuery(req.query);
    const params = operation ? pathParams(compiled.get(operation) ?? compile(operation), path, query) : {};
    return {
      method: LOWER_CASE_METHODS[req.method] ?? req.method.trim().toLowerCase(),
      path,
      params,
      headers: lowerCaseKeys(req.headers),
      query,
      cookies: {},
      body: req.body,
      requestBody: parseBody(req.body),
    };
  };
}

const LOWER_CASE_METHODS: Record<string, string> = Object.fromEntries(
  ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"].map((method) => [method, method.toLowerCase()]),
);

/** `/threads/{thread_id}` -> `/threads/:thread_id` (find-my-way's syntax; `:` in text is `::`). */
function findMyWayPath(template: string): string {
  return template.replace(/:/g, "::").replace(/\{([^}]+)\}/g, ":$1");
}

function compile(operation: Operation): CompiledOperation {
  const names: string[] = [];
  const source = operation.path
    .split(/(\{[A-Za-z0-9_-]+\})/)
    .map((part) => {
      const param = /^\{(.+)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1]);
      return "([^/]*)";
    })
    .join("");
  const query = new Map<string, QueryParameter>();
  for (const parameter of operation.parameters ?? []) {
    if ("$ref" in parameter || parameter.in !== "query") continue;
    query.set(parameter.name, {
      json: Boolean(parameter.content?.["application/json"]),
      emptyIsAbsent: !takesText(parameter.schema),
      explode: parameter.explode,
      style: parameter.style,
    });
  }
  return { pattern: new RegExp(`^${source}$`), names, query };
}

function pathOf(req: Request): string {
  let path = req.path?.trim() ?? "";
  if (!path.startsWith("/")) path = `/${path}`;
  const queryAt = path.indexOf("?");
  return queryAt < 0 ? path : path.slice(0, queryAt);
}

/** Path parameters, URI-decoded; then the query decoded by each parameter's declared style. */
function pathParams(compiled: CompiledOperation, path: string, query: Record<string, unknown>): Record<string, string> {
  const params: Record<string, string> = {};
  const match = compiled.pattern.exec(path);
  if (match) {
    compiled.names.forEach((name, i) => {
      const raw = match[i + 1];
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        params[name] = raw; // malformed escapes: the raw text, which validation then judges
      }
    });
  }
  for (const [name, given] of Object.entries(query)) {
    const value = compiled.query.get(name)?.emptyIsAbsent ? withoutEmpty(given) : given;
    if (value === undefined) {
      delete query[name];
      continue;
    }
    query[name] = value;
    const parameter = value ? compiled.query.get(name) : undefined;
    if (!parameter) continue;
    if (parameter.json) {
      if (typeof value === "string") {
        try {
          query[name] = JSON.parse(value);
        } catch {
          // left as text: validation reports the malformed JSON
        }
      }
    } else if (parameter.explode === false) {
      if (Array.isArray(value) && value.length > 1) continue; // already split (coercion pass)
      const text = Array.isArray(value) ? value[0] : value;
      if (typeof text !== "string") continue;
      let decoded = text.replace(/%2C/g, ",");
      if (parameter.style === "spaceDelimited") decoded = decoded.replace(/ /g, ",").replace(/%20/g, ",");
      if (parameter.style === "pipeDelimited") decoded = decoded.replace(/\|/g, ",").replace(/%7C/g, ",");
      query[name] = decoded.split(",");
    }
  }
  return params;
}

/** Whether a parameter's schema takes free text, where "" is a value. */
function takesText(schema: unknown): boolean {
  const declared = schema as { type?: unknown; enum?: unknown; minLength?: number; items?: unknown } | undefined;
  if (declared?.type === "array") return takesText(declared.items);
  return declared?.type === "string" && declared.enum === undefined && !declared.minLength;
}

/** A query value without its empty strings; undefined when nothing else is left. */
function withoutEmpty(value: unknown): unknown {
  if (value === "") return undefined;
  if (!Array.isArray(value) || !value.includes("")) return value;
  const kept = value.filter((item) => item !== "");
  return kept.length === 0 ? undefined : kept;
}

/** A copy the parser may rewrite: query values are text, lists of text, or (qs) nested objects. */
function cloneQuery(query: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    copy[name] = typeof value === "string" ? value : structuredClone(value);
  }
  return copy;
}

function lowerCaseKeys(headers: Request["headers"]): Record<string, string | string[]> {
  const lower: Record<string, string | string[]> = {};
  for (const name in headers) lower[name.toLowerCase()] = headers[name]!;
  return lower;
}

function parseBody(body: unknown): unknown {
  if (!body || typeof body === "object") return body;
  try {
    return JSON.parse(String(body));
  } catch {
    return body; // validation reports the malformed JSON
  }
}
