/**
 * A lowdb `Adapter` whose writes survive SIGKILL and power loss.
 *
 * write(): serialize -> write `<file>.tmp` -> fsync it -> rename over `<file>`
 * -> fsync the directory. rename(2) is atomic, so at any moment `<file>` holds
 * either the previous or the new complete content; the two fsyncs make the new
 * content and the new directory entry durable before the promise resolves.
 *
 * A crash can leave a `*.tmp` behind; it is never read, and `removeStaleTemps`
 * deletes such leftovers when a collection is opened.
 */
import { open, readdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { Adapter } from "lowdb";
import { framedSize, readFileText, writeFileText } from "./file-text.js";

export const TEMP_SUFFIX = ".tmp";

/** An open file as a durable write uses it (node's `FileHandle` is one). */
export interface SyncableFile {
  /** Writes at the current position (a Buffer's bytes as they are; the encoding is a string's). */
  writeFile(data: string | Buffer, encoding: "utf8"): Promise<void>;
  /**
   * pwrite(2): `length` bytes of `buffer` from `offset`, at `position` in the file (the commit
   * log's lines, and the zeros of a log file prepared ahead). May write fewer (`bytesWritten`).
   */
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** fsync(2): the file's data (or a directory's entries) reach the disk. */
  sync(): Promise<void>;
  /**
   * fdatasync(2): the file's data reach the disk, with its size when it grew (not its times).
   * Into bytes already written and synced (a log file's zeros) it commits no metadata at all.
   */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file calls a durable write makes. A seam so that tests can see that data and directory
 * entries are synced before a write is acknowledged: neither the page cache nor SIGKILL shows it.
 */
export interface FileIO {
  /** "r+": an existing file, read and written in place (a commit-log file prepared ahead). */
  open(file: string, flags: "w" | "r" | "r+"): Promise<SyncableFile>;
  rename(from: string, to: string): Promise<void>;
}

export const nodeFileIO: FileIO = { open, rename };

export class DurableJsonFile<T> implements Adapter<T> {
  readonly #file: string;
  readonly #temp: string;
  readonly #dir: string;
  readonly #io: FileIO;

  readonly #serialize: (data: T) => string;

  /** `serialize`: the file's text for `data` (JSON.stringify by default). */
  constructor(file: string, io: FileIO = nodeFileIO, serialize: (data: T) => string = JSON.stringify) {
    this.#io = io;
    this.#serialize = serialize;
    this.#file = file;
    this.#temp = file + TEMP_SUFFIX;
    this.#dir = path.dirname(file);
  }

  async read(): Promise<T | null> {
    const text = await this.readText();
    return text === null ? null : (parseStoreText(this.#file, text) as T);
  }

  /** The file's text as it is on disk now; null when there is no file. */
  readText(): Promise<string | null> {
    return readFileText(this.#file);
  }

  /**
   * Serializes synchronously (before the first await), so the file receives the
   * data exactly as it was when write() was called. Callers must not start a
   * second write on the same file before the first one settles (they share the
   * temp file); `Shard` guarantees this.
   */
  write(data: T): Promise<void> {
    return this.writeText(this.#serialize(data));
  }

  async writeText(text: string): Promise<void> {
    const fh = await this.#io.open(this.#temp, "w");
    try {
      await writeFileText(fh, text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.#io.rename(this.#temp, this.#file);
    await fsyncDir(this.#dir, this.#io);
  }

  /** The file's size when its text starts with `opening` and ends with `closing`; null when not, or no file. */
  framedSize(opening: string, closing: string): Promise<number | null> {
    return framedSize(this.#file, opening, closing);
  }

  /**
   * Durably: `text` written at byte `position` of the file, which it extends (an append in place:
   * synced with fdatasync, which carries the new size). Not atomic: a crash may leave part of it,
   * which the file's reader must recognize (see Shard).
   */
  async appendText(position: number, text: string): Promise<void> {
    const fh = await this.#io.open(this.#file, "r+");
    try {
      await writeFileText(fh, text, position);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
}

/** The JSON value of a store file's `text` (or of one of its segments); throws, naming `file`, when it is not one. */
export function parseStoreText(file: string, text: string): unknown {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`corrupt store file ${file}: ${(err as Error).message}`);
  }
  // null is how a read says "no file"; a file holding it must not pass for a new, empty one
  if (data === null) throw new Error(`corrupt store file ${file}: it holds null`);
  return data;
}

/** Makes a directory's entries (creations, renames) durable. */
export async function fsyncDir(dir: string, io: FileIO = nodeFileIO): Promise<void> {
  const fh = await io.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Deletes temp files left by writes that a crash interrupted. Returns how many. */
export async function removeStaleTemps(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    await unlink(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    removed++;
  }
  return removed;
}
