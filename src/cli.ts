import path from "node:path";
import { pino, type Logger } from "pino";
import { USAGE, UsageError, parseServerOptions, type ServerOptions } from "./config.js";
import { RELOAD_MESSAGE, RELOADED_ENV, superviseWithReload } from "./dev-reload.js";
import type { RunningServer } from "./server.js";
import { releaseMemory } from "./release-memory.js";

/**
 * Human-readable lines in a terminal, JSON lines (for log collectors) otherwise. The JSON lines
 * are written asynchronously: pino's default is one blocking write(2) per line, i.e. per request
 * (bench:http, GET /threads/{id}: about 9% of the server's CPU per request); pino flushes what is
 * buffered when the process exits. pino-pretty is loaded only for a terminal.
 */
async function createLogger(): Promise<Logger> {
  if (!process.stdout.isTTY) return pino({ name: "lgts" }, pino.destination({ sync: false }));
  const { default: pretty } = await import("pino-pretty");
  return pino({ name: "lgts" }, pretty({ colorize: true, ignore: "pid,hostname" }));
}

/** What `lgts dev` prints once it listens: where the API is and how to point a UI at it. */
function devBanner(server: RunningServer, options: ServerOptions): string {
  const graphs = server.services.graphs.graphIds;
  return [
    "",
    `  lgts dev: ${graphs.length} graph(s) from ${path.relative(process.cwd(), options.configPath) || options.configPath}`,
    `  - API:    ${server.url}`,
    `  - Docs:   ${server.url}/docs`,
    ...(options.console === false ? [] : [`  - Console: ${server.url}/console`]),
    `  - Graphs: ${graphs.join(", ")}`,
    "",
    `  Point a UI at it: useStream({ apiUrl: "${server.url}", assistantId: "${graphs[0] ?? "<graph id>"}" }),`,
    `  or enter ${server.url} as the deployment URL of Agent Chat UI or LangGraph Studio.`,
    `  ${options.reload || process.env[RELOADED_ENV] ? "Reloads when the project's files change; threads are kept." : "Reload is off (--no-reload)."}`,
    "",
  ].join("\n");
}

/** Commands that move data (src/data-commands.ts, loaded only for them: a server never needs it). */
const DATA_COMMANDS = new Set(["export", "import", "migrate", "backup"]);

/** export, import, migrate, backup: one line per failure, exit code 1 (2 for a usage error). */
async function dataCommand(command: string, argv: string[]): Promise<never> {
  const { DATA_USAGE, runDataCommand } = await import("./data-commands.js");
  try {
    process.exit(await runDataCommand(command, argv, process.env, (line) => console.log(line)));
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(error as Error).message}\n\n${DATA_USAGE}`);
      process.exit(2);
    }
    console.error(`lgts ${command}: ${(error as Error).message}`);
    process.exit(1);
  }
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== undefined && DATA_COMMANDS.has(command)) await dataCommand(command, rest);
  let options;
  try {
    options = parseServerOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  if (options.reload) {
    superviseWithReload({
      watchDir: path.dirname(options.configPath),
      dataDir: options.dataDir,
      entry: process.argv[1],
      args: process.argv.slice(2),
    });
    return;
  }
  // loaded only to serve: `lgts dev`'s reloader (above) runs the server in a child process
  const { startServer, StartupError } = await import("./server.js");
  try {
    const server = await startServer({ ...options, logger: await createLogger(), releaseIdleMemory: true });
    await releaseMemory();
    if (options.mode === "dev") {
      console.log(process.env[RELOADED_ENV] ? `lgts dev: reloaded, serving ${server.url}` : devBanner(server, options));
    }
    // A graph can leave a promise rejected with nobody listening (a stray async call in a node).
    // That is the graph's bug: log it rather than let Node end the process and every other run.
    process.on("unhandledRejection", (reason) => {
      server.logger.error({ err: reason }, "unhandled promise rejection (a graph's stray async work?)");
    });
    let stopping = false;
    const stop = (reason: string, graceMs?: number) => {
      if (stopping) return;
      stopping = true;
      server.logger.info({ reason }, "shutting down");
      server.close(graceMs).then(
        () => process.exit(0),
        (error: unknown) => {
          server.logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
    // run by `lgts dev`'s reloader: a reload stops at once (cut runs resume in the next server)
    process.on("message", (message) => {
      if (message === RELOAD_MESSAGE) stop("reload", 0);
    });
    process.once("disconnect", () => stop("the reloader is gone"));
  } catch (error) {
    if (error instanceof StartupError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

await main();
