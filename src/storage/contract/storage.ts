/** Storage contract: the storage as a whole: its repositories, thread hooks, health check and close. */
import type { AssistantsRepository } from "./assistants.js";
import type { ThreadHooks, ThreadsRepository } from "./threads.js";
import type { RunsRepository } from "./runs.js";
import type { WebhookOutbox } from "./webhooks.js";
import type { StoreItemsRepository } from "./store-items.js";
import type { CronsRepository } from "./crons.js";
import type { CheckpointsRepository } from "./checkpoints.js";
import type { StorageArchive } from "./archive.js";

export interface Storage {
  /** Which implementation this is (`/info` and `/ok?check_db=1` report it). */
  readonly backend: "lowdb" | "postgres";
  /**
   * Whether writes become durable in the order they are made, across every repository (lowdb:
   * one commit log), so that a write known durable carries every earlier one with it. The run
   * engine then records a run's end without waiting for its checkpoints first. A write that
   * failed (StorageUnavailableError) is applied all the same and reaches the disk with the next
   * durable one: only reads wait for it (and fail while it cannot be made durable).
   */
  readonly durableInOrder: boolean;
  readonly assistants: AssistantsRepository;
  readonly threads: ThreadsRepository;
  readonly checkpoints: CheckpointsRepository;
  readonly storeItems: StoreItemsRepository;
  readonly runs: RunsRepository;
  readonly crons: CronsRepository;
  readonly webhooks: WebhookOutbox;
  readonly archive: StorageArchive;
  /** Registers hooks; returns a function that unregisters them. */
  addThreadHooks(hooks: ThreadHooks): () => void;
  /**
   * Proves the backend can still serve: reaches it and makes a durable write (lowdb) or a round
   * trip (PostgreSQL). StorageUnavailableError when it cannot. Used by `/ok?check_db=1`.
   */
  check(): Promise<void>;
  /** Waits for pending writes, then releases resources; later calls reject. */
  close(): Promise<void>;
}
