import { parseArgs } from "node:util";
import path from "node:path";
import type { RunEngineOptions } from "./runtime/runs/engine.js";

export interface ServerOptions {
  /** Path to langgraph.json. */
  configPath: string;
  port: number;
  host: string;
  /** Where the embedded store keeps its files (unused with `databaseUri`). */
  dataDir: string;
  /** PostgreSQL connection string; selects the PostgreSQL backend instead of the embedded store. */
  databaseUri?: string;
  /** `dev` checks every response against the contract and logs violations. */
  mode: "serve" | "dev";
  /** `dev` only: restart the server when files of the graph project change (default true). */
  reload: boolean;
  /** Run execution settings (defaults in src/runtime/runs/run-engine.ts). */
  runs?: RunEngineOptions;
  /** How often a long wait or join sends a newline while the run works (default 5000, the Platform's). */
  waitKeepAliveMs?: number;
  /** Accept 6-field cron schedules (leading seconds), which LangGraph Platform does not take. */
  cronSeconds?: boolean;
  /** Serve the web console at `/console` (default true). */
  console?: boolean;
}

export const USAGE = `Usage: lgts <serve|dev> [options]

  serve                 serve the graphs of a langgraph.json
  dev                   the same for development: reloads when the project's files change
                        (threads and runs are kept), checks every response against the API
                        contract, and has POST /internal/truncate to reset the data
  export, import, migrate, backup
                        move and back up the data: lgts export --help

Options (environment variable in brackets):
  --config <path>       langgraph.json to serve            [LGTS_CONFIG]  default ./langgraph.json
  --port <n>            port to listen on                   [PORT]         default 2024
  --host <addr>         address to bind                     [HOST]         default 127.0.0.1
  --data-dir <path>     where the embedded store lives      [LGTS_DATA_DIR] default ./.lgts
  --database-uri <uri>  store everything in PostgreSQL instead (postgres://user:pass@host:5432/db)
                                                            [DATABASE_URI]
  --run-concurrency <n> runs executing at once              [LGTS_RUN_CONCURRENCY] default 10
  --run-timeout <s>     time limit of a run, 0 = none       [LGTS_RUN_TIMEOUT] default 3600
  --shutdown-grace <s>  how long running runs may finish at shutdown [LGTS_SHUTDOWN_GRACE] default 30
  --run-lease <s>       PostgreSQL: a crashed process's runs resume after this [LGTS_RUN_LEASE] default 6
  --cron-seconds        accept 6-field cron schedules (seconds first), an extension:
                        LangGraph Platform takes 5 fields       [LGTS_CRON_SECONDS=1]
  --no-console          do not serve the web console at /console   [LGTS_CONSOLE=0]
  --no-reload           dev: do not reload when files change
  -h, --help            show this help`;

export class UsageError extends Error {}

/** Command line first, then environment, then the LangGraph defaults. */
export function parseServerOptions(argv: string[], env: NodeJS.ProcessEnv): ServerOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "database-uri": { type: "string" },
      "run-concurrency": { type: "string" },
      "run-timeout": { type: "string" },
      "shutdown-grace": { type: "string" },
      "run-lease": { type: "string" },
      "no-reload": { type: "boolean" },
      "cron-seconds": { type: "boolean" },
      "no-console": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [command = "serve", ...extra] = positionals;
  if (command !== "serve" && command !== "dev") throw new UsageError(`Unknown command '${command}'`);
  if (extra.length) throw new UsageError(`Unexpected argument '${extra[0]}'`);
  if (values["no-reload"] && command !== "dev") throw new UsageError("--no-reload applies to lgts dev only");
  const portText = values.port ?? env.PORT ?? "2024";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`Invalid port '${portText}'`);
  return {
    mode: command,
    reload: command === "dev" && !values["no-reload"],
    configPath: path.resolve(values.config ?? env.LGTS_CONFIG ?? "langgraph.json"),
    port,
    host: values.host ?? env.HOST ?? "127.0.0.1",
    dataDir: path.resolve(values["data-dir"] ?? env.LGTS_DATA_DIR ?? ".lgts"),
    ...databaseOption(values["database-uri"] ?? env.DATABASE_URI),
    runs: runOptions(values, env),
    ...(values["cron-seconds"] || flag("LGTS_CRON_SECONDS", env.LGTS_CRON_SECONDS) ? { cronSeconds: true } : {}),
    ...(values["no-console"] || consoleTurnedOff(env.LGTS_CONSOLE) ? { console: false } : {}),
  };
}

/** A boolean environment variable: 1/true or 0/false (unset: false). */
function flag(name: string, text: string | undefined): boolean {
  if (text === undefined || text === "" || text === "0" || text.toLowerCase() === "false") return false;
  if (text === "1" || text.toLowerCase() === "true") return true;
  throw new UsageError(`Invalid ${name} '${text}' (1 or 0)`);
}

/** `LGTS_CONSOLE=0` (or false) removes the console; unset or empty leaves it on. */
const consoleTurnedOff = (text: string | undefined) => text !== undefined && text !== "" && !flag("LGTS_CONSOLE", text);

/** A PostgreSQL URI selects that backend; an empty value means "not set". */
function databaseOption(uri: string | undefined): { databaseUri?: string } {
  if (uri === undefined || uri.trim() === "") return {};
  let protocol: string;
  try {
    protocol = new URL(uri).protocol;
  } catch {
    throw new UsageError(`Invalid --database-uri/DATABASE_URI: not a URI (expected postgres://user:password@host:5432/database)`);
  }
  if (protocol !== "postgres:" && protocol !== "postgresql:") {
    throw new UsageError(`Invalid --database-uri/DATABASE_URI: '${protocol}' is not supported, only postgres:// (PostgreSQL)`);
  }
  return { databaseUri: uri };
}

function numberOption(name: string, text: string | undefined, integer: boolean, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new UsageError(`Invalid --${name} '${text}'`);
  }
  return value;
}

function runOptions(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): RunEngineOptions {
  const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);
  const concurrency = numberOption("run-concurrency", str(values["run-concurrency"]) ?? env.LGTS_RUN_CONCURRENCY, true, 1);
  const timeout = numberOption("run-timeout", str(values["run-timeout"]) ?? env.LGTS_RUN_TIMEOUT, false, 0);
  const grace = numberOption("shutdown-grace", str(values["shutdown-grace"]) ?? env.LGTS_SHUTDOWN_GRACE, false, 0);
  const lease = numberOption("run-lease", str(values["run-lease"]) ?? env.LGTS_RUN_LEASE, false, 0.3);
  return {
    ...(lease !== undefined ? { leaseMs: lease * 1000 } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(timeout !== undefined ? { runTimeoutMs: timeout * 1000 } : {}),
    ...(grace !== undefined ? { shutdownGraceMs: grace * 1000 } : {}),
  };
}
