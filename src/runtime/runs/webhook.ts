/**
 * Webhook delivery from the stored outbox (`storage.webhooks`): a run's end and the POST it owes
 * are stored in one commit (`runs.end`), and this dispatcher, in every process, claims owed
 * deliveries, POSTs `{...run, values, error}` as JSON, and completes them (removed) on a 2xx.
 * A failed attempt (network error, timeout, non-2xx) is put back with exponential backoff; after
 * the last attempt the delivery is given up (logged). So a delivery survives a crash of the
 * process that owed it: its claim lapses and any process, this one after a restart included,
 * takes it, never while the process that claimed it lives (the owner is the process's worker
 * id, whose liveness PostgreSQL tells as for run leases), however slow its attempt. Each run's
 * webhook is delivered once; only a crash between the receiver's answer and the completion can
 * repeat an attempt: every attempt carries the same `Idempotency-Key` (the delivery's stored
 * id), so the receiver can drop a repeat.
 *
 * Event-driven: `wake` after a run's end was stored here, a notice from the other processes
 * (`cluster` topic "webhooks"; PostgreSQL sends it from the committing transaction), and an
 * alarm at the earliest due retry or lapsing claim (a claim that lapsed while its process lives:
 * looked at again every few seconds until it ends, as nothing announces a process's death).
 */
import type { Logger } from "pino";
import type { WebhookDelivery, WebhookOutbox } from "../../storage/types.js";
import { WebhookPolicy } from "../webhooks/policy.js";
import { postWebhook, type PostProblem } from "../webhooks/post.js";
import { Alarm } from "../alarm.js";
import type { Cluster } from "../cluster.js";

/** Sent with every attempt of a delivery, the same each time: its stored id (a receiver drops repeats). */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/** The topic (PostgreSQL: channel `lgts_webhooks`) on which a newly owed delivery is announced. */
export const WEBHOOKS_TOPIC = "webhooks";

/** How deliveries are made: the `webhooks` settings, and this server's URL for webhooks given as a path. */
export interface WebhookTargets {
  policy: WebhookPolicy;
  /** The URL of this server (with its mount prefix); undefined until it listens. */
  serverUrl(): string | undefined;
}

export interface WebhookOptions {
  /** Attempts in all (default 4). */
  attempts?: number;
  /** Wait before the first retry; doubles each time (default 500 ms). */
  initialBackoffMs?: number;
  /** Per-attempt timeout (default 10 s). A claim lasts this plus a margin. */
  timeoutMs?: number;
  /** Deliveries attempted at once by this process (default 10). */
  concurrency?: number;
  /** Default: no `webhooks` settings, and webhooks given as a path wait for a server URL. */
  targets?: WebhookTargets;
}

export class WebhookDispatcher {
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();
  readonly #alarm: Alarm;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #targets: WebhookTargets;
  #claiming: Promise<void> | null = null;
  #claimAgain = false;
  #stopped = false;
  #unlisten: () => void = () => {};

  constructor(
    private readonly outbox: WebhookOutbox,
    /** This process's worker id (its claims' owner). */
    private readonly owner: string,
    private readonly logger: Logger,
    options: WebhookOptions = {},
  ) {
    this.#targets = options.targets ?? { policy: new WebhookPolicy(null, {}, "dev"), serverUrl: () => undefined };
    this.#attempts = options.attempts ?? 4;
    this.#backoffMs = options.initialBackoffMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#concurrency = options.concurrency ?? 10;
    this.#alarm = new Alarm(
      async () => {
        await this.#claimPasses();
        return Infinity; // each pass re-arms for what comes due next
      },
      (error) => logger.warn({ err: error }, "claiming webhook deliveries failed; retrying"),
    );
  }

  /** Hears the other processes' new deliveries, and takes over those left by a previous process. */
  async start(cluster: Cluster): Promise<void> {
    this.#unlisten = await cluster.on(WEBHOOKS_TOPIC, () => this.wake());
    await this.#alarm.ringNow();
  }

  /** A delivery may be owed (a run's end was stored): claim what is due. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    void this.#alarm.ringNow();
  }

  /** Gives attempts in flight up to `graceMs`, then abandons them: their claims lapse and they are retried. */
  async close(graceMs: number): Promise<void> {
    this.#stopped = true;
    this.#unlisten();
    await this.#alarm.stop();
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...this.#inFlight.values()]), grace]);
      clearTimeout(timer);
    }
    this.#stop.abort();
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  async #claimPasses(): Promise<void> {
    if (this.#claiming) {
      this.#claimAgain = true;
      return this.#claiming;
    }
    this.#claiming = (async () => {
      do {
        this.#claimAgain = false;
        while (!this.#stopped && this.#inFlight.size < this.#concurrency) {
          const claimed = await this.outbox.claim(this.owner, this.#concurrency - this.#inFlight.size, this.#timeoutMs + CLAIM_MARGIN_MS, [
            ...this.#inFlight.keys(),
          ]);
          for (const delivery of claimed) this.#attempt(delivery);
          if (claimed.length === 0) break;
        }
        const next = await this.outbox.nextDueInMs(this.owner, [...this.#inFlight.keys()]);
        if (next !== null && !this.#stopped) this.#alarm.armAt(Date.now() + Math.max(next, MIN_REARM_MS));
      } while (this.#claimAgain && !this.#stopped);
    })().finally(() => (this.#claiming = null));
    return this.#claiming;
  }

  #attempt(delivery: WebhookDelivery): void {
    const attempt = this.#deliver(delivery)
      .catch((error: unknown) => this.logger.warn({ err: error, run_id: delivery.run_id }, "cannot record a webhook attempt; its claim will lapse"))
      .finally(() => {
        this.#inFlight.delete(delivery.delivery_id);
        this.wake();
      });
    this.#inFlight.set(delivery.delivery_id, attempt);
  }

  async #deliver(delivery: WebhookDelivery): Promise<void> {
    const context = { run_id: delivery.run_id, thread_id: delivery.thread_id, webhook: delivery.url, attempt: delivery.attempts };
    const failure = await this.#post(delivery.url, delivery.delivery_id, JSON.stringify(delivery.payload));
    if (this.#stop.signal.aborted && failure !== null) return; // shutdown cut it: the claim lapses, someone retries
    if (failure === null) {
      await this.outbox.complete(delivery.delivery_id, this.owner);
      return;
    }
    const { problem } = failure;
    if (failure.final) {
      this.logger.warn({ ...context, problem }, "webhook not delivered: its target is refused");
      await this.outbox.complete(delivery.delivery_id, this.owner);
      return;
    }
    if (delivery.attempts >= this.#attempts) {
      this.logger.warn({ ...context, problem }, "webhook delivery failed");
      await this.outbox.complete(delivery.delivery_id, this.owner);
      return;
    }
    this.logger.debug({ ...context, problem }, "webhook attempt failed; retrying");
    await this.outbox.retryAfter(delivery.delivery_id, this.owner, this.#backoffMs * 2 ** (delivery.attempts - 1));
  }

  /**
   * One POST; null on success, else what went wrong. A webhook given as a path is a call to this
   * server itself (its custom routes), which the private-address rule does not concern.
   */
  async #post(stored: string, idempotencyKey: string, body: string): Promise<PostProblem | null> {
    const { policy } = this.#targets;
    const onThisServer = stored.startsWith("/");
    const base = this.#targets.serverUrl();
    if (onThisServer && base === undefined) return { problem: "this server does not listen yet", final: false };
    const target = onThisServer ? new URL(base + stored) : new URL(stored);
    return postWebhook(target, body, {
      headers: { ...policy.headers, [IDEMPOTENCY_HEADER]: idempotencyKey },
      signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#stop.signal]),
      publicOnly: policy.blockPrivateAddresses && !onThisServer,
      signingSecret: policy.signingSecret,
    });
  }
}

/** A claim outlives its attempt's timeout by this much, so a live attempt is never taken over. */
const CLAIM_MARGIN_MS = 5_000;
/** Re-arming never sooner than this (a due time the claim just missed). */
const MIN_REARM_MS = 5;
