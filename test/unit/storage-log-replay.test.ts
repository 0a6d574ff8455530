/** Reading the lowdb commit logs back at startup: which files are logs, in which order, and torn or corrupt lines. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { logGenerations, replayLogs, type LogEntry } from "../../src/storage/lowdb/commit-log.js";
import { tempDirPerTest } from "./storage-helpers.js";

const temp = tempDirPerTest();

const log = (generation: number) => `log-${String(generation).padStart(8, "0")}.ndjson`;
const line = (entry: LogEntry) => `${JSON.stringify(entry)}\n`;

describe("commit log replay", () => {
  it("finds only the log files, oldest generation first, and none in a missing directory", async () => {
    for (const name of [log(10), log(2), log(9), "x" + log(5), log(6) + ".tmp", "log-abc.ndjson", "meta.json"]) {
      await writeFile(path.join(temp.path, name), "");
    }
    expect(await logGenerations(temp.path)).toEqual([2, 9, 10]);
    expect(await logGenerations(path.join(temp.path, "missing"))).toEqual([]);
    await writeFile(path.join(temp.path, "file"), "");
    await expect(logGenerations(path.join(temp.path, "file"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("applies every entry of every log in order, so the newest write of a record wins", async () => {
    await writeFile(path.join(temp.path, log(12)), line({ c: "threads", r: { id: "a", v: 3 } }) + line({ c: "threads", d: "b" }));
    await writeFile(path.join(temp.path, log(3)), line({ c: "threads", r: { id: "a", v: 1 } }) + "\n" + line({ c: "threads", r: { id: "b", v: 1 } }));
    await writeFile(path.join(temp.path, log(7)), line({ c: "threads", r: { id: "a", v: 2 } }));
    const applied: LogEntry[] = [];
    expect(await replayLogs(temp.path, (entry) => applied.push(entry))).toEqual([3, 7, 12]);
    expect(applied).toEqual([
      { c: "threads", r: { id: "a", v: 1 } },
      { c: "threads", r: { id: "b", v: 1 } },
      { c: "threads", r: { id: "a", v: 2 } },
      { c: "threads", r: { id: "a", v: 3 } },
      { c: "threads", d: "b" },
    ]);
  });

  it("ignores a torn last line (never acknowledged) but refuses a corrupt line before it", async () => {
    await writeFile(path.join(temp.path, log(1)), line({ c: "runs", r: { id: "a" } }) + '{"c":"runs","r":{"id"');
    const applied: LogEntry[] = [];
    await replayLogs(temp.path, (entry) => applied.push(entry));
    expect(applied).toEqual([{ c: "runs", r: { id: "a" } }]);
    await mkdir(path.join(temp.path, "corrupt"));
    await writeFile(path.join(temp.path, "corrupt", log(1)), line({ c: "runs", r: { id: "a" } }) + "garbage\n" + line({ c: "runs", d: "a" }));
    await expect(replayLogs(path.join(temp.path, "corrupt"), () => {})).rejects.toThrow(
      new RegExp(`^corrupt commit log ${path.join(temp.path, "corrupt", log(1)).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} at line 2: `),
    );
  });

  it("reads a file up to its first NUL: the zeros of a file prepared ahead, and whatever a crash left past them, are not lines", async () => {
    const zeros = (n: number) => "\0".repeat(n);
    const entries = [1, 2, 3].map((v) => ({ c: "threads", r: { id: "a", v } }));
    // two lines, then the zeros: nothing else
    await writeFile(path.join(temp.path, log(1)), line(entries[0]) + line(entries[1]) + zeros(4096));
    // a torn line before the zeros (a crash mid-write), and past them the pages of a later write
    // that reached the disk before the ones between (never acknowledged: no fdatasync returned)
    await writeFile(
      path.join(temp.path, log(2)),
      line(entries[2]) + '{"c":"threads","r":{"id":"a"' + zeros(3000) + 'b","v":4}}\n' + line({ c: "threads", d: "a" }) + zeros(100),
    );
    // prepared, never written to
    await writeFile(path.join(temp.path, log(3)), zeros(8192));
    const applied: LogEntry[] = [];
    expect(await replayLogs(temp.path, (entry) => applied.push(entry))).toEqual([1, 2, 3]);
    expect(applied).toEqual(entries);
  });
});
