/**
 * Memory given back once the server goes idle after work. Under load V8 lets the heap grow well
 * past what is live (garbage not yet collected, fragmented pages) and an idle process never
 * collects: after 3000 runs of a trivial graph on the embedded store, `lgts serve` held 373 MiB
 * idle for good, about 200 MiB after a compacting collection. So once no request has come for
 * `idleMs` after some did, and V8's committed heap has grown by `minGrowthBytes` since the last
 * release, one compacting collection runs (releaseMemory: a pause of some 100 ms per 100 MiB of
 * heap, when nobody is waiting). Not while work is in progress (`busy`: a response not yet
 * finished, such as a stream, or a run executing here): its pause would hold that work up.
 *
 * Per request: a counter. A timer runs only while requests come (one per `idleMs`).
 */
import v8 from "node:v8";
import { releaseMemory } from "./release-memory.js";

export interface IdleMemoryOptions {
  idleMs: number;
  minGrowthBytes: number;
  /** V8's committed heap (injected by tests). */
  committedHeap?: () => number;
  release?: () => Promise<void>;
  /** Work in progress that a pause would hold up: the release waits until there is none. */
  busy?: () => boolean;
}

export const IDLE_MEMORY_DEFAULTS = { idleMs: 30_000, minGrowthBytes: 32 * 2 ** 20 } as const;

export class IdleMemoryRelease {
  readonly #idleMs: number;
  readonly #minGrowthBytes: number;
  readonly #committedHeap: () => number;
  readonly #release: () => Promise<void>;
  readonly #busy: () => boolean;
  #requests = 0;
  #requestsWhenArmed = 0;
  #timer: NodeJS.Timeout | null = null;
  #committedAfterRelease: number;

  constructor(options: IdleMemoryOptions) {
    this.#idleMs = options.idleMs;
    this.#minGrowthBytes = options.minGrowthBytes;
    this.#committedHeap = options.committedHeap ?? (() => v8.getHeapStatistics().total_heap_size);
    this.#release = options.release ?? releaseMemory;
    this.#busy = options.busy ?? (() => false);
    this.#committedAfterRelease = this.#committedHeap();
  }

  /** A request came. */
  readonly activity = (): void => {
    this.#requests++;
    if (!this.#timer) this.#arm();
  };

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    this.#requestsWhenArmed = this.#requests;
    this.#timer = setTimeout(() => this.#idleOrNot(), this.#idleMs);
    this.#timer.unref();
  }

  #idleOrNot(): void {
    this.#timer = null;
    if (this.#requests !== this.#requestsWhenArmed || this.#busy()) return this.#arm();
    if (this.#committedHeap() - this.#committedAfterRelease < this.#minGrowthBytes) return;
    void this.#release().then(() => {
      this.#committedAfterRelease = this.#committedHeap();
    });
  }
}
