/**
 * The format version of an embedded data directory: `<dataDir>/format.json` = `{"format": n}`.
 *
 * Opening a directory (before anything in it is read):
 * - new (empty or missing): stamped with the current format;
 * - written before the stamp existed (collections but no format.json): format 1, the layout
 *   those releases wrote, which is also this release's;
 * - newer than this release reads: refused with a clear message (nothing is touched);
 * - older: backed up, then migrated in place one step at a time. The backup is a copy of the
 *   directory beside it (`<dataDir>.format-<n>-backup`), written under a temporary name and
 *   renamed once complete (made once: a rerun keeps it). The stamp moves to a step's version
 *   only once the step is done, so a crash mid-step reruns that step at the next open: steps
 *   must be idempotent (each rewrite durable: tmp file + rename).
 */
import { cp, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { DurableJsonFile, fsyncDir, type FileIO } from "./durable-file.js";

export const FORMAT_FILE = "format.json";

/** The format this release writes. */
export const CURRENT_DATA_FORMAT = 2;

/** Turns a directory of format `to - 1` into format `to` (in place; may be rerun after a crash). */
export interface FormatStep {
  to: number;
  migrate(dataDir: string): Promise<void>;
}

/** This release's steps, oldest first. */
export const FORMAT_STEPS: readonly FormatStep[] = [
  // 2: a checkpoint shard's file may hold more than one segment, one per line (see Shard), which a
  // release reading format 1 would take for a corrupt file. A format 1 file is a format 2 one.
  { to: 2, migrate: async () => undefined },
];

export class DataFormatError extends Error {
  override name = "DataFormatError";
}

export interface DataFormatOptions {
  current?: number;
  steps?: readonly FormatStep[];
  io?: FileIO;
}

/** Brings `dataDir` to the current format (see above); returns the format it had. */
export async function openDataFormat(dataDir: string, options: DataFormatOptions = {}): Promise<number> {
  const current = options.current ?? CURRENT_DATA_FORMAT;
  const steps = options.steps ?? FORMAT_STEPS;
  const stampFile = new DurableJsonFile<{ format: number }>(path.join(dataDir, FORMAT_FILE), options.io);
  const stamped = (await stampFile.read())?.format;
  if (stamped !== undefined && (!Number.isInteger(stamped) || stamped < 1))
    throw new DataFormatError(`${path.join(dataDir, FORMAT_FILE)} holds no valid format`);
  const found = stamped ?? ((await holdsData(dataDir)) ? 1 : current);
  if (found > current) {
    throw new DataFormatError(
      `the data directory ${dataDir} was written by a newer release of lgts (data format ${found}; this release reads up to ${current}): ` +
        "upgrade lgts, or restore an export taken for this release (lgts import) into an empty directory",
    );
  }
  if (found < current) {
    const route: FormatStep[] = [];
    for (let to = found + 1; to <= current; to++) {
      const step = steps.find((s) => s.to === to);
      // a release that changes the format must bring the older ones to it (the fixture test fails otherwise)
      if (!step) throw new DataFormatError(`no migration of data directories from format ${to - 1} to ${to}: this release cannot open ${dataDir}`);
      route.push(step);
    }
    await backUp(dataDir, found);
    for (const step of route) {
      await step.migrate(dataDir);
      await stampFile.write({ format: step.to });
    }
  }
  if (stamped !== current) await stampFile.write({ format: current });
  return found;
}

/** The directory a migration from `format` keeps the original in. */
export const backupDirOf = (dataDir: string, format: number) => `${path.resolve(dataDir)}.format-${format}-backup`;

async function backUp(dataDir: string, format: number): Promise<void> {
  const backup = backupDirOf(dataDir, format);
  if (await exists(backup)) return; // an earlier open made it, then crashed while migrating
  const partial = `${backup}.partial`;
  await rm(partial, { recursive: true, force: true });
  await cp(dataDir, partial, { recursive: true, filter: (source) => !source.endsWith(".sock") });
  await rename(partial, backup);
  await fsyncDir(path.dirname(backup));
}

async function holdsData(dataDir: string): Promise<boolean> {
  const names = await readdir(dataDir).catch(() => [] as string[]);
  return names.some((name) => name !== FORMAT_FILE && name !== "health.json" && !name.endsWith(".sock"));
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null)) !== null;
}
