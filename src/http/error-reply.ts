import type { Logger } from "pino";
import { StorageError } from "../storage/errors.js";
import { HttpError } from "./errors.js";

export interface ErrorReply {
  status: number;
  body: { detail: string };
}

/** Maps anything thrown while answering a request to the JSON error the client receives. */
export function errorReply(error: unknown, logger: Logger): ErrorReply {
  if (error instanceof HttpError) return { status: error.status, body: { detail: error.detail } };
  if (error instanceof StorageError) {
    if (error.status >= 500) logger.error({ err: error }, "storage failure while answering a request");
    return { status: error.status, body: { detail: error.message } };
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
