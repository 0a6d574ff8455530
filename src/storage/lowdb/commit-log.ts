/**
 * The write-ahead log of a lowdb data directory: group commit across every collection.
 *
 * Without it, acknowledging a mutation means rewriting its shard file durably (two fsyncs), so N
 * concurrent requests touching N shards cost 2N fsyncs. With it, a mutation appends one line (the
 * record as stored, or its deletion) to `<dataDir>/log-<generation>.ndjson`; every line appended
 * before a flush starts shares that flush: one write and one fdatasync, whatever the number of
 * requests, records, shards or collections involved. The mutation is acknowledged once its line
 * is on disk. Lines appended while a flush is in flight go together in the next one.
 *
 * Files prepared ahead: a flush writes its lines at the file's running offset (pwrite, not
 * O_APPEND) into a file whose bytes are already zeros written and synced, so its fdatasync
 * writes the data pages and commits no metadata (an append that grows a file makes every sync
 * an ext4 journal commit for the new size and extents). The next file is prepared in the
 * background while the current one fills: zeros written to `log-next.tmp`, synced, renamed to
 * the next free generation's name, the directory synced. A flush that finds its file full moves
 * to the prepared file; when none is ready yet (writes outrun the preparation) it writes past the
 * end, growing the file: correct, only slower, never waiting. A generation's first file, when
 * nothing was prepared (after opening, a failed flush, a rotation that came first), is created
 * as before and grows. The sizes start at 64 KiB and double with each prepared file that fills,
 * up to 4 MiB. Replay reads a file up to its first NUL byte (a JSON line holds none): a prepared
 * file nothing was written to holds nothing, and a crash leaves at most a torn last line before
 * the zeros. A `log-next.tmp` left by a crash is deleted at open (`removePreparing`).
 *
 * Shard files are brought up to date later, by a checkpoint (`LowdbStorage`): rotate to a new
 * generation, write every dirty shard durably, then delete the older generations (and fsync the
 * directory). Invariant: shards hold at least the state at the start of the oldest log present,
 * and every mutation since is in a log present; replaying those logs in order (each line sets or
 * deletes a whole record) gives back every acknowledged mutation. (A full file moving to the
 * next generation keeps it: the lines go on, in order, in a later generation.)
 *
 * Mutations that must survive together (a run's end and the webhook delivery it owes) are one
 * line (`atomically`): a write torn by a power loss keeps all of them or none.
 *
 * Lines appended under a `Withdrawable` (a stateless run's temporary thread) can be taken back
 * (`withdraw`) while they have not left for the disk: what they record is being deleted. A record
 * none of whose lines left needs no deletion line either: the disk never held it.
 *
 * A crash can leave a torn last line; replay ignores it (it was never acknowledged). A failed
 * flush rejects its waiters, keeps their lines for the next flush and moves to a new generation,
 * so a torn line is only ever the last of its file. A read of what those lines changed asks for
 * that next flush at once (`durable`), and fails while it does.
 */
import { readdir, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { StorageUnavailableError } from "../errors.js";
import { fsyncDir, nodeFileIO, type FileIO, type SyncableFile } from "./durable-file.js";
import { newBatch, noop, type Batch } from "./batch.js";

/** The first file prepared ahead (see the header)... */
const PREPARED_MIN_BYTES = 64 * 1024;
/** ...and the largest: each one after a prepared file filled up is twice as large, up to this. */
const PREPARED_MAX_BYTES = 4 * 1024 * 1024;
/** Zeros written per call while preparing a file. */
const ZERO_PIECE_BYTES = 256 * 1024;
/** After a preparation failed (disk full), none starts again for this long. */
const PREPARE_RETRY_MS = 1000;
/** The file being prepared, under a name replay never reads. */
const PREPARING_FILE = "log-next.tmp";
/** A flush's text is encoded into one buffer kept for the next flushes, up to this size. */
const SCRATCH_MAX_BYTES = 1024 * 1024;

/** How large the files prepared ahead are (see the header); `false`: none, every file grows. */
export type PreparedSizes = { min: number; max: number } | false;

/** A flush of this many lines or more is taken for a concurrent load (see #flushAfterFlush)... */
const GATHER_FROM_LINES = 8;
/** ...and the next one waits at most this long for as many. */
const GATHER_MAX_MS = 5;

export type LogEntry = { c: string; r: unknown } | { c: string; d: string };
/** A line of the log: one mutation, or several that a crash keeps together (`g`). */
type LogLine = LogEntry | { g: LogEntry[] };

/**
 * Lines that may be taken back together (see `CommitLog.withdraw`), by record (a key naming its
 * collection and id): those not flushed yet (their indexes), and the records with a line that
 * left for the disk. `pinned`: a line also held another record; nothing is taken back.
 */
export interface Withdrawable {
  state: "open" | "pinned" | "withdrawn";
  pending: Map<string, number[]>;
  written: Set<string>;
}

export const withdrawable = (): Withdrawable => ({ state: "open", pending: new Map(), written: new Set() });

/** A line's withdrawable, and the records (keys) it holds. */
export interface LineOwner {
  unit: Withdrawable;
  records: string[];
}

/**
 * The owner of a line holding several entries: theirs if they all have the same withdrawable.
 * Otherwise none, and their withdrawables are pinned: such a line (a run's end and the webhook
 * delivery it owes) is never taken back in part.
 */
function groupOwner(owners: (LineOwner | undefined)[]): LineOwner | undefined {
  const unit = owners[0]?.unit;
  if (unit && owners.every((owner) => owner?.unit === unit)) return { unit, records: owners.flatMap((owner) => owner?.records ?? []) };
  for (const owner of owners) if (owner?.unit.state === "open") owner.unit.state = "pinned";
  return undefined;
}

const LOG_FILE = /^log-(\d+)\.ndjson$/;
const logName = (generation: number) => `log-${String(generation).padStart(8, "0")}.ndjson`;

/** The log generations present in `dir`, oldest first. */
export async function logGenerations(dir: string): Promise<number[]> {
  const generations: number[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return generations; // no directory, no log
    throw err;
  }
  for (const name of names) {
    const match = LOG_FILE.exec(name);
    if (match) generations.push(Number(match[1]));
  }
  return generations.sort((a, b) => a - b);
}

/**
 * Calls `apply` for every entry of every log in `dir`, oldest first. A file is read up to its
 * first NUL byte: what follows is the zeros prepared ahead (see the header), never a line.
 */
export async function replayLogs(dir: string, apply: (entry: LogEntry) => void): Promise<number[]> {
  const generations = await logGenerations(dir);
  for (const generation of generations) {
    const file = path.join(dir, logName(generation));
    const bytes = await readFile(file);
    const end = bytes.indexOf(0);
    const lines = bytes.toString("utf8", 0, end === -1 ? bytes.length : end).split("\n");
    lines.forEach((line, i) => {
      if (line === "") return;
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch (err) {
        if (i === lines.length - 1) return; // torn by a crash: never acknowledged
        throw new Error(`corrupt commit log ${file} at line ${i + 1}: ${(err as Error).message}`);
      }
      if ("g" in parsed) parsed.g.forEach(apply);
      else apply(parsed);
    });
  }
  return generations;
}

/** Deletes a file a crash left half prepared (see the header). Call before the log is used. */
export async function removePreparing(dir: string): Promise<void> {
  await unlink(path.join(dir, PREPARING_FILE)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}

/** Writes `length` bytes of `buffer` at `position`, in as many calls as it takes. */
async function writeAt(file: SyncableFile, buffer: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length;) {
    const { bytesWritten } = await file.write(buffer, done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error("the commit log's write wrote nothing");
    done += bytesWritten;
  }
}

let zeroPiece: Buffer | null = null;

/** A file prepared ahead, ready for lines: its first `room` bytes are zeros, written and synced. */
interface LogFile {
  generation: number;
  file: SyncableFile;
  room: number;
}

export class CommitLog {
  readonly #dir: string;
  #generation: number;
  /** The highest generation handed out (to the current file, or a file prepared ahead). */
  #issued: number;
  #file: SyncableFile | null = null;
  /** Bytes written to the current file (where the next write goes)... */
  #offset = 0;
  /** ...and the end of its prepared zeros (0: a file that grows with every write). */
  #room = 0;
  /** Opening the current generation's file (and making its directory entry durable). */
  #opening: Promise<SyncableFile> | null = null;
  /** The file prepared for the next generation, once ready; the preparation under way. */
  #ready: LogFile | null = null;
  #preparing: Promise<void> | null = null;
  /** The size of the next file prepared, and no preparation starts before `#prepareAfter`. */
  #prepareBytes: number;
  #prepareAfter = 0;
  readonly #prepared: PreparedSizes;
  /** Set by `close`: no more files are prepared. */
  #closed = false;
  /** A flush's text as UTF-8 (kept for the next flushes, up to SCRATCH_MAX_BYTES). */
  #scratch: Buffer | null = null;
  #lines: string[] = [];
  #pending: Batch | null = null;
  /** The waiters of the flush in flight. */
  #flushing: Batch | null = null;
  /** While `atomically` runs: the entries it gathers into one line, and when that line is durable. */
  #group: { entries: LogEntry[]; owners: (LineOwner | undefined)[]; durable: Batch } | null = null;
  /** The withdrawables with lines among those not flushed yet. */
  readonly #units = new Set<Withdrawable>();
  #inFlight: Promise<void> | null = null;
  #bytes = 0;
  /** Lines the last flush carried: about how many writers are active. */
  #lastFlushLines = 0;
  #lastSyncMs = 0;
  /** Lines the flush being gathered waits for. */
  #gatherLines = 0;
  /** Waiting for more lines before the next flush (see #flushAfterFlush). */
  #gathering: NodeJS.Timeout | null = null;
  readonly #onGrown: () => void;
  readonly #growLimit: number;
  readonly #io: FileIO;
  /** Lines appended and flushes so far (diagnostics: group commit makes flushes far fewer than lines). */
  appends = 0;
  flushes = 0;
  /** Flushes that wrote past the zeros prepared ahead (growing their file: see the header). */
  grown = 0;

  /**
   * Appends go to generation `generation` (created on first use). `onGrown` is called once the
   * log holds more than `growLimit` bytes since the last rotation (time for a checkpoint).
   * `prepared`: the sizes of the files prepared ahead (see the header).
   */
  constructor(
    dir: string,
    generation: number,
    growLimit: number,
    onGrown: () => void,
    io: FileIO = nodeFileIO,
    prepared: PreparedSizes = { min: PREPARED_MIN_BYTES, max: PREPARED_MAX_BYTES },
  ) {
    this.#io = io;
    this.#dir = dir;
    this.#generation = generation;
    this.#issued = generation;
    this.#prepared = prepared;
    this.#prepareBytes = prepared ? prepared.min : 0;
    this.#growLimit = growLimit;
    this.#onGrown = onGrown;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Resolves once `entry` is on disk (or withdrawn: see `withdraw`). */
  append(entry: LogEntry, owner?: LineOwner): Promise<void> {
    if (this.#group) {
      this.#group.entries.push(entry);
      this.#group.owners.push(owner);
      return this.#group.durable.promise;
    }
    return this.#appendLine(entry, owner);
  }

  /**
   * Takes back the lines appended under `unit` that have not left for the disk: they are never
   * written. Then `unit.written` names the records the disk may hold (they need a deletion line).
   * A pinned unit keeps its lines. Either way `unit` takes no more lines.
   */
  withdraw(unit: Withdrawable): void {
    if (unit.state !== "open") return;
    unit.state = "withdrawn";
    for (const lines of unit.pending.values()) {
      for (const i of lines) {
        this.#bytes -= this.#lines[i].length;
        this.#lines[i] = "";
      }
    }
    unit.pending.clear();
    this.#units.delete(unit);
  }

  /**
   * Runs `writes` (synchronous: it starts mutations and returns their promises); the entries it
   * appends form one line, so a crash keeps all of them or none. Their promises resolve once
   * that line is on disk.
   */
  atomically<T>(writes: () => T): T {
    if (this.#group) return writes(); // already inside a unit: part of it
    const group = { entries: [] as LogEntry[], owners: [] as (LineOwner | undefined)[], durable: newBatch() };
    this.#group = group;
    try {
      return writes();
    } finally {
      this.#group = null;
      const { entries, owners, durable } = group;
      const line =
        entries.length === 1
          ? this.#appendLine(entries[0], owners[0])
          : entries.length > 1
            ? this.#appendLine({ g: entries }, groupOwner(owners))
            : null;
      if (line) line.then(durable.resolve, durable.reject);
      else durable.resolve();
    }
  }

  #appendLine(entry: LogLine, owner?: LineOwner): Promise<void> {
    const line = JSON.stringify(entry) + "\n";
    this.appends++;
    if (owner?.unit.state === "open") {
      const { unit, records } = owner;
      for (const record of records) {
        const lines = unit.pending.get(record);
        if (lines) lines.push(this.#lines.length);
        else unit.pending.set(record, [this.#lines.length]);
      }
      this.#units.add(unit);
    }
    this.#lines.push(line);
    this.#bytes += line.length;
    if (!this.#pending) {
      this.#pending = newBatch();
      if (!this.#inFlight) setImmediate(() => this.#flush());
    }
    const durable = this.#pending.promise;
    if (this.#gathering && this.#lines.length >= this.#gatherLines) this.#flushNow();
    return durable;
  }

  /**
   * The flush after one that carried many writers (a concurrent load): those writers' clients
   * are now sending their next writes, so it waits until they have (as many lines as that flush
   * carried, plus those already waiting), at most half the last fsync's time. Otherwise the few
   * lines already pending get a flush of their own, and every other writer waits for two fsyncs
   * instead of one (measured at 50 concurrent writers: flushes of 44 and 6 lines alternating).
   */
  #flushAfterFlush(): void {
    if (this.#lastFlushLines < GATHER_FROM_LINES) {
      setImmediate(() => this.#flush());
      return;
    }
    this.#gatherLines = this.#lastFlushLines + this.#lines.length;
    this.#gathering = setTimeout(() => this.#flushNow(), Math.min(this.#lastSyncMs / 2, GATHER_MAX_MS));
  }

  #flushNow(): void {
    clearTimeout(this.#gathering ?? undefined);
    this.#gathering = null;
    this.#flush();
  }

  /**
   * Resolves once every line appended so far is on disk. Lines a failed flush kept are flushed
   * again now, so a read can make sure of what it reports: rejects while the disk still fails.
   */
  durable(): Promise<void> {
    if (this.#lines.length > 0 && !this.#pending) {
      this.#pending = newBatch();
      if (!this.#inFlight) setImmediate(() => this.#flush());
    }
    return this.#pending?.promise ?? this.#flushing?.promise ?? Promise.resolve();
  }

  /** Resolves once every entry appended so far has been flushed (or its flush failed). */
  settled(): Promise<void> {
    const last = this.#pending?.promise ?? this.#inFlight;
    return last ? last.then(noop, noop) : Promise.resolve();
  }

  /**
   * Later flushes go to a new generation (entries not flushed yet included). Resolves with the
   * previous one once nothing is being written to it any more. Never waits for a quiet moment,
   * which a steady load would never give.
   */
  async rotate(): Promise<number> {
    while (this.#inFlight) await this.#inFlight;
    const previous = this.#generation;
    this.#switchGeneration("rotate");
    return previous;
  }

  /** Deletes the log files of generations below `generation`, durably. */
  async removeBefore(generation: number): Promise<void> {
    const old = (await logGenerations(this.#dir)).filter((g) => g < generation);
    if (old.length === 0) return;
    for (const g of old) await unlink(path.join(this.#dir, logName(g)));
    await fsyncDir(this.#dir, this.#io);
  }

  /**
   * Flushes what is appended (lines a failed flush kept included) and closes the file. The file
   * prepared ahead is deleted (it holds nothing): a later `removeBefore(generation)` leaves no log.
   */
  async close(): Promise<void> {
    if (this.#lines.length && !this.#pending) {
      this.#pending = newBatch();
      if (!this.#inFlight) this.#flush();
    } else if (this.#gathering) {
      this.#flushNow();
    }
    while (this.#pending || this.#inFlight) await this.settled();
    this.#closed = true;
    await this.#preparing;
    const ready = this.#ready;
    this.#ready = null;
    if (ready) {
      await ready.file.close().catch(noop);
      await unlink(path.join(this.#dir, logName(ready.generation))).catch(noop);
    }
    this.#switchGeneration("close");
  }

  /**
   * Later flushes go to the next generation: the file prepared ahead when one is ready, else a
   * new one, opened by the next flush. The current file is closed. `full`: it had no room left
   * (see #flush); the other reasons also restart the count of bytes towards a checkpoint.
   */
  #switchGeneration(reason: "full" | "rotate" | "failed" | "close"): void {
    const file = this.#file;
    if (reason === "full" && this.#room > 0 && this.#prepared) {
      // a prepared file filled up: the next ones are larger
      this.#prepareBytes = Math.min(this.#prepareBytes * 2, this.#prepared.max);
    } else if (reason !== "full") {
      this.#bytes = 0;
    }
    this.#file = null;
    this.#opening = null;
    this.#offset = 0;
    this.#room = 0;
    const ready = this.#ready;
    this.#ready = null;
    if (ready) {
      // handed out after the current generation, so later in replay's order
      this.#generation = ready.generation;
      this.#file = ready.file;
      this.#room = ready.room;
    } else {
      this.#generation = ++this.#issued;
    }
    void file?.close().catch(noop);
  }

  #openFile(): Promise<SyncableFile> {
    this.#opening ??= (async () => {
      const file = await this.#io.open(path.join(this.#dir, logName(this.#generation)), "w");
      try {
        await fsyncDir(this.#dir, this.#io);
      } catch (err) {
        await file.close();
        throw err;
      }
      this.#file = file;
      return file;
    })();
    return this.#opening;
  }

  /**
   * Starts preparing the next generation's file in the background, unless one is ready or under
   * way (see the header). A failure (disk full) is retried by a flush PREPARE_RETRY_MS later;
   * meanwhile files grow.
   */
  #prepareAhead(): void {
    if (!this.#prepared || this.#ready || this.#preparing || this.#closed || performance.now() < this.#prepareAfter) return;
    this.#preparing = this.#prepare(this.#prepareBytes)
      .catch(() => {
        this.#prepareAfter = performance.now() + PREPARE_RETRY_MS;
        return unlink(path.join(this.#dir, PREPARING_FILE)).catch(noop);
      })
      .finally(() => (this.#preparing = null));
  }

  async #prepare(size: number): Promise<void> {
    const temp = path.join(this.#dir, PREPARING_FILE);
    const preparing = await this.#io.open(temp, "w");
    try {
      zeroPiece ??= Buffer.alloc(ZERO_PIECE_BYTES);
      for (let at = 0; at < size && !this.#closed; at += zeroPiece.length) {
        await writeAt(preparing, zeroPiece, Math.min(zeroPiece.length, size - at), at);
      }
      if (!this.#closed) await preparing.sync();
    } finally {
      await preparing.close();
    }
    if (this.#closed) return unlink(temp);
    // numbered now, so after every generation the log has used so far
    const generation = ++this.#issued;
    const name = path.join(this.#dir, logName(generation));
    await this.#io.rename(temp, name);
    // a log file from here on, holding nothing (replay stops at its first zero)
    await fsyncDir(this.#dir, this.#io);
    const file = await this.#io.open(name, "r+");
    if (this.#closed || generation < this.#generation) {
      // the log moved past it meanwhile (a rotation or failure with nothing ready)
      await file.close();
      return unlink(name);
    }
    this.#ready = { generation, file, room: size };
  }

  /** `text` as UTF-8 in the scratch buffer (or a buffer of its own when large); its byte length. */
  #encode(text: string): { buffer: Buffer; length: number } {
    const length = Buffer.byteLength(text);
    if (length > SCRATCH_MAX_BYTES) return { buffer: Buffer.from(text, "utf8"), length };
    if (!this.#scratch || this.#scratch.length < length) {
      this.#scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX_BYTES, Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(length)))));
    }
    this.#scratch.write(text, 0, "utf8");
    return { buffer: this.#scratch, length };
  }

  /** The lines not flushed yet, which leave for the disk: none of them can be withdrawn any more. */
  #takeLines(): string[] {
    const lines = this.#lines;
    this.#lines = [];
    this.#spillUnits();
    return lines;
  }

  #spillUnits(): void {
    for (const unit of this.#units) {
      for (const record of unit.pending.keys()) unit.written.add(record);
      unit.pending.clear();
    }
    this.#units.clear();
  }

  #flush(): void {
    const batch = this.#pending;
    if (!batch || this.#inFlight) return;
    this.#pending = null;
    this.#flushing = batch;
    const lines = this.#takeLines();
    const text = lines.join("");
    if (text === "") {
      // every line was withdrawn: nothing to write
      this.#lastFlushLines = 0;
      this.#flushing = null;
      batch.resolve();
      return;
    }
    this.flushes++;
    const { buffer, length } = this.#encode(text);
    // no room left in this file: on to the file prepared ahead, if one is ready (else this one grows)
    if (this.#offset + length > this.#room && this.#ready) this.#switchGeneration("full");
    this.#prepareAhead();
    const position = this.#offset;
    this.#offset += length;
    if (this.#offset > this.#room) this.grown++;
    /** Lines appended while the write was on its way, written behind it before the fdatasync. */
    let late: { batch: Batch; lines: string[]; failure: { error: unknown } | null } | null = null;
    const write = (async () => {
      const file = this.#file ?? (await this.#openFile());
      await writeAt(file, buffer, length, position);
      // They share this flush's fdatasync: on disk once it returns, a whole flush earlier. (A run
      // appends its end while its creation's flush is being written: one sync for both.)
      if (this.#pending) {
        late = { batch: this.#pending, lines: this.#takeLines(), failure: null };
        this.#pending = null;
        this.#flushing = late.batch;
        try {
          const lateText = this.#encode(late.lines.join(""));
          const latePosition = this.#offset;
          this.#offset += lateText.length;
          await writeAt(file, lateText.buffer, lateText.length, latePosition);
        } catch (error) {
          // the lines written first are still made durable; only these wait for the next flush
          late.failure = { error };
        }
      }
      const syncStarted = performance.now();
      await file.datasync();
      this.#lastSyncMs = performance.now() - syncStarted;
    })();
    const failed = (unflushed: string[], batches: Batch[], err: unknown) => {
      // the lines wait for the next flush (the next append, or close), in a fresh generation:
      // this file may end torn. No retry here: a full disk would make it a busy loop
      this.#lines = [...unflushed, ...this.#lines];
      // the lines not flushed yet moved: their withdrawables lose track of them (as if written)
      this.#spillUnits();
      this.#switchGeneration("failed");
      const error = new StorageUnavailableError("write to the commit log failed", { cause: err });
      for (const b of batches) b.reject(error);
    };
    this.#inFlight = write.then(
      () => {
        const written = late;
        this.#lastFlushLines = lines.length + (written && !written.failure ? written.lines.length : 0);
        batch.resolve();
        if (written?.failure) failed(written.lines, [written.batch], written.failure.error);
        else written?.batch.resolve();
      },
      (err: unknown) => {
        const written = late;
        this.#lastFlushLines = lines.length;
        failed(written ? [...lines, ...written.lines] : lines, written ? [batch, written.batch] : [batch], err);
      },
    );
    void this.#inFlight.then(() => {
      this.#inFlight = null;
      this.#flushing = null;
      if (this.#pending) this.#flushAfterFlush();
      if (this.#bytes > this.#growLimit) this.#onGrown();
    });
  }
}
