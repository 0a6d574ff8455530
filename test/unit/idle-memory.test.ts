import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IdleMemoryRelease } from "../../src/idle-memory.js";

const MiB = 2 ** 20;

describe("memory given back when the server goes idle", () => {
  let committed: number;
  let releases: number;
  let idle: IdleMemoryRelease;
  let busy: boolean;
  beforeEach(() => {
    busy = false;
    vi.useFakeTimers();
    committed = 100 * MiB;
    releases = 0;
    idle = new IdleMemoryRelease({
      idleMs: 1000,
      minGrowthBytes: 32 * MiB,
      committedHeap: () => committed,
      release: () => {
        releases++;
        committed = 110 * MiB;
        return Promise.resolve();
      },
      busy: () => busy,
    });
  });
  afterEach(() => {
    idle.stop();
    vi.useRealTimers();
  });

  it("collects once no request came for a while after some did and the heap grew", async () => {
    idle.activity();
    committed = 200 * MiB;
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(600); // a request every 600 ms: not idle
      idle.activity();
    }
    expect(releases).toBe(0);
    await vi.advanceTimersByTimeAsync(2500);
    expect(releases).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000); // idle on: nothing more to do
    expect(releases).toBe(1);
    expect(vi.getTimerCount()).toBe(0); // no timer while idle
  });

  it("leaves a heap that has not grown since the last release alone", async () => {
    idle.activity();
    committed = 120 * MiB; // +20 MiB: under the 32 MiB threshold
    await vi.advanceTimersByTimeAsync(5000);
    expect(releases).toBe(0);
    idle.activity();
    committed = 140 * MiB;
    await vi.advanceTimersByTimeAsync(5000);
    expect(releases).toBe(1);
    idle.activity();
    committed = 130 * MiB; // measured from the heap after that release (110 MiB)
    await vi.advanceTimersByTimeAsync(5000);
    expect(releases).toBe(1);
  });

  it("waits while work is in progress (a stream still open, a run executing), then collects", async () => {
    idle.activity();
    committed = 200 * MiB;
    busy = true; // no new request, but one is still being answered
    await vi.advanceTimersByTimeAsync(5000);
    expect(releases).toBe(0);
    busy = false;
    await vi.advanceTimersByTimeAsync(1500);
    expect(releases).toBe(1);
  });
});
