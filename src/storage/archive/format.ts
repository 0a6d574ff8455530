/**
 * The archive format (docs/ARCHIVE.md): JSON Lines, gzip-compressed unless written as `.jsonl`.
 * Line 1 is the header; then one record per line, `{"kind": ..., "record": ...}`, each kind's
 * records together in `ARCHIVE_KINDS` order; the last line is `{"end": true, "counts": ...}`,
 * so a truncated archive is told from a complete one.
 */
import type { ArchiveKind, ArchiveRecords } from "../types.js";
import { ARCHIVE_KINDS } from "./kinds.js";

export const ARCHIVE_FORMAT = "lgts-archive";
/** Bumped when a record's shape changes; an importer reads every version up to its own. */
export const ARCHIVE_VERSION = 1;

export type ArchiveCounts = Record<ArchiveKind, number>;

export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  created_at: string;
  /** The backend the archive was taken from. */
  source: { backend: "lowdb" | "postgres" };
  /** How many records of each kind follow. */
  counts: ArchiveCounts;
}

export type ArchiveLine = { [K in ArchiveKind]: { kind: K; record: ArchiveRecords[K] } }[ArchiveKind];
export interface ArchiveEnd {
  end: true;
  counts: ArchiveCounts;
}

/** Thrown for an archive that cannot be read (not one, a newer version, truncated, corrupt). */
export class ArchiveFormatError extends Error {
  override name = "ArchiveFormatError";
}

export function zeroCounts(): ArchiveCounts {
  return Object.fromEntries(ARCHIVE_KINDS.map((k) => [k, 0])) as ArchiveCounts;
}

export function parseHeader(line: string | undefined): ArchiveHeader {
  let header: Partial<ArchiveHeader>;
  try {
    header = JSON.parse(line ?? "") as Partial<ArchiveHeader>;
  } catch {
    throw new ArchiveFormatError("not an lgts archive (its first line is not a JSON header)");
  }
  if (header?.format !== ARCHIVE_FORMAT) throw new ArchiveFormatError("not an lgts archive (no lgts-archive header)");
  if (typeof header.version !== "number" || header.version > ARCHIVE_VERSION) {
    throw new ArchiveFormatError(`archive format version ${header.version} is newer than this release reads (${ARCHIVE_VERSION}): upgrade lgts`);
  }
  return header as ArchiveHeader;
}

/** A record line or the end line; anything else is corruption. */
export function parseLine(line: string, lineNumber: number): ArchiveLine | ArchiveEnd {
  let parsed: Partial<ArchiveLine & ArchiveEnd>;
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch (err) {
    throw new ArchiveFormatError(`corrupt archive at line ${lineNumber}: ${(err as Error).message}`);
  }
  if (parsed.end === true) return parsed as ArchiveEnd;
  if (!ARCHIVE_KINDS.includes(parsed.kind as ArchiveKind) || typeof parsed.record !== "object" || parsed.record === null) {
    throw new ArchiveFormatError(`corrupt archive at line ${lineNumber}: not a record of a known kind`);
  }
  return parsed as ArchiveLine;
}

export function countsDiffer(a: ArchiveCounts, b: ArchiveCounts): ArchiveKind[] {
  return ARCHIVE_KINDS.filter((k) => (a[k] ?? 0) !== (b[k] ?? 0));
}
