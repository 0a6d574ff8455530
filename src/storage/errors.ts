/**
 * Errors raised by every storage implementation: domain errors (../errors.ts), so the HTTP layer
 * maps them without knowing which backend threw them.
 */
import { DomainError } from "../errors.js";

export class StorageError extends DomainError {
  override name = "StorageError";
}

/** The record does not exist, or is not visible in the caller's scope. */
export class NotFoundError extends StorageError {
  override name = "NotFoundError";
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super("not_found", `${what} '${id}' not found`);
  }
}

/** A record with that id already exists (create with `if_exists: "raise"`). */
export class ConflictError extends StorageError {
  override name = "ConflictError";
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super("conflict", `${what} '${id}' already exists`);
  }
}

/** A run was refused because its thread already has active runs (multitask strategy `reject`). */
export class ThreadBusyError extends StorageError {
  override name = "ThreadBusyError";
  constructor(
    readonly threadId: string,
    readonly activeRuns: string[],
  ) {
    super(
      "conflict",
      `Thread '${threadId}' already has an active run: ${activeRuns.join(", ")}. ` +
        `Wait for it to finish, or create the run with multitask_strategy 'enqueue', 'interrupt' or 'rollback'.`,
    );
  }
}

/** The store was closed, or a write could not be made durable. */
export class StorageUnavailableError extends StorageError {
  override name = "StorageUnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("unavailable", message, options);
  }
}

/**
 * A run's end (or events) written by an execution that no longer holds the run: another process
 * took it over (its lease) and executes it under a later attempt. Nothing was written.
 */
export class RunTakenOverError extends StorageError {
  override name = "RunTakenOverError";
  constructor(
    readonly runId: string,
    readonly attempt: number,
  ) {
    super("conflict", `run '${runId}' is no longer executed under attempt ${attempt}`);
  }
}
