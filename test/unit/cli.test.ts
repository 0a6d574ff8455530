import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseServerOptions, UsageError } from "../../src/config.js";
import { EXAMPLES_CONFIG, REPO_ROOT } from "../support/server.js";

const run = promisify(execFile);

describe("lgts options", () => {
  it("takes flags over environment over defaults", () => {
    const defaults = parseServerOptions([], {});
    expect(defaults).toMatchObject({ mode: "serve", port: 2024, host: "127.0.0.1" });
    expect((defaults as { dataDir: string }).dataDir).toBe(path.resolve(".lgts"));

    const env = { PORT: "3000", HOST: "0.0.0.0", LGTS_CONFIG: "a.json", LGTS_DATA_DIR: "/data" };
    expect(parseServerOptions(["dev"], env)).toMatchObject({
      mode: "dev",
      port: 3000,
      host: "0.0.0.0",
      configPath: path.resolve("a.json"),
      dataDir: "/data",
    });
    expect(parseServerOptions(["serve", "--port", "4000", "--data-dir", "/x"], env)).toMatchObject({
      port: 4000,
      dataDir: "/x",
    });
  });

  it("reloads in dev unless --no-reload, which serve refuses", () => {
    expect(parseServerOptions(["dev"], {})).toMatchObject({ mode: "dev", reload: true });
    expect(parseServerOptions(["dev", "--no-reload"], {})).toMatchObject({ mode: "dev", reload: false });
    expect(parseServerOptions(["serve"], {})).toMatchObject({ reload: false });
    expect(() => parseServerOptions(["serve", "--no-reload"], {})).toThrow(/--no-reload applies to lgts dev only/);
  });

  it("accepts 6-field cron schedules only with --cron-seconds or LGTS_CRON_SECONDS=1", () => {
    expect(parseServerOptions([], {})).not.toHaveProperty("cronSeconds");
    expect(parseServerOptions(["--cron-seconds"], {})).toMatchObject({ cronSeconds: true });
    expect(parseServerOptions([], { LGTS_CRON_SECONDS: "1" })).toMatchObject({ cronSeconds: true });
    expect(parseServerOptions([], { LGTS_CRON_SECONDS: "0" })).not.toHaveProperty("cronSeconds");
    expect(() => parseServerOptions([], { LGTS_CRON_SECONDS: "yes" })).toThrow("Invalid LGTS_CRON_SECONDS 'yes' (1 or 0)");
  });

  it("serves the console unless --no-console or LGTS_CONSOLE=0", () => {
    expect(parseServerOptions([], {})).not.toHaveProperty("console");
    expect(parseServerOptions([], { LGTS_CONSOLE: "" })).not.toHaveProperty("console");
    expect(parseServerOptions([], { LGTS_CONSOLE: "1" })).not.toHaveProperty("console");
    expect(parseServerOptions(["--no-console"], {})).toMatchObject({ console: false });
    expect(parseServerOptions(["dev", "--no-console"], {})).toMatchObject({ console: false });
    expect(parseServerOptions([], { LGTS_CONSOLE: "0" })).toMatchObject({ console: false });
    expect(parseServerOptions([], { LGTS_CONSOLE: "false" })).toMatchObject({ console: false });
    expect(() => parseServerOptions([], { LGTS_CONSOLE: "off" })).toThrow("Invalid LGTS_CONSOLE 'off' (1 or 0)");
  });

  it("rejects bad input with a usage error", () => {
    expect(() => parseServerOptions(["launch"], {})).toThrow(UsageError);
    expect(() => parseServerOptions(["--port", "http"], {})).toThrow(/Invalid port/);
    expect(() => parseServerOptions([], { PORT: "70000" })).toThrow(/Invalid port/);
  });

  it("explains a busy port in one line", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const failure = await run(
        "node",
        [
          path.join(REPO_ROOT, "bin/lgts.js"),
          "serve",
          "--config",
          EXAMPLES_CONFIG,
          "--port",
          String(port),
          "--data-dir",
          path.join(REPO_ROOT, ".tmp/cli-test"),
        ],
        { cwd: REPO_ROOT },
      ).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr.trim()).toBe(`Port ${port} on 127.0.0.1 is already in use: choose another with --port <n> or PORT=<n>.`);
    } finally {
      blocker.close();
    }
  });

  it("explains in one line a data directory written by a newer release", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "lgts-cli-newer-"));
    try {
      await writeFile(path.join(dataDir, "format.json"), JSON.stringify({ format: 99 }));
      const failure = await run(
        "node",
        [path.join(REPO_ROOT, "bin/lgts.js"), "serve", "--config", EXAMPLES_CONFIG, "--port", "0", "--data-dir", dataDir],
        {
          cwd: REPO_ROOT,
        },
      ).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(/^Cannot open the data directory .*written by a newer release of lgts/),
      ]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
