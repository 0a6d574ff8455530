/**
 * `lgts dev` hot reload: this process watches the graph project's folder and runs the server in a
 * child process (`lgts dev --no-reload`), replaced by a fresh one when a file changes. Threads,
 * runs and everything else live in the data directory, so a reload loses nothing: runs cut by it
 * continue in the next server from their last checkpoint. A server that fails to start (a syntax
 * error being fixed) is reported, and the next change tries again.
 *
 * The child is its own process group, so a terminal's Ctrl-C reaches this process only, which
 * passes it on once; an IPC channel carries reload requests and ends the child if this process
 * dies.
 */
import { fork, type ChildProcess } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";

export interface ReloadOptions {
  /** The project folder to watch (langgraph.json's). */
  watchDir: string;
  /** The data directory, never watched (the server writes there). */
  dataDir: string;
  /** The CLI entry and its arguments, to run the child with (`--no-reload` is added). */
  entry: string;
  args: string[];
}

/** The message that asks the child to stop quickly for a reload. */
export const RELOAD_MESSAGE = "lgts:reload";
/** Set for a child that replaces a previous one (it prints a short line instead of the banner). */
export const RELOADED_ENV = "LGTS_DEV_RELOADED";

const IGNORED_PARTS = new Set(["node_modules", ".git", "dist", "build", "coverage"]);
const DEBOUNCE_MS = 150;

/** Whether a change under `watchDir` (`relative` to it) leaves the server as it is. */
function ignored(watchDir: string, relative: string, dataDir: string): boolean {
  const changed = path.resolve(watchDir, relative);
  if (changed === dataDir || changed.startsWith(dataDir + path.sep)) return true;
  // hidden files and folders are not the project's code, except .env files
  return relative.split(path.sep).some((part) => IGNORED_PARTS.has(part) || (part.startsWith(".") && !part.startsWith(".env")));
}

export function superviseWithReload(options: ReloadOptions): void {
  let child: ChildProcess | null = null;
  let generation = 0;
  let reloadPending = false;
  let stopping: NodeJS.Signals | null = null;
  let debounce: NodeJS.Timeout | null = null;

  const start = () => {
    child = fork(options.entry, [...options.args, "--no-reload"], {
      detached: true,
      stdio: ["inherit", "inherit", "inherit", "ipc"],
      env: { ...process.env, ...(generation > 0 ? { [RELOADED_ENV]: String(generation) } : {}) },
    });
    generation++;
    child.once("exit", (code, signal) => {
      child = null;
      if (stopping) {
        watcher.close();
        process.exit(code ?? (signal ? 1 : 0));
      }
      if (reloadPending) {
        reloadPending = false;
        start();
      } else if (code !== 0) {
        console.error(`lgts dev: the server stopped (${signal ?? `exit code ${code}`}); it starts again when a file changes`);
      }
    });
  };

  const reload = (changed: string) => {
    console.log(`lgts dev: ${changed} changed, reloading`);
    if (!child) {
      start();
      return;
    }
    reloadPending = true;
    child.send(RELOAD_MESSAGE);
  };

  const watcher: FSWatcher = watch(options.watchDir, { recursive: true }, (_event, file) => {
    if (!file || ignored(options.watchDir, file.toString(), options.dataDir)) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => reload(file.toString()), DEBOUNCE_MS);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = signal;
    if (debounce) clearTimeout(debounce);
    if (child) child.kill(signal);
    else {
      watcher.close();
      process.exit(0);
    }
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  start();
}
