/**
 * Domain errors: what went wrong, in the terms of the server's model rather than of a transport.
 * Storage, the runtime and the protocols throw these; the HTTP layer (src/http/error-reply.ts)
 * and the JSON-RPC layer map each kind to their own answer (status code, error code).
 */

/**
 * - invalid: the request cannot be honoured as written (HTTP 422)
 * - unauthorized: no valid credentials (401)
 * - forbidden: the authenticated user may not do this (403)
 * - not_found: no such resource, or one the caller may not see (404)
 * - conflict: the resource's current state forbids it (409)
 * - unavailable: a dependency (storage) failed; retrying later may work (503)
 */
export type DomainErrorKind = "invalid" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "unavailable";

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DomainError";
  }
}

export const invalid = (detail: string) => new DomainError("invalid", detail);
export const notFound = (detail: string) => new DomainError("not_found", detail);
export const conflict = (detail: string) => new DomainError("conflict", detail);
export const forbidden = (detail: string) => new DomainError("forbidden", detail);
export const unauthorized = (detail: string) => new DomainError("unauthorized", detail);

/** Whether `error` says the resource does not exist (or is hidden from the caller). */
export const isNotFound = (error: unknown): boolean => error instanceof DomainError && error.kind === "not_found";
