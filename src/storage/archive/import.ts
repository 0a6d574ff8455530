/** Reading an archive (format.ts) into a storage, a batch at a time. */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { ArchiveKind, ArchiveRecords, Storage } from "../types.js";
import { BATCH_SIZE, requireEmpty, type Progress } from "./copy.js";
import { ArchiveFormatError, countsDiffer, parseHeader, parseLine, zeroCounts, type ArchiveCounts, type ArchiveHeader } from "./format.js";

/** Bytes of an archive: a stream, or chunks in memory. */
export type ByteSource = AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

/** The lines of a byte stream, as they arrive (for-await pulls: the stream waits for the reader). */
export async function* textLines(input: ByteSource): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of input) {
    const text = rest + chunk.toString();
    const lines = text.split("\n");
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest !== "") yield rest;
}

/** An archive file's bytes, gunzipped when it is gzip-compressed (by its magic bytes). */
export async function openArchiveFile(file: string): Promise<Readable> {
  const handle = await open(file, "r");
  const magic = Buffer.alloc(2);
  try {
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const raw = createReadStream(file);
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return raw;
  const gunzip = createGunzip();
  raw.on("error", (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

/** Each record of an archive, checking the header first and the end line's counts last. */
export async function* archiveRecords(
  input: ByteSource,
  onHeader?: (header: ArchiveHeader) => void | Promise<void>,
): AsyncGenerator<{ kind: ArchiveKind; record: ArchiveRecords[ArchiveKind] }> {
  const lines = textLines(input);
  const first = await lines.next();
  const header = parseHeader(first.done ? undefined : first.value);
  await onHeader?.(header);
  const seen = zeroCounts();
  let lineNumber = 1;
  for await (const line of lines) {
    lineNumber++;
    if (line === "") continue;
    const parsed = parseLine(line, lineNumber);
    if ("end" in parsed) {
      const differ = countsDiffer(seen, parsed.counts);
      if (differ.length) throw new ArchiveFormatError(`corrupt archive: the end line's counts of ${differ.join(", ")} differ from its records`);
      return;
    }
    seen[parsed.kind]++;
    yield parsed;
  }
  throw new ArchiveFormatError(`the archive is truncated after line ${lineNumber} (no end line): it was not completely written`);
}

/**
 * Loads an archive into `storage`. Refuses a storage that holds anything unless `replace` (then
 * records with the same ids are replaced). Records are restored a batch of one kind at a time.
 */
export async function importArchive(
  storage: Storage,
  input: ByteSource,
  options: { replace?: boolean; onProgress?: Progress; target?: string } = {},
): Promise<ArchiveCounts> {
  if (!options.replace) await requireEmpty(storage, options.target ?? "the target");
  let totals = zeroCounts();
  const done = zeroCounts();
  let kind: ArchiveKind | null = null;
  let batch: ArchiveRecords[ArchiveKind][] = [];
  const flush = async () => {
    if (!kind || batch.length === 0) return;
    await storage.archive.restore(kind, batch, { replace: options.replace ?? false });
    done[kind] += batch.length;
    options.onProgress?.(kind, done[kind], totals[kind]);
    batch = [];
  };
  for await (const line of archiveRecords(input, (header) => void (totals = header.counts))) {
    if (line.kind !== kind || batch.length >= BATCH_SIZE) {
      await flush();
      kind = line.kind;
    }
    batch.push(line.record);
  }
  await flush();
  return done;
}

/** Reads an archive file through, checking it is complete; its counts. */
export async function verifyArchiveFile(file: string): Promise<ArchiveCounts> {
  const counts = zeroCounts();
  for await (const { kind } of archiveRecords(await openArchiveFile(file))) counts[kind]++;
  return counts;
}
