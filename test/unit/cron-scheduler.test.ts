import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CronScheduler, followingFiring } from "../../src/runtime/crons/scheduler.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import type { Cron } from "../../src/storage/types.js";

let dir: string;
let storage: LowdbStorage;
const logger = pino({ level: "silent" });

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "lgts-cron-"));
  storage = await LowdbStorage.open({ dataDir: dir });
});
afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const everySecond = { schedule: "* * * * * *", timezone: null, end_time: null };

async function createCron(overrides: Partial<Parameters<LowdbStorage["crons"]["create"]>[0]> = {}) {
  return storage.crons.create({
    assistant_id: "a",
    thread_id: null,
    payload: {},
    ...everySecond,
    next_run_date: followingFiring(everySecond, new Date())!.toISOString(),
    ...overrides,
  });
}

/** Waits until `count` firings were seen, or fails after `ms`. */
function firings(fired: Cron[], count: number, ms: number) {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const check = setInterval(() => {
      if (fired.length >= count) {
        clearInterval(check);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(check);
        reject(new Error(`${fired.length} of ${count} firings after ${ms} ms`));
      }
    }, 20);
  });
}

describe("cron scheduler", () => {
  it("fires on schedule and stops once the cron is deleted", async () => {
    const fired: Cron[] = [];
    const scheduler = new CronScheduler(storage, logger);
    const cron = await createCron();
    await scheduler.start(async (cron) => void fired.push(cron));
    await firings(fired, 2, 4_000);
    expect(fired.every((f) => f.cron_id === cron.cron_id)).toBe(true);
    const stored = await storage.crons.get(cron.cron_id);
    expect(Date.parse(stored.next_run_date!)).toBeGreaterThan(Date.now() - 1_000);

    await storage.crons.delete(cron.cron_id);
    const seen = fired.length;
    await new Promise((r) => setTimeout(r, 2_200));
    expect(fired.length).toBeLessThanOrEqual(seen + 1); // a firing already under way may finish
    await scheduler.stop();
  });

  it("fires a tick missed while no server ran exactly once, then follows the schedule", async () => {
    const hourly = { schedule: "0 * * * *", timezone: null, end_time: null };
    const cron = await createCron({ ...hourly, next_run_date: new Date(Date.now() - 3 * 3_600_000).toISOString() });
    const fired: Cron[] = [];
    const scheduler = new CronScheduler(storage, logger);
    await scheduler.start(async (c) => void fired.push(c));
    expect(fired.map((c) => c.cron_id)).toEqual([cron.cron_id]);
    const next = Date.parse((await storage.crons.get(cron.cron_id)).next_run_date!);
    expect(next).toBeGreaterThan(Date.now());
    expect(next - Date.now()).toBeLessThanOrEqual(3_600_000);
    await scheduler.stop();
  });

  it("never fires disabled crons or past the end time", async () => {
    const fired: Cron[] = [];
    await createCron({ enabled: false });
    const ended = { ...everySecond, end_time: new Date(Date.now() + 1_500).toISOString() };
    const ending = await createCron({ ...ended, next_run_date: followingFiring(ended, new Date())!.toISOString() });
    const scheduler = new CronScheduler(storage, logger);
    await scheduler.start(async (c) => void fired.push(c));
    await new Promise((r) => setTimeout(r, 3_000));
    expect(fired.length).toBeGreaterThanOrEqual(1);
    expect(fired.every((c) => c.cron_id === ending.cron_id)).toBe(true);
    expect((await storage.crons.get(ending.cron_id)).next_run_date).toBeNull();
    await scheduler.stop();
  });

  it("evaluates schedules in the cron's time zone", () => {
    const nineInParis = { schedule: "0 9 * * *", timezone: "Europe/Paris", end_time: null };
    const next = followingFiring(nineInParis, new Date("2026-01-15T00:00:00Z"))!;
    expect(next.toISOString()).toBe("2026-01-15T08:00:00.000Z");
  });
});
