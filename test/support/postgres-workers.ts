/**
 * Simulated server processes on one test database: each is a worker id whose worker lock is held
 * by a LISTEN connection of its own, as in the server, so closing that connection is the process
 * dying (PostgreSQL drops its session and lock).
 */
import { pino } from "pino";
import { Notifications } from "../../src/runtime/postgres/notifications.js";
import type { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { WORKER_LOCK } from "../../src/storage/postgres/run-leases.js";
import { registerWorker } from "../../src/storage/postgres/worker-locks.js";

export interface TestWorker {
  workerId: string;
  /** Closes the worker's session, as its process's death would. */
  die: () => Promise<void>;
}

export class TestWorkers {
  private readonly listening: Notifications[] = [];

  constructor(
    private readonly uri: string,
    private readonly storage: PostgresStorage,
  ) {}

  async start(workerId: string): Promise<TestWorker> {
    const notifications = new Notifications(this.uri, this.storage.db, pino({ level: "silent" }));
    await notifications.start();
    this.listening.push(notifications);
    if (!(await notifications.holdLock(WORKER_LOCK, workerId))) throw new Error(`worker lock of ${workerId} is already held`);
    await registerWorker(this.storage.db, workerId);
    return { workerId, die: () => notifications.close() };
  }

  async closeAll(): Promise<void> {
    for (const notifications of this.listening) await notifications.close();
  }
}
