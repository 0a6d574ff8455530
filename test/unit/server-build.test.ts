import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server.js";

const run = promisify(execFile);

/** A package laid out as this one (bin/server-build.js, src/cli.ts), whose server prints a word. */
describe("the server's build (bin/server-build.js)", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "lgts-build-"));
    await mkdir(path.join(root, "src"));
    await cp(path.join(REPO_ROOT, "bin/server-build.js"), path.join(root, "bin/server-build.js"));
    await symlink(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
    await writeFile(path.join(root, "src/cli.ts"), 'import { word } from "./word.js";\nconsole.log(word satisfies string);\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const write = (word: string) => writeFile(path.join(root, "src/word.ts"), `export const word: string = ${JSON.stringify(word)};\n`);
  const entry = async () => (await run(process.execPath, [path.join(root, "bin/server-build.js")])).stdout.trim();
  const output = async (url: string) => (await run(process.execPath, [fileURLToPath(url)])).stdout.trim();

  it("runs what src/ holds now: a changed module, even of the same size, is built again", async () => {
    await write("one");
    const first = await entry();
    expect(await output(first)).toBe("one");
    expect(await entry()).toBe(first); // unchanged: the same build

    await write("two");
    const second = await entry();
    expect(second).not.toBe(first);
    expect(await output(second)).toBe("two");
  }, 60_000);

  it("refuses to run sources that do not build, naming the error", async () => {
    await writeFile(path.join(root, "src/word.ts"), "export const word: string = ;\n");
    await expect(entry()).rejects.toThrow(/src\/word\.ts:1:\d+: ERROR/);
    await write("three");
    expect(await output(await entry())).toBe("three");
  }, 60_000);
});
