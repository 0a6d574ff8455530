import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, webhookReceiver } from "../support/runs.js";
import { json, startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  // 6-field schedules (seconds first) make firings quick to see; without the option they are refused
  t = await startTestServer({ cronSeconds: true });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const EVERY_SECOND = "* * * * * *";

describe("crons", () => {
  it("a thread cron fires runs on schedule that complete, and stops when deleted", async () => {
    const thread = await t.client.threads.create();
    const asked = Date.now();
    const cron = await t.client.crons.createForThread(thread.thread_id, "trivial", {
      schedule: EVERY_SECOND,
      input: { value: 1 },
      multitaskStrategy: "enqueue",
      metadata: { purpose: "test" },
    });
    expect(cron).toMatchObject({ thread_id: thread.thread_id, schedule: EVERY_SECOND, enabled: true });
    expect(Date.parse(cron.next_run_date)).toBeGreaterThanOrEqual(asked); // the second after its creation

    const finished = await eventually(
      async () => {
        const runs = await t.client.runs.list(thread.thread_id);
        const done = runs.filter((r) => r.status === "success");
        return done.length >= 2 ? done : undefined;
      },
      8_000,
      "two successful cron runs",
    );
    expect(finished[0].metadata).toMatchObject({ cron_id: cron.cron_id, purpose: "test" });
    expect((await t.client.threads.getState(thread.thread_id)).values).toEqual({ value: 4 });

    // a probe cron shows the scheduler keeps firing after the deletion
    const probeThread = await t.client.threads.create();
    const probe = await t.client.crons.createForThread(probeThread.thread_id, "trivial", {
      schedule: EVERY_SECOND,
      input: { value: 1 },
      multitaskStrategy: "enqueue",
    });
    const probeRuns = async () => (await t.client.runs.list(probeThread.thread_id, { limit: 100 })).length;
    await eventually(async () => ((await probeRuns()) >= 1 ? true : undefined), 8_000, "the probe cron to fire");
    await t.client.crons.delete(cron.cron_id);
    const probeSeen = await probeRuns();
    // a pass under way at the deletion may still start one run; the next pass cannot
    await eventually(async () => ((await probeRuns()) > probeSeen ? true : undefined), 8_000, "a probe firing");
    const settled = (await t.client.runs.list(thread.thread_id, { limit: 100 })).length;
    const probeLater = await probeRuns();
    await eventually(async () => ((await probeRuns()) > probeLater ? true : undefined), 8_000, "a later probe firing");
    expect((await t.client.runs.list(thread.thread_id, { limit: 100 })).length).toBe(settled);
    await t.client.crons.delete(probe.cron_id);
  });

  it("a stateless cron runs on new threads, deleted or kept as asked", async () => {
    const keeper = await t.client.assistants.create({ graphId: "trivial", name: "keeper" });
    const kept = await t.client.crons.create(keeper.assistant_id, {
      schedule: EVERY_SECOND,
      input: { value: 10 },
      onRunCompleted: "keep",
    });
    expect(kept.thread_id).toBeNull();
    const thread = await eventually(
      async () => {
        const threads = await t.client.threads.search({ metadata: { assistant_id: keeper.assistant_id } });
        for (const candidate of threads) {
          const runs = await t.client.runs.list(candidate.thread_id);
          if (runs.some((r) => r.status === "success")) return candidate;
        }
        return undefined;
      },
      8_000,
      "a kept cron thread with a finished run",
    );
    expect((await t.client.threads.getState(thread.thread_id)).values).toEqual({ value: 13 });
    await t.client.crons.delete(kept.cron_id);

    // by default each firing's thread goes once its run is done: the run's webhook proves it ran
    const receiver = await webhookReceiver();
    try {
      const deleter = await t.client.assistants.create({ graphId: "trivial", name: "deleter" });
      const deleting = await t.client.crons.create(deleter.assistant_id, {
        schedule: EVERY_SECOND,
        input: { value: 1 },
        webhook: receiver.url,
      });
      const finished = (await receiver.next(8_000)) as { run_id: string; thread_id: string; status: string; values: unknown; metadata: unknown };
      expect(finished).toMatchObject({ status: "success", values: { value: 4 }, assistant_id: deleter.assistant_id });
      expect(finished.metadata).toMatchObject({ cron_id: deleting.cron_id });
      await t.client.crons.delete(deleting.cron_id);
      await eventually(
        async () =>
          await t.client.threads.get(finished.thread_id).then(
            () => undefined,
            (e: { status?: number }) => e.status,
          ),
        8_000,
        "the firing's thread to be deleted",
      ).then((status) => expect(status).toBe(404));
      // every firing's thread went: the receiver got each of their runs, none left a thread behind
      await eventually(
        async () => {
          const left = await t.client.threads.search({ metadata: { assistant_id: deleter.assistant_id } });
          return left.length === 0 ? true : undefined;
        },
        8_000,
        "no thread of the deleting cron to remain",
      );
    } finally {
      await receiver.close();
    }
  });

  it("searches, counts and updates crons", async () => {
    const thread = await t.client.threads.create();
    const tag = crypto.randomUUID();
    const daily = await t.client.crons.createForThread(thread.thread_id, "agent", {
      schedule: "0 9 * * *",
      timezone: "Europe/Paris",
      metadata: { tag },
    });
    const hourly = await t.client.crons.create("agent", { schedule: "0 * * * *", metadata: { tag }, enabled: false });

    expect(await t.client.crons.count({ metadata: { tag } })).toBe(2);
    expect(await t.client.crons.count({ threadId: thread.thread_id })).toBe(1);
    const enabled = await t.client.crons.search({ metadata: { tag }, enabled: true });
    expect(enabled.map((c) => c.cron_id)).toEqual([daily.cron_id]);
    const sorted = await t.client.crons.search({ metadata: { tag }, sortBy: "created_at", sortOrder: "asc" });
    expect(sorted.map((c) => c.cron_id)).toEqual([daily.cron_id, hourly.cron_id]);
    const picked = await t.client.crons.search({ metadata: { tag }, select: ["cron_id", "now"], limit: 1 });
    expect(Object.keys(picked[0]).sort()).toEqual(["cron_id", "now"]);

    const nine = new Date(daily.next_run_date);
    expect(nine.toLocaleString("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" })).toBe("09:00");

    const updated = await t.client.crons.update(daily.cron_id, { schedule: "30 18 * * *", enabled: false, input: { x: 1 } });
    expect(updated).toMatchObject({ schedule: "30 18 * * *", enabled: false, payload: { input: { x: 1 } } });
    const evening = new Date(updated.next_run_date!);
    expect(evening.toLocaleString("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" })).toBe("18:30");
  });

  it("rejects bad schedules, time zones and unknown threads or assistants", async () => {
    const thread = await t.client.threads.create();
    await expect(t.client.crons.createForThread(thread.thread_id, "agent", { schedule: "every day" })).rejects.toMatchObject({ status: 422 });
    await expect(t.client.crons.create("agent", { schedule: "* * * * *", timezone: "Mars/Olympus" })).rejects.toMatchObject({ status: 422 });
    await expect(t.client.crons.createForThread(crypto.randomUUID(), "agent", { schedule: "* * * * *" })).rejects.toMatchObject({ status: 404 });
    await expect(t.client.crons.create(crypto.randomUUID(), { schedule: "* * * * *" })).rejects.toMatchObject({ status: 404 });
    await expect(
      t.client.crons.createForThread(thread.thread_id, "agent", { schedule: "* * * * *", onRunCompleted: "delete" }),
    ).rejects.toMatchObject({ status: 422 });
  });

  it("checks a cron's run fields as a run's: the same 422s, and no end time in the past", async () => {
    const thread = await t.client.threads.create();
    const post = (url: string, body: unknown, method = "POST") =>
      fetch(`${t.url}${url}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const base = { assistant_id: "trivial", schedule: "0 0 1 1 *" };
    for (const [extra, detail] of [
      [{ webhook: "file:///etc/passwd" }, "body.webhook: only http and https webhooks are supported, got 'file:'"],
      [{ webhook: "ftp://example.com/x" }, "body.webhook: only http and https webhooks are supported, got 'ftp:'"],
      [
        { durability: "sync", checkpoint_during: false },
        "body.checkpoint_during: checkpoint_during=false means durability 'exit', which contradicts durability 'sync'; give only durability",
      ],
      [{ end_time: "2001-01-01T00:00:00Z" }, "body.end_time: 2001-01-01T00:00:00Z is in the past; the cron would never fire"],
    ] as const) {
      for (const url of ["/runs/crons", `/threads/${thread.thread_id}/runs/crons`]) {
        const res = await post(url, { ...base, ...extra });
        expect(res.status, `${url} ${JSON.stringify(extra)}`).toBe(422);
        expect((await json(res)).detail).toBe(detail);
      }
    }
    const cron = await t.client.crons.create("trivial", { schedule: "0 0 1 1 *", webhook: "/custom/webhook" });
    for (const [extra, detail] of [
      [{ webhook: "file:///etc/passwd" }, /got 'file:'/],
      [{ end_time: "2001-01-01T00:00:00Z" }, /in the past/],
    ] as const) {
      const res = await post(`/runs/crons/${cron.cron_id}`, extra, "PATCH");
      expect(res.status).toBe(422);
      expect((await json(res)).detail).toMatch(detail);
    }
    const later = new Date(Date.now() + 86_400_000).toISOString();
    expect(Date.parse((await t.client.crons.update(cron.cron_id, { endTime: later })).end_time!)).toBe(Date.parse(later));
    await t.client.crons.delete(cron.cron_id);
    expect(await t.client.crons.search({ threadId: thread.thread_id })).toEqual([]);
  });

  it("deletes a thread's crons with the thread", async () => {
    const thread = await t.client.threads.create();
    const cron = await t.client.crons.createForThread(thread.thread_id, "agent", { schedule: "0 0 1 1 *" });
    await t.client.threads.delete(thread.thread_id);
    expect(await t.client.crons.search({ threadId: thread.thread_id })).toEqual([]);
    await expect(t.client.crons.delete(cron.cron_id)).rejects.toMatchObject({ status: 404 });
  });

  it("keeps crons across a restart and fires them afterwards", async () => {
    const thread = await t.client.threads.create();
    const cron = await t.client.crons.createForThread(thread.thread_id, "trivial", {
      schedule: "*/2 * * * * *",
      input: { value: 0 },
      multitaskStrategy: "enqueue",
    });
    t = await t.restart();
    const [stored] = await t.client.crons.search({ threadId: thread.thread_id });
    expect(stored?.cron_id).toBe(cron.cron_id);
    await eventually(
      async () => {
        const runs = await t.client.runs.list(thread.thread_id);
        return runs.some((r) => r.status === "success") ? true : undefined;
      },
      8_000,
      "a run after the restart",
    );
    await t.client.crons.delete(cron.cron_id);
  });
});

describe("schedules as LangGraph Platform takes them (no --cron-seconds)", () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer();
  });
  afterAll(() => plain.dispose());

  it("takes 5-field schedules and nicknames, and refuses a seconds field with a clear 422", async () => {
    const daily = await plain.client.crons.create("trivial", { schedule: "@daily" });
    expect(daily.schedule).toBe("@daily");
    const refused = await fetch(`${plain.url}/runs/crons`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "trivial", schedule: "*/2 * * * * *" }),
    });
    expect(refused.status).toBe(422);
    expect((await json(refused)).detail).toBe(
      "body.schedule: '*/2 * * * * *' has 6 field(s); give the 5 fields of a cron expression (minute hour day-of-month month day-of-week), " +
        "as LangGraph Platform takes them (6 fields with seconds need the server option --cron-seconds)",
    );
    await expect(plain.client.crons.update(daily.cron_id, { schedule: "0 * * * * *" })).rejects.toMatchObject({ status: 422 });
    await plain.client.crons.delete(daily.cron_id);
  });
});
