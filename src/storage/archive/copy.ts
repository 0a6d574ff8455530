/**
 * Moving everything from one view to a sink, batch by batch: what export (sink = archive lines),
 * and migrate (sink = another storage) share. Memory holds one batch at a time.
 */
import type { ArchiveKind, ArchiveRecords, ArchiveView, Storage } from "../types.js";
import type { ArchiveCounts } from "./format.js";
import { zeroCounts } from "./format.js";
import { ARCHIVE_KINDS } from "./kinds.js";

/** Records per read statement / restore transaction. */
export const BATCH_SIZE = 500;

/** Called after each batch: how many of `kind` are done out of `total`. */
export type Progress = (kind: ArchiveKind, done: number, total: number) => void;

/** Hands every record of the view to `sink`, a batch at a time, kinds in archive order. */
export async function eachBatch(
  view: ArchiveView,
  sink: <K extends ArchiveKind>(kind: K, batch: ArchiveRecords[K][]) => Promise<void>,
  onProgress?: Progress,
): Promise<ArchiveCounts> {
  const totals = await view.counts();
  const done = zeroCounts();
  for (const kind of ARCHIVE_KINDS) {
    onProgress?.(kind, 0, totals[kind]);
    for await (const batch of view.records(kind, BATCH_SIZE)) {
      await sink(kind, batch);
      done[kind] += batch.length;
      onProgress?.(kind, done[kind], totals[kind]);
    }
  }
  return done;
}

/** Every kind's count of a storage, now. */
export function storageCounts(storage: Storage): Promise<ArchiveCounts> {
  return storage.archive.snapshot((view) => view.counts());
}

/** Refuses a target that holds anything, unless the caller asked to overwrite. */
export async function requireEmpty(storage: Storage, what: string): Promise<void> {
  const counts = await storageCounts(storage);
  const held = ARCHIVE_KINDS.filter((k) => counts[k] > 0);
  if (held.length) {
    throw new TargetNotEmptyError(
      `${what} already holds data (${held.map((k) => `${counts[k]} ${k}`).join(", ")}): refusing to overwrite it; pass --overwrite to replace records with the same ids`,
    );
  }
}

export class TargetNotEmptyError extends Error {
  override name = "TargetNotEmptyError";
}

/** Copies everything `source` holds (one consistent snapshot) into `target`. */
export function copyStorage(source: Storage, target: Storage, options: { replace?: boolean; onProgress?: Progress } = {}): Promise<ArchiveCounts> {
  return source.archive.snapshot((view) =>
    eachBatch(view, (kind, batch) => target.archive.restore(kind, batch, { replace: options.replace ?? false }), options.onProgress),
  );
}
