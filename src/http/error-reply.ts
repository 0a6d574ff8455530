import type { Logger } from "pino";
import { DomainError, type DomainErrorKind } from "../errors.js";
import { AuthRejection } from "../auth/errors.js";
import { HttpError } from "./errors.js";

export interface ErrorReply {
  status: number;
  body: { detail: string };
  headers?: Record<string, string>;
}

/** The HTTP status of each kind of domain error. */
export const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** Maps anything thrown while answering a request to the JSON error the client receives. */
export function errorReply(error: unknown, logger: Logger): ErrorReply {
  if (error instanceof HttpError) return { status: error.status, body: { detail: error.detail } };
  if (error instanceof AuthRejection) return { status: error.status, body: { detail: error.message }, headers: error.headers };
  if (error instanceof DomainError) {
    if (error.kind === "unavailable") logger.error({ err: error }, "dependency failure while answering a request");
    return { status: STATUS_OF[error.kind], body: { detail: error.message } };
  }
  const bodyParserError = error as { type?: string; status?: number; message?: string };
  if (bodyParserError?.type === "entity.parse.failed") {
    return { status: 400, body: { detail: `Malformed JSON body: ${bodyParserError.message}` } };
  }
  if (typeof bodyParserError?.status === "number" && bodyParserError.status >= 400 && bodyParserError.status < 500) {
    return { status: bodyParserError.status, body: { detail: bodyParserError.message ?? "Bad request" } };
  }
  logger.error({ err: error }, "unhandled error while answering a request");
  return { status: 500, body: { detail: "Internal server error" } };
}
