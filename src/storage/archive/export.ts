/** Writing an archive (format.ts) of one consistent snapshot of a storage. */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { Storage } from "../types.js";
import { eachBatch, type Progress } from "./copy.js";
import { ARCHIVE_FORMAT, ARCHIVE_VERSION, type ArchiveCounts, type ArchiveHeader } from "./format.js";

/**
 * Writes the archive to `output` (gzip-compressed unless `gzip` is false), a batch at a time,
 * waiting whenever the output is full; ends `output` once the archive is complete.
 */
export async function writeArchive(
  storage: Storage,
  output: Writable,
  options: { gzip?: boolean; onProgress?: Progress } = {},
): Promise<ArchiveCounts> {
  const gzip = options.gzip === false ? null : createGzip();
  const sink: Writable = gzip ?? output;
  const delivered = gzip ? pipeline(gzip, output) : null;
  delivered?.catch(() => undefined); // awaited below; a failure also fails the writes
  const write = async (text: string) => {
    if (!sink.write(text)) await Promise.race([once(sink, "drain"), ...(delivered ? [delivered] : [])]);
  };
  const counts = await storage.archive.snapshot(async (view) => {
    const header: ArchiveHeader = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      created_at: new Date().toISOString(),
      source: { backend: storage.backend },
      counts: await view.counts(),
    };
    await write(JSON.stringify(header) + "\n");
    const written = await eachBatch(
      view,
      (kind, batch) => write(batch.map((record) => JSON.stringify({ kind, record }) + "\n").join("")),
      options.onProgress,
    );
    await write(JSON.stringify({ end: true, counts: written }) + "\n");
    return written;
  });
  sink.end();
  await (delivered ?? once(output, "finish"));
  return counts;
}

/**
 * Writes the archive to `file` (`.jsonl`: uncompressed) through a temporary file renamed into
 * place once complete: a failed export never leaves a file that looks like an archive.
 */
export async function exportToFile(storage: Storage, file: string, onProgress?: Progress): Promise<ArchiveCounts> {
  const partial = `${file}.partial`;
  try {
    const counts = await writeArchive(storage, createWriteStream(partial), { gzip: !file.endsWith(".jsonl"), ...(onProgress ? { onProgress } : {}) });
    await rename(partial, file);
    return counts;
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
