/**
 * langgraph.json `auth.cache`: successful `authenticate` results kept for `ttl_seconds`, keyed by
 * the values of the request headers `cache_keys` names, at most `max_size` of them (least
 * recently used dropped first). A request without any of those headers is never served from the
 * cache, and failures are never cached. A cached user stays valid for the whole TTL, even if its
 * credentials are revoked or expire meanwhile.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { AuthUser } from "./user.js";

export interface AuthCacheConfig {
  cache_keys?: string[];
  ttl_seconds?: number;
  max_size?: number;
}

const DEFAULTS = { cache_keys: ["authorization"], ttl_seconds: 60, max_size: 1000 };

export class AuthCache {
  readonly #keys: string[];
  readonly #ttlMs: number;
  readonly #maxSize: number;
  /** Insertion order is recency order: a hit moves its entry to the end. */
  readonly #entries = new Map<string, { user: AuthUser; expiresAt: number }>();

  constructor(
    config: AuthCacheConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.#keys = (config.cache_keys?.length ? config.cache_keys : DEFAULTS.cache_keys).map((k) => k.toLowerCase());
    this.#ttlMs = (config.ttl_seconds ?? DEFAULTS.ttl_seconds) * 1000;
    this.#maxSize = config.max_size ?? DEFAULTS.max_size;
  }

  /** The cache key of a request, or undefined when it carries none of the keyed headers. */
  keyOf(headers: IncomingHttpHeaders): string | undefined {
    const values = this.#keys.map((name) => headers[name] ?? null);
    return values.every((v) => v === null) ? undefined : JSON.stringify(values);
  }

  get(key: string): AuthUser | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.clock()) return undefined;
    this.#entries.set(key, entry);
    return entry.user;
  }

  set(key: string, user: AuthUser): void {
    if (this.#maxSize === 0 || this.#ttlMs === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { user, expiresAt: this.clock() + this.#ttlMs });
    if (this.#entries.size > this.#maxSize) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
