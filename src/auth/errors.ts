/**
 * An answer the user's auth module chose: an `HTTPException` thrown by `authenticate` or an
 * authorization handler (status, message and headers such as WWW-Authenticate are kept).
 */
export class AuthRejection extends Error {
  override name = "AuthRejection";
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** An `HTTPException` of @langchain/langgraph-sdk/auth (any copy of it): a status and headers. */
export function asAuthRejection(error: unknown): AuthRejection | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { status, headers, message } = error as { status?: unknown; headers?: unknown; message?: unknown };
  if (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 599 || !("headers" in error)) {
    return undefined;
  }
  return new AuthRejection(status, typeof message === "string" && message ? message : "Unauthorized", plainHeaders(headers));
}

function plainHeaders(headers: unknown): Record<string, string> {
  if (!headers || typeof headers !== "object") return {};
  try {
    return Object.fromEntries(new Headers(headers as ConstructorParameters<typeof Headers>[0]).entries());
  } catch {
    return {};
  }
}
