/**
 * Authentication: the user's `authenticate` gets a standard `Request` (method, full URL and
 * headers; no body: requests are authenticated before their body is read) and returns the user. Any failure is a 401 with a generic
 * message, unless the module threw an `HTTPException`, whose status and message are kept: the
 * server never answers 500 or shows a stack trace because of credentials.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "pino";
import type { AuthHandlers } from "./load.js";
import { AuthRejection, asAuthRejection } from "./errors.js";
import { InvalidAuthResultError, normalizeUser, type AuthUser } from "./user.js";

export interface IncomingRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

const GENERIC = "Unauthorized";

/** The standard Request the user's `authenticate` receives. */
export function toWebRequest(incoming: IncomingRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    try {
      for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
    } catch {
      // a header value Headers refuses (control characters) is left out rather than failing the request
    }
  }
  const url = safeUrl(incoming.headers.host, incoming.url);
  return new Request(url, { method: incoming.method, headers });
}

function safeUrl(host: string | undefined, path: string): URL {
  try {
    return new URL(path, `http://${host ?? "localhost"}`);
  } catch {
    return new URL(path.startsWith("/") ? path : "/", "http://localhost");
  }
}

export async function authenticate(handlers: AuthHandlers, incoming: IncomingRequest, logger: Logger): Promise<AuthUser> {
  let result: unknown;
  try {
    result = await handlers.authenticate!(toWebRequest(incoming));
  } catch (error) {
    const rejection = asAuthRejection(error);
    if (rejection) throw rejection;
    logger.info({ err: error }, "authentication failed");
    throw new AuthRejection(401, GENERIC);
  }
  try {
    const user = normalizeUser(result);
    if (!user.is_authenticated) throw new AuthRejection(401, GENERIC);
    return user;
  } catch (error) {
    if (error instanceof InvalidAuthResultError) logger.error({ err: error }, "the auth module's authenticate returned no user");
    throw error instanceof AuthRejection ? error : new AuthRejection(401, GENERIC);
  }
}
