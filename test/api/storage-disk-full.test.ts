/**
 * The embedded store on a disk that fails (full) while a run ends: clients get 503 with a
 * `{"detail"}` instead of a hang or an end that was never stored, the server keeps serving, and
 * once the disk recovers the run's end is there. Faults are injected into node's file calls of
 * durable writes (the `FileIO` seam, `nodeFileIO`): from the first write whose text matches, every
 * write fails with ENOSPC and writes nothing, until the disk is healed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { nodeFileIO } from "../../src/storage/lowdb/durable-file.js";
import { RUNS_CONFIG } from "../support/runs.js";
import { json, startTestServer, type TestServer } from "../support/server.js";

const disk = { full: false, fullFrom: null as string | null };
const nodeOpen = nodeFileIO.open;

beforeAll(() => {
  nodeFileIO.open = async (file, flags) => {
    const fh = await nodeOpen(file, flags);
    if (flags === "r") return fh;
    const written = (text: string) => {
      if (disk.fullFrom !== null && text.includes(disk.fullFrom)) disk.full = true;
      if (disk.full) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    return {
      writeFile: async (text, encoding) => {
        written(String(text));
        return fh.writeFile(text, encoding);
      },
      // the commit log's lines, and the zeros of its files prepared ahead
      write: async (buffer, offset, length, position) => {
        written(buffer.toString("utf8", offset, offset + length));
        return fh.write(buffer, offset, length, position);
      },
      sync: () => fh.sync(),
      datasync: () => fh.datasync(),
      close: () => fh.close(),
    };
  };
});
afterAll(() => {
  nodeFileIO.open = nodeOpen;
});
const heal = () => {
  disk.full = false;
  disk.fullFrom = null;
};
afterEach(heal);

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: RUNS_CONFIG });
});
afterAll(async () => {
  await t?.dispose();
});

/**
 * A run of a graph that yields to the event loop: its creation is durable before its end is
 * written. (A graph that never yields, like `trivial`, completes before its creation's flush
 * starts: its creation and its end are one write, and a failure of that write fails the request.)
 */
const SLOW = { assistant_id: "slow", input: { steps: 1, delay_ms: 200 } };
const SLOW_RESULT = { steps: 1, delay_ms: 200, completed: 1, log: ["step 1"] };

const post = (path: string, body: unknown) =>
  fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe.runIf(process.env.LGTS_TEST_STORAGE !== "postgres")("a disk that fails as a run ends (embedded store)", () => {
  it("answers wait and join with 503, keeps serving, and has the runs' ends once the disk recovers", async () => {
    const thread = await t.client.threads.create();
    disk.fullFrom = '"status":"success"';
    const wait = await post(`/threads/${thread.thread_id}/runs/wait`, SLOW);
    expect(wait.status).toBe(503);
    expect((await json(wait)).detail).toMatch(/the run's end could not be stored/);
    // the process is up; storage says it is not
    expect((await fetch(`${t.url}/ok`)).status).toBe(200);
    const health = await fetch(`${t.url}/ok?check_db=1`);
    expect(health.status).toBe(503);
    expect(await json(health)).toEqual({ detail: expect.any(String) });
    heal();

    const other = await t.client.threads.create();
    disk.fullFrom = '"status":"success"';
    const run = await t.client.runs.create(other.thread_id, "trivial", { input: { value: 2 } });
    const join = await fetch(`${t.url}/threads/${other.thread_id}/runs/${run.run_id}/join`);
    expect(join.status).toBe(503);
    expect(await json(join)).toEqual({ detail: expect.stringMatching(/could not be stored|write to the commit log failed/) });
    // what memory holds but the disk does not is not reported
    expect((await fetch(`${t.url}/threads/${other.thread_id}/runs/${run.run_id}`)).status).toBe(503);

    heal();
    expect(await t.client.runs.join(other.thread_id, run.run_id)).toEqual({ value: 5 });
    expect(await t.client.runs.get(other.thread_id, run.run_id)).toMatchObject({ status: "success" });
    const [first] = await t.client.runs.list(thread.thread_id);
    expect(await t.client.runs.join(thread.thread_id, first.run_id)).toEqual(SLOW_RESULT);
    expect(await t.client.threads.get(thread.thread_id)).toMatchObject({ status: "idle", values: SLOW_RESULT });

    // nothing acknowledged was lost, and the ends are on disk: a restart finds them ended
    t = await t.restart();
    expect(await t.client.runs.get(thread.thread_id, first.run_id)).toMatchObject({ status: "success" });
    expect(await t.client.runs.get(other.thread_id, run.run_id)).toMatchObject({ status: "success" });
  });

  it("answers 503 when the one write of a run's creation and its end fails", async () => {
    const thread = await t.client.threads.create();
    disk.fullFrom = '"status":"success"';
    const wait = await post(`/threads/${thread.thread_id}/runs/wait`, { assistant_id: "trivial", input: { value: 1 } });
    expect(wait.status).toBe(503);
    expect(await json(wait)).toEqual({ detail: expect.any(String) });
    heal();
    // nothing was acknowledged; the write is retried once the disk takes it
    const [run] = await t.client.runs.list(thread.thread_id);
    expect(await t.client.runs.join(thread.thread_id, run.run_id)).toEqual({ value: 4 });
  });

  it("ends a run's stream with an error event, not as if the run had ended", async () => {
    const thread = await t.client.threads.create();
    disk.fullFrom = '"status":"success"';
    const stream = await post(`/threads/${thread.thread_id}/runs/stream`, { ...SLOW, stream_mode: ["values"] });
    expect(stream.status).toBe(200);
    const text = await stream.text();
    const events = [...text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe("metadata");
    expect(events.at(-1)).toBe("error");
    expect(text).toContain('"error":"StorageUnavailableError"');
  });
});
