import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CronScheduler, followingFiring } from "../../src/runtime/crons/scheduler.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import type { Cron } from "../../src/storage/types.js";
import { eventually } from "../support/runs.js";
import { TEST_SHARDS } from "./storage-helpers.js";

let dir: string;
let storage: LowdbStorage;
const logger = pino({ level: "silent" });

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "lgts-cron-"));
  storage = await LowdbStorage.open({ dataDir: dir, shards: TEST_SHARDS });
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

const countOf = (fired: Cron[], cronId: string) => fired.filter((c) => c.cron_id === cronId).length;

/** Waits until `count` firings were seen, or fails after `ms`. */
function firings(fired: Cron[], count: number, ms: number) {
  return eventually(async () => (fired.length >= count ? true : undefined), ms, `${count} firings`);
}

/** Waits until cron `cronId` fired `count` times, or fails after `ms`. */
function firingsOf(fired: Cron[], cronId: string, count: number, ms: number) {
  return eventually(async () => (countOf(fired, cronId) >= count ? true : undefined), ms, `${count} firings of ${cronId}`);
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

    // a second cron shows the scheduler keeps running passes after the deletion
    const probe = await createCron();
    await firingsOf(fired, probe.cron_id, 1, 4_000);
    await storage.crons.delete(cron.cron_id);
    const probeSeen = countOf(fired, probe.cron_id);
    await firingsOf(fired, probe.cron_id, probeSeen + 1, 4_000); // a pass under way at the deletion may still fire it
    const seen = countOf(fired, cron.cron_id);
    await firingsOf(fired, probe.cron_id, probeSeen + 2, 4_000); // a whole pass after the deletion
    expect(countOf(fired, cron.cron_id)).toBe(seen);
    await scheduler.stop();
  });

  it("logs a firing whose run cannot be started, and keeps firing it and the other crons", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const recording = pino({ level: "error" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const fired: Cron[] = [];
    const failing = await createCron();
    const healthy = await createCron();
    const scheduler = new CronScheduler(storage, recording);
    await scheduler.start(async (c) => {
      fired.push(c);
      if (c.cron_id === failing.cron_id) throw new Error("assistant is gone");
    });
    await firingsOf(fired, failing.cron_id, 2, 4_000);
    await firingsOf(fired, healthy.cron_id, 2, 4_000);
    await scheduler.stop();
    const logged = lines.filter((l) => l.msg === "cron run could not be started");
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(logged.every((l) => l.cron_id === failing.cron_id && (l.err as { message: string }).message === "assistant is gone")).toBe(true);
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
    // the ending cron's last firing clears its next date: every pass that could fire the others ran
    await eventually(async () => ((await storage.crons.get(ending.cron_id)).next_run_date === null ? true : undefined), 5_000, "the end time");
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
