/**
 * JSON-RPC 2.0 envelopes for the MCP and A2A endpoints: what a posted message is, the responses,
 * and the mapping of anything thrown to an error object. Operations marked `x-jsonrpc: true` in
 * the contract check their bodies themselves (see `isJsonRpcOperation`), because their clients
 * understand JSON-RPC error objects, not the generic 422 answer.
 */
import type { ErrorRequestHandler } from "express";
import type { OpenAPIBackend } from "openapi-backend";
import type { Logger } from "pino";
import type { components } from "../../generated/openapi.js";
import { DomainError } from "../errors.js";
import { AuthRejection } from "../auth/errors.js";
import { HttpError } from "./errors.js";

export type JsonRpcId = string | number;
export type JsonRpcErrorObject = components["schemas"]["JsonRpcError"];

/** The codes JSON-RPC 2.0 reserves; protocols add their own in -32000..-32099. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
} as const;

/** Thrown by a method to answer with this error object. */
export class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "JsonRpcError";
  }

  toObject(): JsonRpcErrorObject {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

export const invalidParams = (message: string) => new JsonRpcError(RPC.invalidParams, message);

export interface JsonRpcSuccess<R> {
  jsonrpc: "2.0";
  id: JsonRpcId;
  result: R;
}

export interface JsonRpcFailure {
  jsonrpc: "2.0";
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

export const success = <R>(id: JsonRpcId, result: R): JsonRpcSuccess<R> => ({ jsonrpc: "2.0", id, result });
export const failure = (id: JsonRpcId | null, error: JsonRpcError): JsonRpcFailure => ({ jsonrpc: "2.0", id, error: error.toObject() });

/** A posted message, classified. */
export type Incoming =
  | { kind: "request"; id: JsonRpcId; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response" }
  | { kind: "invalid"; id: JsonRpcId | null; error: JsonRpcError };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** Both protocols use string or integer ids (JSON-RPC's fractional and null ids are not allowed). */
const isId = (value: unknown): value is JsonRpcId => typeof value === "string" || (typeof value === "number" && Number.isInteger(value));

export function classify(message: unknown): Incoming {
  const invalid = (why: string, id: JsonRpcId | null = null): Incoming => ({
    kind: "invalid",
    id,
    error: new JsonRpcError(RPC.invalidRequest, `Invalid Request: ${why}`),
  });
  if (!isObject(message)) return invalid("a JSON-RPC message is a JSON object");
  const id = isId(message.id) ? message.id : null;
  if (message.jsonrpc !== "2.0") return invalid(`jsonrpc must be "2.0"`, id);
  if ("method" in message) {
    if (typeof message.method !== "string") return invalid("method must be a string", id);
    const { params } = message;
    if (params !== undefined && (params === null || typeof params !== "object")) {
      return invalid("params must be an object or an array", id);
    }
    if (!("id" in message)) return { kind: "notification", method: message.method, params };
    if (id === null) return invalid("id must be a string or an integer");
    return { kind: "request", id, method: message.method, params };
  }
  if ("result" in message !== "error" in message && (id !== null || message.id === null)) return { kind: "response" };
  return invalid("neither a request, a notification nor a response", id);
}

/** The params of a request as named parameters (both protocols define only those). */
export function namedParams(params: unknown): Record<string, unknown> {
  if (params === undefined) return {};
  if (!isObject(params)) throw invalidParams("params must be an object (named parameters)");
  return params;
}

/**
 * Anything a method threw as an error object: its own JSON-RPC error, a client error of the
 * server (4xx: the request cannot be honoured) as invalid params, anything else as an internal
 * error, logged since it is a bug.
 */
export function toJsonRpcError(error: unknown, logger: Logger): JsonRpcError {
  if (error instanceof JsonRpcError) return error;
  if (error instanceof HttpError && error.status < 500) return invalidParams(error.detail);
  // the Auth's own refusal (an HTTPException of an authorization handler), with its message
  if (error instanceof AuthRejection && error.status < 500) return invalidParams(error.message);
  if (error instanceof DomainError && error.kind !== "unavailable") return invalidParams(error.message);
  logger.error({ err: error }, "unhandled error while answering a JSON-RPC request");
  return new JsonRpcError(RPC.internalError, "Internal error");
}

/** Whether the contract marks an operation as a JSON-RPC endpoint checking its own body. */
export const isJsonRpcOperation = (operation: object | undefined): boolean =>
  (operation as { "x-jsonrpc"?: unknown } | undefined)?.["x-jsonrpc"] === true;

/** A body that is not JSON, posted to a JSON-RPC endpoint, is answered as a JSON-RPC parse error. */
export function jsonRpcParseErrors(api: OpenAPIBackend): ErrorRequestHandler {
  return (error, req, res, next) => {
    const unparsable = (error as { type?: string } | undefined)?.type === "entity.parse.failed";
    const operation = unparsable ? api.matchOperation({ method: req.method, path: req.path, headers: {} }) : undefined;
    if (res.headersSent || !isJsonRpcOperation(operation)) {
      next(error);
      return;
    }
    res.status(400).json(failure(null, new JsonRpcError(RPC.parseError, `Parse error: ${(error as Error).message}`)));
  };
}
