/**
 * Shard files' text read and written through a few buffers allocated once and kept, a bounded
 * chunk per file call.
 *
 * A log checkpoint rewrites hundreds of shards at once (each shard file's write and its two
 * fsyncs under way together, so that their latencies overlap). Read or written whole, each
 * would allocate a Buffer of its file's size (node's readFile, and writeFile converting the
 * text) from the C allocator, freed only when V8 collects it: tens of MiB between two
 * collections, given back to the allocator then but not to the system (glibc keeps freed
 * blocks amid live ones, and its arena keeps the size of that peak). Here a file call moves at
 * most CHUNK_BYTES through one of SLOTS buffers, and waits for one to be free; what waits holds
 * only its text, in V8's heap.
 */
import { open, type FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import type { SyncableFile } from "./durable-file.js";

/** Bytes moved per file call at most. */
const CHUNK_BYTES = 64 * 1024;
/** UTF-16 code units per written piece: at most 3 UTF-8 bytes each, so a piece fits a chunk. */
const PIECE_UNITS = Math.floor(CHUNK_BYTES / 3);
/** Chunk buffers (file calls under way at a time), in the whole process. */
const SLOTS = 32;

const free: Buffer[] = [];
let created = 0;
/** Calls waiting for a buffer, in order. */
const waiting: Array<(buffer: Buffer) => void> = [];

/** Runs `work` with a chunk buffer of its own (created as needed up to SLOTS, then kept). */
async function withBuffer<R>(work: (buffer: Buffer) => Promise<R>): Promise<R> {
  let buffer = free.pop();
  if (!buffer && created < SLOTS) {
    created++;
    buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  }
  buffer ??= await new Promise<Buffer>((resolve) => waiting.push(resolve));
  try {
    return await work(buffer);
  } finally {
    const next = waiting.shift();
    if (next) next(buffer);
    else free.push(buffer);
  }
}

/** `file` opened for reading; null when there is no file. */
async function openIfExists(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** The text of `file` (UTF-8) as it is on disk now; null when there is no file. */
export async function readFileText(file: string): Promise<string | null> {
  const fh = await openIfExists(file);
  if (fh === null) return null;
  try {
    const decoder = new StringDecoder("utf8");
    const parts: string[] = [];
    for (;;) {
      const text = await withBuffer(async (buffer) => {
        const { bytesRead } = await fh.read(buffer, 0, CHUNK_BYTES, null);
        return { text: decoder.write(buffer.subarray(0, bytesRead)), end: bytesRead < CHUNK_BYTES };
      });
      parts.push(text.text);
      // a regular file reads short only at its end
      if (text.end) break;
    }
    parts.push(decoder.end());
    return parts.join("");
  } finally {
    await fh.close();
  }
}

/**
 * Writes `text` (UTF-8) to `file`, a piece at a time: from the file's current position, or from
 * byte `position` when given (pwrite: a file opened "r+").
 */
export async function writeFileText(file: SyncableFile, text: string, position?: number): Promise<void> {
  let start = 0;
  let at = position ?? 0;
  do {
    let end = Math.min(start + PIECE_UNITS, text.length);
    // a surrogate pair stays whole: half of one would be written as U+FFFD
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    const piece = text.slice(start, end);
    await withBuffer(async (buffer) => {
      const bytes = buffer.write(piece);
      if (position === undefined) return file.writeFile(buffer.subarray(0, bytes), "utf8");
      for (let done = 0; done < bytes;) {
        const { bytesWritten } = await file.write(buffer, done, bytes - done, at + done);
        if (bytesWritten <= 0) throw new Error("a write to a store file wrote nothing");
        done += bytesWritten;
      }
      at += bytes;
    });
    start = end;
  } while (start < text.length);
}

/**
 * The size of `file` when its bytes start with `opening` and end with `closing` (ASCII), read
 * without reading the rest; null when they do not, or there is no file.
 */
export async function framedSize(file: string, opening: string, closing: string): Promise<number | null> {
  const fh = await openIfExists(file);
  if (fh === null) return null;
  try {
    const { size } = await fh.stat();
    if (size < opening.length + closing.length) return null;
    const edge = Buffer.alloc(Math.max(opening.length, closing.length));
    const read = async (length: number, position: number) => {
      const { bytesRead } = await fh.read(edge, 0, length, position);
      return edge.toString("latin1", 0, bytesRead);
    };
    if ((await read(opening.length, 0)) !== opening) return null;
    return (await read(closing.length, size - closing.length)) === closing ? size : null;
  } finally {
    await fh.close();
  }
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
