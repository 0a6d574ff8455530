/**
 * One shard = one small lowdb file holding `{ records: { [id]: record } }`, with group commit.
 * A file may hold more such objects, one per line: segments added at its end (`appendRecords`),
 * whose records replace the earlier ones of their ids. A last segment that does not parse is one a
 * crash tore while it was appended: it is left out (the commit log still holds its records), and
 * the next write of the shard rewrites the file whole. In memory the records are a Map (an
 * object's keys would each be a second, internalized copy of the id).
 *
 * Mutations change `records` in memory right away and then call `commit()`.
 * The first commit after an idle period queues a write on the flush queue
 * (next `setImmediate` turn), so every mutation made until then (same tick,
 * same batch of incoming requests) shares that one write. Commits made while a
 * write is in flight are collected into exactly one follow-up write, queued as
 * soon as the in-flight one settles. Each write serializes the whole shard as
 * it is when the write starts, so it contains every mutation committed before.
 *
 * A commit's promise resolves once a write that started after the mutation is
 * durable, and rejects if that write fails. A failed write leaves memory ahead
 * of disk; the next commit on this shard rewrites the whole shard, carrying the
 * earlier changes along with it.
 */
import { Low } from "lowdb";
import { StorageUnavailableError } from "../errors.js";
import { DurableJsonFile, parseStoreText, type FileIO } from "./durable-file.js";
import { scheduleFlush, type Flushable } from "./flush-queue.js";
import { newBatch, noop, type Batch } from "./batch.js";

export interface ShardData<T> {
  records: Map<string, T>;
}

const OPENING = '{"records":{';
/** Bytes of appended segments a file holds before `segmentsOutgrown`, at least. */
const SEGMENTS_MIN_BYTES = 64 * 1024;
const CLOSING = "}}";

/** A record's entry in the file's text. */
const entryText = (id: string, record: unknown) => `${JSON.stringify(id)}:${JSON.stringify(record)}`;

/** The file's text: `{"records":{id: record, ...}}`. */
function serialize<T>(data: ShardData<T>): string {
  const entries: string[] = [];
  for (const [id, record] of data.records) entries.push(entryText(id, record));
  return `${OPENING}${entries.join(",")}${CLOSING}`;
}

export class Shard<T> implements Flushable {
  readonly #db: Low<ShardData<T>>;
  readonly #adapter: DurableJsonFile<ShardData<T>>;
  readonly #file: string;
  /** Mutations committed but not yet part of a started write. */
  #pending: Batch | null = null;
  /** The write currently on its way to disk. */
  #inFlight: Promise<void> | null = null;
  #resident = true;
  /** The file may end with a torn segment (a crash, or a failed append): appending waits for a whole rewrite. */
  #torn = false;
  /** The file's size in bytes as its last whole write (under way, or done) or its last read left it. */
  #wholeBytes = 0;
  /**
   * The file's size in bytes, as this shard last wrote or read it in `serialize`'s form (segments
   * appended included): an append goes there without opening the file to check its frame first.
   * Null when unknown (not read or written yet, not in that form, or a write failed).
   */
  #framedBytes: number | null = null;
  /** Number of writes started (diagnostics: group commit makes it <= mutations). */
  writes = 0;
  /** Longest synchronous part of a write (serialization), in ms (diagnostics). */
  maxBlockMs = 0;

  readonly #idOf: (record: T) => string;

  constructor(file: string, idOf: (record: T) => string, io?: FileIO) {
    this.#file = file;
    this.#idOf = idOf;
    this.#adapter = new DurableJsonFile<ShardData<T>>(file, io, (data) => {
      const text = serialize(data);
      this.#wholeBytes = Buffer.byteLength(text);
      return text;
    });
    this.#db = new Low<ShardData<T>>(this.#adapter, { records: new Map() });
  }

  async load(): Promise<void> {
    this.#db.data = { records: await this.readRecords() };
  }

  /** The records of the file as it is on disk now (none if there is no file yet), by their ids. */
  async readRecords(): Promise<Map<string, T>> {
    // a write during the read may leave the file larger than the text read
    const quiet = this.idle;
    const writes = this.writes;
    const text = await this.#adapter.readText();
    const records = new Map<string, T>();
    if (text === null) return records;
    this.#wholeBytes = Buffer.byteLength(text);
    const segments = text.split("\n");
    for (const [i, segment] of segments.entries()) {
      let data: { records?: unknown };
      try {
        data = parseStoreText(this.#file, segment) as { records?: unknown };
      } catch (err) {
        if (i === 0 || i < segments.length - 1) throw err;
        // torn by a crash while it was appended: its records are in the commit log still
        this.#torn = true;
        break;
      }
      if (typeof data !== "object" || typeof data.records !== "object" || data.records === null) {
        throw new Error(`store file ${this.#file} does not hold a shard`);
      }
      // keyed by the records' own id strings: the parsed keys are dropped
      for (const record of Object.values(data.records as Record<string, T>)) records.set(this.#idOf(record), record);
    }
    if (quiet && this.idle && this.writes === writes && !this.#torn && text.startsWith(OPENING) && text.endsWith(CLOSING)) {
      this.#framedBytes = this.#wholeBytes;
    }
    return records;
  }

  /** The live records of this shard. Mutate, then call commit(). */
  get records(): Map<string, T> {
    return this.#db.data.records;
  }

  /**
   * Whether `records` holds the whole shard. A lazily loaded collection drops the records of a
   * shard its file holds (`release`) and reads them back (`hold`); a write then refuses to run.
   */
  get resident(): boolean {
    return this.#resident;
  }

  /** `records` becomes the whole shard. */
  hold(records: Map<string, T>): void {
    this.#db.data = { records };
    this.#resident = true;
  }

  /** Drops the records from memory: only once the file holds them and no write is pending. */
  release(): void {
    if (!this.idle) throw new Error(`shard ${this.#file} released with a write pending`);
    this.#db.data = { records: new Map() };
    this.#resident = false;
  }

  /**
   * Adds `records` (new, or replacing records of the file: the last entry of an id is the one read
   * back) to the shard's file without reading back, parsing or serializing the records it holds
   * (whether memory holds them too or not): a segment of their own at the file's end, written and
   * synced in place, so a log checkpoint writes what changed, not the thread's history again.
   * Resolves with false, writing nothing, when the file's text is not in the form `serialize`
   * gives it, or may end with a torn segment.
   */
  appendRecords(records: Iterable<T>): Promise<boolean> {
    if (!this.idle) throw new Error(`shard ${this.#file}: records appended while it is written`);
    const entries: string[] = [];
    for (const record of records) entries.push(entryText(this.#idOf(record), record));
    const write = (async () => {
      if (this.#torn) return false;
      const size = this.#framedBytes ?? (await this.#adapter.framedSize(OPENING, CLOSING));
      this.writes++;
      // a failure may leave part of what it writes: the next write rewrites the file whole
      this.#framedBytes = null;
      if (size === null) {
        if (await this.#adapter.readText()) return false; // a file, not in serialize's form
        const text = `${OPENING}${entries.join(",")}${CLOSING}`;
        await this.#adapter.writeText(text);
        this.#wholeBytes = Buffer.byteLength(text);
        this.#framedBytes = this.#wholeBytes;
        return true;
      }
      this.#torn = true;
      const segment = `\n${OPENING}${entries.join(",")}${CLOSING}`;
      await this.#adapter.appendText(size, segment);
      this.#torn = false;
      this.#framedBytes = size + Buffer.byteLength(segment);
      return true;
    })().catch((err: unknown) => {
      throw new StorageUnavailableError(`write to ${this.#file} failed`, { cause: err });
    });
    // a commit or a release meanwhile waits for it, as for any write
    this.#inFlight = write.then(noop, noop).then(() => {
      this.#inFlight = null;
      if (this.#pending) scheduleFlush(this);
    });
    return write;
  }

  /**
   * Whether the segments appended since the file was last written whole (or read) hold more bytes
   * than it did (or 64 KiB): replaced records accumulate there, so the next write should be a
   * whole one.
   */
  get segmentsOutgrown(): boolean {
    return this.#framedBytes !== null && this.#framedBytes - this.#wholeBytes > Math.max(this.#wholeBytes, SEGMENTS_MIN_BYTES);
  }

  /**
   * Whether a write waits to serialize the records as memory holds them when its turn comes:
   * until then, whatever is put goes into it; once it is under way, nothing more does.
   */
  get snapshotPending(): boolean {
    return this.#pending !== null;
  }

  /** Resolves when a write containing every mutation made so far is durable. */
  commit(): Promise<void> {
    if (!this.#pending) {
      this.#pending = newBatch();
      if (!this.#inFlight) scheduleFlush(this);
    }
    return this.#pending.promise;
  }

  /**
   * Resolves once every write covering mutations made so far has settled
   * (immediately if idle). Never rejects: the committers get the error.
   */
  settled(): Promise<void> {
    const last = this.#pending?.promise ?? this.#inFlight;
    return last ? last.then(noop, noop) : Promise.resolve();
  }

  get idle(): boolean {
    return !this.#pending && !this.#inFlight;
  }

  /** Called by the flush queue: starts the write of everything pending. */
  startFlush(): void {
    const batch = this.#pending;
    if (!batch || this.#inFlight) return;
    this.#pending = null;
    if (!this.#resident) {
      // the file holds records that memory does not: writing memory would lose them
      batch.reject(new StorageUnavailableError(`write to ${this.#file} refused: its records are not loaded`));
      return;
    }
    this.writes++;
    const t0 = performance.now();
    // Low.write() -> DurableJsonFile.write() serializes synchronously, right here.
    this.#framedBytes = null;
    const started = this.#db.write().then(() => {
      this.#torn = false;
      this.#framedBytes = this.#wholeBytes;
    });
    const blocked = performance.now() - t0;
    if (blocked > this.maxBlockMs) this.maxBlockMs = blocked;
    const write = started.then(
      () => batch.resolve(),
      (err: unknown) => batch.reject(new StorageUnavailableError(`write to ${this.#file} failed`, { cause: err })),
    );
    this.#inFlight = write.then(() => {
      this.#inFlight = null;
      if (this.#pending) scheduleFlush(this);
    });
  }
}
