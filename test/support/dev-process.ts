import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "./free-port.js";
import { REPO_ROOT } from "./server.js";

export interface DevProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Every line the process wrote (stdout and stderr), in order. */
  lines: string[];
  /** Resolves with the first line matching `pattern` (one already written included). */
  waitFor(pattern: RegExp, deadlineMs?: number): Promise<string>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** `lgts dev` in a child process on a free port, run as a developer runs it: from the project's folder. */
export async function startDev(options: { configPath: string; dataDir: string; args?: string[]; env?: Record<string, string> }): Promise<DevProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, "bin/lgts.js"),
      "dev",
      "--config",
      options.configPath,
      "--port",
      String(port),
      "--data-dir",
      options.dataDir,
      ...(options.args ?? []),
    ],
    { cwd: path.dirname(options.configPath), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } },
  );
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const onLine = (line: string) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout }).on("line", onLine);
  createInterface({ input: child.stderr }).on("line", onLine);
  const waitFor = (pattern: RegExp, deadlineMs = 60_000) => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${deadlineMs} ms:\n${lines.join("\n")}`)), deadlineMs);
      waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  };
  return { child, port, url: `http://127.0.0.1:${port}`, lines, waitFor, stop };
}
