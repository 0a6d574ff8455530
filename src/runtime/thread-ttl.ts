import type { Logger } from "pino";
import type { Storage } from "../storage/types.js";

/**
 * Deletes threads whose TTL has run out. One timer, set to the earliest expiry: no periodic
 * polling. Creating or updating a thread with a TTL `nudge`s the sweeper so an earlier expiry
 * re-arms the timer.
 */
export class ThreadTtlSweeper {
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Infinity;
  #sweeping: Promise<void> | null = null;
  #stopped = false;

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    /** Applies a `keep_latest` expiry (keeps only the latest checkpoint); absent: strategy refused. */
    private readonly keepLatest?: (threadId: string) => Promise<void>,
  ) {}

  get supportsKeepLatest(): boolean {
    return this.keepLatest !== undefined;
  }

  /** Sweeps once (expired threads left by a previous process) and arms the timer. */
  async start(): Promise<void> {
    await this.#sweep();
  }

  /** A thread's expiry may have moved earlier. */
  nudge(expiresAt: number): void {
    if (!this.#stopped && expiresAt < this.#armedFor) this.#arm(expiresAt);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#sweeping;
  }

  #arm(at: number) {
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedFor = at;
    // setTimeout holds at most ~24.8 days; a later expiry re-arms when that fires
    const delay = Math.min(Math.max(0, at - Date.now()), 2_000_000_000);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#armedFor = Infinity;
      this.#sweeping = this.#sweep().finally(() => (this.#sweeping = null));
    }, delay);
    this.#timer.unref();
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    let next = Infinity;
    for (const expiry of await this.storage.threads.expiring()) {
      if (expiry.expires_at > now) {
        next = Math.min(next, expiry.expires_at);
        continue;
      }
      try {
        if (expiry.strategy === "keep_latest" && this.keepLatest) await this.keepLatest(expiry.thread_id);
        else await this.storage.threads.delete(expiry.thread_id);
      } catch (error) {
        if ((error as { status?: number }).status !== 404) {
          this.logger.error({ err: error, thread_id: expiry.thread_id }, "thread TTL sweep failed");
        }
      }
    }
    if (!this.#stopped && next !== Infinity) this.#arm(next);
  }
}
