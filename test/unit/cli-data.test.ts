/**
 * The data commands' edges: usage errors, the progress bar on a terminal only, and the commands
 * that write an embedded data directory refusing while a server runs on it (export goes through
 * the server instead).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../src/config.js";
import { runDataCommand } from "../../src/data-commands.js";
import { progressBar } from "../../src/progress-bar.js";
import { startTestServer, type TestServer } from "../support/server.js";

const quiet = () => undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("lgts data commands", () => {
  it("refuses bad usage with a usage error", async () => {
    await expect(runDataCommand("import", [], {}, quiet)).rejects.toThrow(UsageError);
    await expect(runDataCommand("backup", [], {}, quiet)).rejects.toThrow(/needs the directory/);
    await expect(runDataCommand("migrate", ["--data-dir", "/tmp/x"], {}, quiet)).rejects.toThrow(/needs --to postgres:\/\//);
    await expect(runDataCommand("export", ["--to", "x"], {}, quiet)).rejects.toThrow(/--to applies to lgts migrate only/);
    await expect(runDataCommand("export", ["--overwrite"], {}, quiet)).rejects.toThrow(/--overwrite does not apply/);
    await expect(runDataCommand("migrate", ["--data-dir", "/tmp/x", "--to", "/tmp/x"], {}, quiet)).rejects.toThrow(/names the source itself/);
    await expect(runDataCommand("migrate", ["--to", "postgres://h/db", "--sample", "many"], {}, quiet)).rejects.toThrow(/Invalid --sample/);
    await expect(runDataCommand("export", ["--database-uri", "mysql://h/db"], {}, quiet)).rejects.toThrow(/expected postgres:\/\//);
    await expect(runDataCommand("export", ["--data-dir", "/nonexistent/lgts"], {}, quiet)).rejects.toThrow(/there is no data directory/);
  });

  it("draws a progress bar on a terminal only", () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const bar = progressBar("exporting", tty)!;
    bar("thread", 500, 1000);
    bar("thread", 1000, 1000);
    expect(written.join("")).toContain("exporting thread");
    expect(written.at(-1)).toMatch(/\[#{30}\] 1,000\/1,000\x1b\[K\n$/);
    expect(progressBar("exporting", { isTTY: false } as NodeJS.WriteStream)).toBeUndefined();
  });

  it("does not write a data directory a server runs on, and exports it through the server", async () => {
    const t: TestServer = await startTestServer();
    cleanups.push(() => t.dispose());
    await t.client.threads.create({ metadata: { here: true } });
    const dir = await mkdtemp(path.join(tmpdir(), "lgts-cli-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, "a.jsonl");
    const lines: string[] = [];
    expect(await runDataCommand("export", [file, "--data-dir", t.dataDir], {}, (l) => lines.push(l))).toBe(0);
    expect(lines.join("\n")).toMatch(/thread +1/);
    await expect(runDataCommand("import", [file, "--data-dir", t.dataDir, "--overwrite"], {}, quiet)).rejects.toThrow(
      /a server is running on .*: stop it first/,
    );
    await expect(runDataCommand("migrate", ["--data-dir", t.dataDir, "--to", path.join(dir, "copy")], {}, quiet)).rejects.toThrow(
      /a server is running/,
    );
    // once it stopped, the directory is read directly
    await t.stop();
    expect(await runDataCommand("migrate", ["--data-dir", t.dataDir, "--to", path.join(dir, "copy")], {}, quiet)).toBe(0);
  });
});
