/**
 * `lgts export | import | migrate | backup`: whole deployments in and out of either backend,
 * through the storage archive (src/storage/archive/). A running embedded server is exported
 * through its socket (control-socket.ts); commands that write an embedded data directory refuse
 * while a server runs on it.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "./config.js";
import { progressBar } from "./progress-bar.js";
import { answers, controlSocketPath, requestArchive } from "./storage/archive/control-socket.js";
import { copyStorage, requireEmpty } from "./storage/archive/copy.js";
import { exportToFile } from "./storage/archive/export.js";
import type { ArchiveCounts } from "./storage/archive/format.js";
import { importArchive, openArchiveFile, verifyArchiveFile } from "./storage/archive/import.js";
import { ARCHIVE_KINDS } from "./storage/archive/kinds.js";
import { verifyCopy, type ThreadRead } from "./storage/archive/verify.js";
import { loadGraphRegistry } from "./runtime/graphs/registry.js";
import { apiThreadReads } from "./runtime/threads/state-reads.js";
import { pino } from "pino";
import { openStorage, redactedUri, type Storage } from "./storage/index.js";

export const DATA_USAGE = `Usage: lgts <export|import|migrate|backup> [options]

  export [FILE]         write everything the deployment holds to an archive (gzip JSON Lines;
                        FILE.jsonl: uncompressed), default ./lgts-export-<time>.jsonl.gz.
                        A running embedded server is exported through it, without stopping it
  backup DIR            the same, to DIR/lgts-backup-<time>.jsonl.gz, checked complete
  import FILE           load an archive; refuses a deployment holding data unless --overwrite
  migrate --to <where>  move an embedded data directory into PostgreSQL (--to postgres://...),
                        or PostgreSQL (--database-uri) into a data directory (--to <dir>), then
                        verify: counts per kind, and a sample of threads (state and history
                        as the API answers them) and store items

Options:
  --data-dir <path>     the embedded store                  [LGTS_DATA_DIR] default ./.lgts
  --database-uri <uri>  PostgreSQL instead                  [DATABASE_URI]
  --overwrite           import/migrate: replace records with the same ids in a non-empty target
  --sample <n>          migrate: threads and store items compared (default 50)
  --config <path>       migrate: the project's langgraph.json, to compare thread states as the
                        API computes them            [LGTS_CONFIG] default ./langgraph.json
  -h, --help            show this help`;

type Location = { backend: "lowdb"; dataDir: string } | { backend: "postgres"; uri: string };

const describe = (at: Location) => (at.backend === "lowdb" ? `the data directory ${at.dataDir}` : `the database ${redactedUri(at.uri)}`);

function locationOf(value: string): Location {
  return /^postgres(ql)?:\/\//.test(value) ? { backend: "postgres", uri: value } : { backend: "lowdb", dataDir: path.resolve(value) };
}

/** Runs a data command; resolves with the process exit code. */
export async function runDataCommand(command: string, argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      "data-dir": { type: "string" },
      "database-uri": { type: "string" },
      to: { type: "string" },
      overwrite: { type: "boolean" },
      sample: { type: "string" },
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    out(DATA_USAGE);
    return 0;
  }
  const uri = values["database-uri"] ?? (env.DATABASE_URI?.trim() ? env.DATABASE_URI : undefined);
  const here: Location = uri ? locationOf(uri) : { backend: "lowdb", dataDir: path.resolve(values["data-dir"] ?? env.LGTS_DATA_DIR ?? ".lgts") };
  if (uri && here.backend !== "postgres")
    throw new UsageError(`Invalid --database-uri/DATABASE_URI: expected postgres://user:password@host:5432/database`);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const [first, ...extra] = positionals;
  if (extra.length) throw new UsageError(`Unexpected argument '${extra[0]}'`);
  if (command !== "migrate" && values.to !== undefined) throw new UsageError("--to applies to lgts migrate only");
  if (command !== "migrate" && values.sample !== undefined) throw new UsageError("--sample applies to lgts migrate only");
  if (command !== "migrate" && values.config !== undefined) throw new UsageError("--config applies to lgts migrate only");
  if ((command === "export" || command === "backup") && values.overwrite) throw new UsageError(`--overwrite does not apply to lgts ${command}`);
  switch (command) {
    case "export": {
      const file = path.resolve(first ?? `lgts-export-${stamp}.jsonl.gz`);
      printCounts(out, `exported ${describe(here)} to ${file}`, await exportFrom(here, file));
      return 0;
    }
    case "backup": {
      if (!first) throw new UsageError("lgts backup needs the directory to write the backup to");
      await mkdir(first, { recursive: true });
      const file = path.resolve(first, `lgts-backup-${stamp}.jsonl.gz`);
      await exportFrom(here, file);
      // read back through: a backup that cannot be restored is worth nothing
      printCounts(out, `backed up ${describe(here)} to ${file} (checked complete)`, await verifyArchiveFile(file));
      return 0;
    }
    case "import": {
      if (!first) throw new UsageError("lgts import needs the archive file to load");
      const file = path.resolve(first);
      await verifyArchiveFile(file); // a truncated or corrupt archive is refused before anything is written
      const counts = await withStorage(here, "write", async (storage) =>
        importArchive(storage, await openArchiveFile(file), {
          replace: values.overwrite ?? false,
          onProgress: progressBar("importing"),
          target: describe(here),
        }),
      );
      printCounts(out, `imported ${file} into ${describe(here)}`, counts);
      return 0;
    }
    case "migrate": {
      if (!values.to) throw new UsageError("lgts migrate needs --to postgres://... (or --to <data dir> from --database-uri)");
      const to = locationOf(values.to);
      if (
        to.backend === here.backend &&
        (to.backend === "lowdb" ? to.dataDir === (here as { dataDir: string }).dataDir : to.uri === (here as { uri: string }).uri)
      ) {
        throw new UsageError("lgts migrate: --to names the source itself");
      }
      const sampleSize = values.sample === undefined ? 50 : Number(values.sample);
      if (!Number.isInteger(sampleSize) || sampleSize < 0) throw new UsageError(`Invalid --sample '${values.sample}'`);
      const configPath = path.resolve(values.config ?? env.LGTS_CONFIG ?? "langgraph.json");
      const threadReads = await apiReads(configPath, values.config !== undefined || env.LGTS_CONFIG !== undefined, out);
      return migrate(here, to, { overwrite: values.overwrite ?? false, sampleSize, threadReads }, out);
    }
    default:
      throw new UsageError(`Unknown command '${command}'`);
  }
}

/**
 * The thread reads the API answers with the project's graphs (state, history), when its
 * langgraph.json is there; without it the move is verified on what they are computed from.
 */
async function apiReads(configPath: string, named: boolean, out: (line: string) => void): Promise<ThreadRead[]> {
  if (!named && !(await stat(configPath).catch(() => null))) {
    out(`(no ${configPath}: thread states are compared as stored checkpoints; pass --config to compare them as the API computes them)`);
    return [];
  }
  let graphs;
  try {
    graphs = await loadGraphRegistry(configPath);
  } catch (error) {
    throw new Error(`cannot load the graphs of ${configPath} to compare thread states: ${(error as Error).message}`);
  }
  return apiThreadReads(graphs, pino({ level: "silent" }));
}

async function migrate(
  from: Location,
  to: Location,
  options: { overwrite: boolean; sampleSize: number; threadReads: ThreadRead[] },
  out: (line: string) => void,
): Promise<number> {
  return withStorage(from, "move", (source) =>
    withStorage(to, "write", async (target) => {
      if (!options.overwrite) await requireEmpty(target, describe(to));
      const copied = await copyStorage(source, target, { replace: options.overwrite, onProgress: progressBar("moving") });
      printCounts(out, `copied ${describe(from)} into ${describe(to)}`, copied);
      const report = await verifyCopy(source, target, {
        sampleSize: options.sampleSize,
        exactCounts: !options.overwrite,
        threadReads: options.threadReads,
      });
      const compared = ["record", "checkpoints", "runs", ...(options.threadReads.length ? ["state and history as the API answers them"] : [])];
      out(
        `verified: counts per kind${options.overwrite ? " (skipped: --overwrite kept other records)" : ""}, ${report.sampled.threads} threads (${compared.join(", ")}), ${report.sampled.storeItems} store items`,
      );
      if (report.problems.length) {
        out(`the move is NOT verified:\n  ${report.problems.join("\n  ")}`);
        return 1;
      }
      out(
        `the move is verified. Start the server on ${describe(to)}${to.backend === "postgres" ? " (--database-uri or DATABASE_URI)" : ` (--data-dir ${to.dataDir})`}.`,
      );
      return 0;
    }),
  );
}

/** An archive of `from` in `file`: through the running server's socket, or read directly. */
async function exportFrom(from: Location, file: string): Promise<ArchiveCounts> {
  if (from.backend === "lowdb" && (await answers(controlSocketPath(from.dataDir)))) {
    const partial = `${file}.partial`;
    try {
      await requestArchive(from.dataDir, createWriteStream(partial));
      const counts = await verifyArchiveFile(partial);
      await rename(partial, file);
      return counts;
    } catch (error) {
      await rm(partial, { force: true });
      throw new Error(`the server on ${from.dataDir} did not send a complete archive: ${(error as Error).message}`);
    }
  }
  return withStorage(from, "read", (storage) => exportToFile(storage, file, progressBar("exporting")));
}

/**
 * Opens a location for `use`. An embedded data directory is opened only when no server runs on
 * it (one process owns it); to read, it must exist.
 */
async function withStorage<T>(at: Location, use: "read" | "write" | "move", work: (storage: Storage) => Promise<T>): Promise<T> {
  if (at.backend === "lowdb") {
    if (await answers(controlSocketPath(at.dataDir))) {
      throw new Error(
        use === "move"
          ? `a server is running on ${at.dataDir}: stop it first, so that no write made during the move is left behind`
          : `a server is running on ${at.dataDir}: stop it first (this writes the data directory, which one process owns)`,
      );
    }
    if (use !== "write" && !(await isDirectory(at.dataDir))) throw new Error(`there is no data directory at ${at.dataDir}`);
  }
  const storage = await openStorage(at.backend === "lowdb" ? { backend: "lowdb", dataDir: at.dataDir } : { backend: "postgres", uri: at.uri });
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => null))?.isDirectory() ?? false;
}

function printCounts(out: (line: string) => void, title: string, counts: ArchiveCounts): void {
  out(`${title}:\n${ARCHIVE_KINDS.map((kind) => `  ${kind.padEnd(18)} ${counts[kind]}`).join("\n")}`);
}
