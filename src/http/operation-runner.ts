/**
 * Runs a request whose contract operation is already matched, as openapi-backend's
 * `handleRequest` does (parse, validate with the operation's compiled Ajv validators, call the
 * handler registered under its operationId, or `validationFail`), without its per-request waste:
 * `handleRequest` matches the operation again, parses the request four times (each a deep copy
 * of query and headers) and walks lodash helpers to assemble what Ajv checks. Here the request is
 * parsed once and the parsed parts are what Ajv checks and coerces.
 *
 * Same answers as `handleRequest` for the features the contract uses; the contract declaring
 * security schemes (which this does not run) is refused at startup.
 */
import type { Context, Handler, OpenAPIBackend, Operation, Request } from "openapi-backend";
import { nameRequestSpan } from "./tracing.js";
import type { ErrorObject, ValidateFunction } from "ajv";

interface QueryShape {
  /** Query parameters declared as arrays: a lone value is validated as a list of one. */
  arrays: Set<string>;
  /** Query parameters declared with `content: application/json`: their raw text must parse. */
  json: string[];
}

export type OperationRunner = (operation: Operation, request: Request, ...handlerArgs: unknown[]) => Promise<unknown>;

export function operationRunner(api: OpenAPIBackend): OperationRunner {
  const operations = api.router.getOperations();
  if (operations.some((operation) => operation.security?.length) || api.definition.security?.length) {
    throw new Error("operationRunner: the contract declares security requirements, which it does not check");
  }
  const shapes = new Map<Operation, QueryShape>();
  for (const operation of operations) shapes.set(operation, queryShape(operation));

  return async (operation, request, ...handlerArgs) => {
    nameRequestSpan(operation.method.toUpperCase(), operation.path);
    const context = { api, operation, request: api.router.parseRequest(request, operation) } as Context;
    const validate = typeof api.validate === "function" ? api.validate(context, ...handlerArgs) : api.validate;
    if (validate) {
      const errors = validateParsed(api, context, request, shapes.get(operation) ?? queryShape(operation));
      context.validation = {
        valid: errors.length === 0,
        errors: errors.length === 0 ? null : errors,
        coerced: { ...request, query: context.request.query, params: context.request.params },
      };
      if (errors.length > 0) return callHandler(api.handlers.validationFail, "validationFail", context, handlerArgs);
    }
    return callHandler(api.handlers[operation.operationId!], operation.operationId!, context, handlerArgs);
  };
}

function callHandler(handler: Handler | undefined, name: string, context: Context, handlerArgs: unknown[]): unknown {
  if (!handler) throw new Error(`operationRunner: no handler registered for ${name}`);
  return handler(context, ...handlerArgs);
}

/**
 * openapi-backend's `validateRequest`, on the request already parsed into `context.request`:
 * Ajv coerces its query and path parameters in place and fills the body's defaults.
 */
function validateParsed(api: OpenAPIBackend, context: Context, raw: Request, shape: QueryShape): ErrorObject[] {
  const { operation } = context;
  const parsed = context.request;
  const errors: ErrorObject[] = [];
  const query = parsed.query as Record<string, unknown>;
  for (const name of shape.arrays) {
    if (typeof query[name] === "string") query[name] = [query[name]];
  }
  const parameters: Record<string, unknown> = { path: parsed.params, query, header: parsed.headers, cookie: parsed.cookies };
  if (typeof raw.body !== "object" && raw.body !== undefined && onlyJsonBody(operation)) {
    // a body given as text must be JSON when JSON is the only payload the operation takes
    try {
      JSON.parse(`${raw.body}`);
    } catch (error) {
      errors.push({ keyword: "parse", instancePath: "", schemaPath: "#/requestBody", params: [], message: (error as Error).message });
    }
  }
  for (const name of shape.json) {
    const text = rawQueryValue(raw, name);
    if (typeof text !== "string") continue;
    try {
      JSON.parse(text);
    } catch (error) {
      errors.push({
        keyword: "parse",
        instancePath: `/query/${name}`,
        schemaPath: `#/parameters/${name}`,
        params: [],
        message: (error as Error).message,
      });
    }
  }
  const contentType = mediaType(parsed.headers["content-type"]);
  if (typeof parsed.requestBody === "object" || contentType === "application/json") parameters.requestBody = parsed.requestBody;
  const validators: ValidateFunction[] = api.validator.getRequestValidatorsForOperation(operation.operationId!) ?? [];
  for (const validate of validators) {
    validate(parameters);
    if (validate.errors) errors.push(...validate.errors);
  }
  return errors;
}

function queryShape(operation: Operation): QueryShape {
  const arrays = new Set<string>();
  const json: string[] = [];
  for (const parameter of operation.parameters ?? []) {
    if ("$ref" in parameter || parameter.in !== "query") continue;
    if ((parameter.schema as { type?: unknown } | undefined)?.type === "array") arrays.add(parameter.name);
    if (parameter.content?.["application/json"]) json.push(parameter.name);
  }
  return { arrays, json };
}

const onlyJsonBody = (operation: Operation): boolean => {
  const formats = Object.keys((operation.requestBody as { content?: object } | undefined)?.content ?? {});
  return formats.length === 1 && formats[0] === "application/json";
};

/** A query parameter's value as it came (before any parsing by its declared style). */
function rawQueryValue(raw: Request, name: string): unknown {
  return typeof raw.query === "object" && raw.query !== null ? (raw.query as Record<string, unknown>)[name] : undefined;
}

/** The media type of a content-type header, without parameters such as charset. */
function mediaType(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return "";
  const semicolon = value.indexOf(";");
  return (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}
