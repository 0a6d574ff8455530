/**
 * Answers to protocol commands, and the domain errors of the operations they call as protocol
 * error codes. Errors that say nothing about the command (a storage outage, a bug) are not
 * answered here: the transport reports them as it reports any failure (HTTP 503/500, or an
 * `unknown_error` on the socket).
 */
import type { components } from "../../../generated/openapi.js";
import { AuthRejection } from "../../auth/errors.js";
import { DomainError } from "../../errors.js";
import { protocolSeqBase } from "../../runtime/protocol/sequence.js";

type Schemas = components["schemas"];
export type CommandAnswer = Schemas["ProtocolCommandAnswer"];
export type CommandSuccess = Schemas["ProtocolCommandSuccess"];
export type CommandError = Schemas["ProtocolCommandError"];
export type ErrorCode = Schemas["ProtocolErrorCode"];

/** A command refused with a protocol error code. */
export class CommandRefused extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CommandRefused";
  }
}

export const refuse = (code: ErrorCode, message: string) => new CommandRefused(code, message);

/**
 * `appliedThroughSeq`: every event of the thread up to this seq came before the command (a run it
 * starts numbers its events after it). Clients use it to tell the history they replay (an
 * interrupt already answered) from what the command caused. Default: now.
 */
export function success(id: number, result: Record<string, unknown>, threadId: string, appliedThroughSeq = seqBefore()): CommandSuccess {
  return { type: "success", id, result, meta: { thread_id: threadId, applied_through_seq: appliedThroughSeq } };
}

/**
 * The seq every event already stored is at most, and every run started from now on numbers its
 * events after (see runtime/protocol/sequence.ts): taken when a command arrives, before it acts.
 */
export const seqBefore = (): number => protocolSeqBase() - 1;

export function failure(id: number | null, error: ErrorCode, message: string): CommandError {
  return { type: "error", id, error, message };
}

/**
 * The protocol error for an error a command's operation raised, or null when the error is not
 * about the command. `missing` is the code for what was not found (a run to act on, a checkpoint).
 */
export function commandError(error: unknown, missing: ErrorCode): { code: ErrorCode; message: string } | null {
  if (error instanceof CommandRefused) return { code: error.code, message: error.message };
  // the Auth's own refusal (an HTTPException of an authorization handler), with its message
  if (error instanceof AuthRejection && error.status < 500) return { code: "permission_denied", message: error.message };
  if (!(error instanceof DomainError)) return null;
  switch (error.kind) {
    case "invalid":
    case "conflict":
      return { code: "invalid_argument", message: error.message };
    case "not_found":
      return { code: missing, message: error.message };
    case "forbidden":
    case "unauthorized":
      return { code: "permission_denied", message: error.message };
    default:
      return null;
  }
}
