/**
 * Authentication and authorization of requests with the user's LangGraph `Auth`. The HTTP layer
 * authenticates each request once (`RequestAuthenticator`); handlers call `authorize` with the
 * event of what they are about to do and pass the resulting scope to storage.
 */
import type { AuthEventValueMap } from "@langchain/langgraph-sdk/auth";
import type { Logger } from "pino";
import { UNSCOPED } from "../storage/scope.js";
import { authenticate, type IncomingRequest } from "./authenticate.js";
import { authorize, type AuthEvent, type Authorized } from "./authorize.js";
import { AuthCache, type AuthCacheConfig } from "./cache.js";
import type { AuthHandlers } from "./load.js";
import type { AuthUser } from "./user.js";

export type { AuthEvent, Authorized } from "./authorize.js";
export type { AuthUser } from "./user.js";
export { AuthRejection } from "./errors.js";
export { AuthLoadError, loadAuth, type AuthHandlers } from "./load.js";

/** The caller of one request, as handlers see it. */
export interface RequestAuth {
  /** null when the server has no Auth configured. */
  readonly user: AuthUser | null;
  /** Runs the handler of `event`; the answer's scope goes to storage, its value replaces the input. */
  authorize<E extends AuthEvent>(event: E, value: AuthEventValueMap[E]): Promise<Authorized<AuthEventValueMap[E]>>;
}

/** A server without Auth: nobody is authenticated and everything is visible. */
export const NO_AUTH: RequestAuth = {
  user: null,
  authorize: async (_event, value) => ({ scope: UNSCOPED, value }),
};

/** Acting as a stored user without a request (cron firings): handlers are not asked again. */
export function actingAs(user: AuthUser | null): RequestAuth {
  return user ? { user, authorize: async (_event, value) => ({ scope: UNSCOPED, value }) } : NO_AUTH;
}

export class RequestAuthenticator {
  readonly #cache: AuthCache | undefined;

  constructor(
    private readonly handlers: AuthHandlers,
    private readonly logger: Logger,
    /** langgraph.json `auth.cache`; absent: every request is authenticated anew. */
    cache?: AuthCacheConfig | null,
  ) {
    this.#cache = cache ? new AuthCache(cache) : undefined;
  }

  /** A user authenticated earlier (the stored creator of a cron), whose requests the handlers authorize anew. */
  actingAs(user: AuthUser): RequestAuth {
    const { handlers, logger } = this;
    return { user, authorize: (event, value) => authorize(handlers, user, event, value, logger) };
  }

  /** Authenticates a request (AuthRejection when it cannot be). */
  async authenticate(incoming: IncomingRequest): Promise<RequestAuth> {
    const key = this.#cache?.keyOf(incoming.headers);
    let user = key === undefined ? undefined : this.#cache!.get(key);
    if (!user) {
      user = await authenticate(this.handlers, incoming, this.logger);
      if (key !== undefined) this.#cache!.set(key, user);
    }
    return this.actingAs(user);
  }
}
