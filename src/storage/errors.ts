/**
 * Errors raised by every storage implementation. They carry the HTTP status the
 * HTTP layer should answer with, so `src/http` can map them without knowing
 * which backend threw them.
 */
export class StorageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

/** The record does not exist, or is not visible in the caller's owner scope. -> 404 */
export class NotFoundError extends StorageError {
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(404, `${what} '${id}' not found`);
    this.name = "NotFoundError";
  }
}

/** A record with that id already exists (create with `if_exists: "raise"`). -> 409 */
export class ConflictError extends StorageError {
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(409, `${what} '${id}' already exists`);
    this.name = "ConflictError";
  }
}

/** A run was refused because its thread already has active runs (multitask strategy `reject`). -> 409 */
export class ThreadBusyError extends StorageError {
  constructor(
    readonly threadId: string,
    readonly activeRuns: string[],
  ) {
    super(
      409,
      `Thread '${threadId}' already has an active run: ${activeRuns.join(", ")}. ` +
        `Wait for it to finish, or create the run with multitask_strategy 'enqueue', 'interrupt' or 'rollback'.`,
    );
    this.name = "ThreadBusyError";
  }
}

/** The store was closed, or a write could not be made durable. -> 500/503 */
export class StorageUnavailableError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, message);
    this.name = "StorageUnavailableError";
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
