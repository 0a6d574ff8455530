/** The alarm behind crons, TTL sweeps and delayed-run claims: a failed ring rings again by itself. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Alarm } from "../../src/runtime/alarm.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("Alarm", () => {
  it("rings again after a failure (the database was away), backing off, until a ring succeeds", async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    let rings = 0;
    const alarm = new Alarm(
      async () => {
        rings++;
        if (rings <= 2) throw new Error("database unavailable");
        return Infinity;
      },
      (error) => errors.push(error),
    );
    await alarm.ringNow();
    expect(rings).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(rings).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rings).toBe(2); // 1 s after the first failure
    await vi.advanceTimersByTimeAsync(1_999);
    expect(rings).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(rings).toBe(3); // 2 s after the second
    await vi.advanceTimersByTimeAsync(120_000);
    expect(rings).toBe(3); // succeeded with nothing due: quiet
    expect(errors).toHaveLength(2);
    await alarm.stop();
  });

  it("rings at the moment armed, and only moves earlier", async () => {
    vi.useFakeTimers();
    const rang: number[] = [];
    const alarm = new Alarm(
      async () => {
        rang.push(Date.now());
        return Infinity;
      },
      () => {},
    );
    const start = Date.now();
    alarm.armAt(start + 500);
    alarm.armAt(start + 800); // later: ignored
    alarm.armAt(start + 200);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rang).toEqual([start + 200]);
    await alarm.stop();
  });
});
