/**
 * A collection of records partitioned into N shard files, fully held in memory.
 *
 * Layout: <dir>/meta.json ({ format, shards }) and <dir>/000.json ... one
 * `Shard` per file. A record lives in shard `hash(shardKey) % N`; the shard key
 * defaults to the record id, and can be another field so that related records
 * (e.g. a thread's checkpoints) share a shard and are written atomically.
 * N is fixed when the collection is created and read back from meta.json.
 *
 * In memory: `Map id -> record` (O(1) get) plus optional secondary indexes
 * `Map key -> ids` (the id alone while it is the only one: most keys of a thread index are). Stored records are never mutated in place: `put`
 * replaces the whole record, which keeps the indexes exact and lets callers
 * hand out references they obtained earlier without locking.
 *
 * A `lazy` collection (checkpoints: most of the data, read a thread at a time) keeps in memory
 * only what its files do not hold yet and the shards in use. Per shard it knows the mutations
 * since its file was last written (`changes`: they stay in memory until a rewrite has them) and
 * the shard keys its file holds records of. A shard no operation used for a while is dropped
 * from memory (`evictIdle`) once no write of it is under way; an operation on a shard key its file
 * holds reads the file back first (`withShard`), and a rewrite (`writeDirtyShards`) reads it
 * back, writes it and drops it again. A key the file does not hold (a new thread) needs no read:
 * its records are all in memory.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { StorageUnavailableError } from "../errors.js";
import type { CommitLog, LogEntry, Withdrawable } from "./commit-log.js";
import { DurableJsonFile, fsyncDir, nodeFileIO, removeStaleTemps, type FileIO } from "./durable-file.js";
import { shardOf } from "./hash.js";
import { Shard } from "./shard.js";

export type IndexKey = string | null | undefined;

export interface CollectionOptions<T> {
  /** Directory of this collection (created if missing). */
  dir: string;
  /** Shard count for a new collection; an existing one keeps its own. */
  shards: number;
  idOf(record: T): string;
  /** Defaults to idOf. Must not change over a record's life. */
  shardKeyOf?(record: T): string;
  /** Secondary equality indexes: name -> key of a record (null/undefined = not indexed). */
  indexes?: Record<string, (record: T) => IndexKey>;
  /** File calls of durable writes (tests substitute a recording one). */
  io?: FileIO;
  /**
   * Shards leave memory when idle (see the file comment). Reads, deletes and whole-collection
   * reads must then go through `withShard` and `holdAll`; puts need not.
   */
  lazy?: boolean;
  /**
   * The newest record under each key of one index, by `newer` (checkpoints: a thread's latest
   * in a namespace), kept as records come and go so that `newest` need not scan the key's
   * records (a thread's whole history). Forgetting the newest marks its key for one scan at the
   * next `newest`.
   */
  newest?: {
    index: string;
    newer: (a: T, b: T) => boolean;
    /**
     * Heads: the records that stay in memory when their shard leaves it (see `withHeads`), given
     * the collection as it then is (`newest` without a scan): checkpoints, a thread's newest in
     * each namespace and its writes. Absent: none stay.
     */
    head?: (record: T, held: HeldRecords<T>) => boolean;
  };
}

/** What `CollectionOptions.newest.head` reads: records in memory, each key's newest (no scan). */
export interface HeldRecords<T> {
  get(id: string): T | undefined;
  newest(key: string): T | undefined;
  /** Whether memory holds a change of `id` its shard's file lacks (it stays in memory, head or not). */
  unwritten(id: string): boolean;
}

/** A deletion its shard's file may not have yet: a new object each time (see `#rewrite`). */
class Deleted {
  constructor(readonly shardKey: string) {}
}

/** What a lazy collection knows of one shard. */
interface Lazy<T> {
  /** Mutations since the shard's file was last written (id -> the record or its deletion). */
  readonly changes: Map<string, T | Deleted>;
  /** The shard key of every record in the file (and at times more). */
  fileKeys: Set<string>;
  /** Rewrites of the file under way, past taking what they clear from `changes`. */
  writing: number;
  /**
   * Ids in `changes` whose record the file cannot hold: put while memory held the whole shard
   * (or the file none of its key's records) and absent from it, and while no write of the shard
   * waited to serialize memory (Shard.snapshotPending), and not taken by a write since.
   * A rewrite whose changes are all such records (or of keys the file lacks) appends them to the
   * file's text instead of serializing the shard again (a used thread's new checkpoints).
   */
  readonly fresh: Set<string>;
  /**
   * Ids in `changes` whose entry may be added to the file's text though the file may hold an older
   * one of theirs (the last entry of an id is the one read back): put `appendable: "replaces"`.
   * Unlike a fresh one, a deletion of theirs must still reach the file.
   */
  readonly replacing: Set<string>;
  /** Operations that need the shard in memory until they end. */
  pins: number;
  /** When the last operation that needed the file's records ended (performance.now()). */
  lastUsed: number;
  /** While the file is read back: the operations waiting for it, run in order in one step once it is. */
  loading: Array<(error?: unknown) => void> | null;
  /**
   * While the shard is out of memory: the shard keys whose heads memory holds (withHeads), and
   * the ids of the heads it holds (with `changes`, every record memory holds of the shard).
   */
  readonly headed: Set<string>;
  readonly heads: Set<string>;
}

/** Shard keys whose heads stay in memory at most, the least recently used leaving first. */
const HEADED_KEYS_MAX = 1024;

/** Shards a checkpoint of a lazy collection reads back and rewrites at a time. */
const REWRITES_AT_ONCE = 64;

interface Meta {
  format: 1;
  shards: number;
}

const META_FILE = "meta.json";

export function shardFileName(index: number): string {
  return `${String(index).padStart(3, "0")}.json`;
}

export class Collection<T> {
  readonly #opts: CollectionOptions<T>;
  readonly #shards: Shard<T>[];
  readonly #byId = new Map<string, T>();
  readonly #indexes = new Map<string, { keyOf: (r: T) => IndexKey; ids: Map<string, Bucket> }>();
  /**
   * See CollectionOptions.newest: by key, its newest record, or STALE when the newest was
   * forgotten and the key's other records not scanned since. A key absent here has no records.
   */
  readonly #newest = new Map<string, T | typeof STALE>();
  #closed = false;
  #log: CommitLog | null = null;
  #logName = "";
  /** The withdrawable a record's lines go under, by its shard key (see attachLog). */
  #withdrawableOf: (shardKey: string) => Withdrawable | undefined = () => undefined;
  /** Shards changed since their file was last rewritten (when a log holds the changes). */
  readonly #dirty = new Set<Shard<T>>();
  /** Per shard, the log flush its latest mutation waits for. */
  readonly #unlogged = new Map<Shard<T>, Promise<void>>();
  /**
   * Shards holding a change whose log flush failed (disk full, I/O error) and that no flush has
   * carried since: memory is ahead of disk there (the log keeps the lines for its next flush).
   */
  readonly #undurable = new Set<Shard<T>>();
  /** Lazy collections only: per shard, see `Lazy`. */
  readonly #lazy: Map<Shard<T>, Lazy<T>> | null;
  /**
   * Collections held whole, once a log is attached: per shard, the records changed since its file
   * was last written (a log checkpoint appends them: see #writeChanged), and the shards whose next
   * write must be whole (changed by the replay at open, before any of this was tracked).
   */
  readonly #changed = new Map<Shard<T>, Map<string, T | Deleted>>();
  readonly #whole = new Set<Shard<T>>();
  /**
   * Of those changed records, the ids whose shard file cannot hold them: new ids, put while no
   * whole write of their shard waited to serialize memory, and in no write since. Their deletion
   * leaves nothing for the file (a stateless run's temporary thread and run, gone before the log
   * checkpoint that would have written them), so it does not force a whole rewrite.
   */
  readonly #unwritten = new Set<string>();
  /** Shard keys whose heads memory holds while their shard is out (Lazy.headed), least recently used first. */
  readonly #headedKeys = new Map<string, Lazy<T>>();
  readonly #held: HeldRecords<T> = {
    get: (id) => this.#byId.get(id),
    newest: (key) => {
      const known = this.#newest.get(key);
      return known === STALE ? undefined : known;
    },
    unwritten: (id) => {
      const record = this.#byId.get(id);
      return record !== undefined && this.#lazy?.get(this.#shardFor(record))?.changes.has(id) === true;
    },
  };

  private constructor(opts: CollectionOptions<T>, shards: Shard<T>[]) {
    this.#opts = opts;
    this.#shards = shards;
    this.#lazy = opts.lazy
      ? new Map(
          shards.map((shard) => [
            shard,
            {
              changes: new Map(),
              fileKeys: this.#keysOf(shard),
              writing: 0,
              fresh: new Set(),
              replacing: new Set(),
              pins: 0,
              lastUsed: 0,
              loading: null,
              headed: new Set(),
              heads: new Set(),
            },
          ]),
        )
      : null;
    for (const [name, keyOf] of Object.entries(opts.indexes ?? {})) {
      this.#indexes.set(name, { keyOf, ids: new Map() });
    }
  }

  /** Opens (or creates) the collection and loads every shard into memory. */
  static async open<T>(opts: CollectionOptions<T>): Promise<Collection<T>> {
    await mkdir(opts.dir, { recursive: true });
    await removeStaleTemps(opts.dir);
    const io = opts.io ?? nodeFileIO;
    const metaFile = new DurableJsonFile<Meta>(path.join(opts.dir, META_FILE), io);
    let meta = await metaFile.read();
    if (!meta) {
      if (!Number.isInteger(opts.shards) || opts.shards < 1 || opts.shards > 4096) {
        throw new Error(`invalid shard count ${opts.shards}`);
      }
      meta = { format: 1, shards: opts.shards };
      await metaFile.write(meta);
      await fsyncDir(path.dirname(opts.dir), io);
    }
    if (meta.format !== 1 || !Number.isInteger(meta.shards) || meta.shards < 1) {
      throw new Error(`unsupported collection metadata in ${opts.dir}`);
    }
    const shards = Array.from({ length: meta.shards }, (_, i) => new Shard<T>(path.join(opts.dir, shardFileName(i)), opts.idOf, io));
    await Promise.all(shards.map((s) => s.load()));
    const collection = new Collection(opts, shards);
    for (const shard of shards) {
      for (const record of shard.records.values()) collection.#remember(record);
    }
    return collection;
  }

  /** Records in memory (a lazy collection's others are in files only). */
  get size(): number {
    return this.#byId.size;
  }

  /** A lazy collection's mutations held in memory until their shard's file has them. */
  get unwritten(): number {
    let held = 0;
    for (const lazy of this.#lazy?.values() ?? []) held += lazy.changes.size;
    return held;
  }

  get shardCount(): number {
    return this.#shards.length;
  }

  /** The stored record (shared, never to be mutated) or undefined. O(1). */
  get(id: string): T | undefined {
    return this.#byId.get(id);
  }

  /** All records, in no particular order. */
  values(): IterableIterator<T> {
    return this.#byId.values();
  }

  /** Every record at this moment (the stored ones: never mutated in place), in no particular order. */
  snapshot(): T[] {
    return [...this.#byId.values()];
  }

  /** The id of a record. */
  idOf(record: T): string {
    return this.#opts.idOf(record);
  }

  /** Ids whose `index` key equals `key`; undefined if there is no such index. */
  lookup(index: string, key: string): Iterable<string> | undefined {
    const idx = this.#indexes.get(index);
    if (!idx) return undefined;
    const bucket = idx.ids.get(key);
    return bucket === undefined ? EMPTY : typeof bucket === "string" ? [bucket] : bucket;
  }

  /**
   * The newest record under `key` of the index named in CollectionOptions.newest (undefined
   * when it has none): kept as records are put, so only the first read after the newest left
   * memory or was deleted scans the key's records.
   */
  newest(key: string): T | undefined {
    const newest = this.#opts.newest!;
    const known = this.#newest.get(key);
    if (known !== STALE) return known;
    let best: T | undefined;
    for (const record of this.#records(this.lookup(newest.index, key)!)) if (best === undefined || newest.newer(record, best)) best = record;
    if (best === undefined) this.#newest.delete(key);
    else this.#newest.set(key, best);
    return best;
  }

  /**
   * Candidate records for a query: those listed in `ids` if given, else those in
   * the smallest of the given index buckets, else all. Callers still apply their
   * full predicate; this only narrows what gets scanned. (Plain arrays and the
   * Map's own iterator: a generator here would cost more than the scan itself.)
   */
  candidates(eq: ReadonlyArray<readonly [index: string, key: string]>, ids?: readonly string[]): Iterable<T> {
    if (ids) return this.#records(new Set(ids));
    let best: Iterable<string> | undefined;
    let bestSize = Infinity;
    for (const [index, key] of eq) {
      const idx = this.#indexes.get(index);
      if (!idx) continue;
      const bucket = idx.ids.get(key);
      const size = bucket === undefined ? 0 : typeof bucket === "string" ? 1 : bucket.size;
      if (size < bestSize) [best, bestSize] = [this.lookup(index, key), size];
    }
    return best ? this.#records(best) : this.#byId.values();
  }

  #records(ids: Iterable<string>): T[] {
    const out: T[] = [];
    for (const id of ids) {
      const record = this.#byId.get(id);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  /**
   * Inserts or replaces a record. Resolves once it is durable. `appendable` (lazy collections),
   * what the caller knows of the shard's file: "new", it holds no entry of the record's id (see
   * Lazy.fresh); "replaces", it may hold one, which this record replaces (Lazy.replacing). Either
   * way a log checkpoint may add the record's entry to the file's text rather than rewrite it.
   */
  put(record: T, options: { appendable?: "new" | "replaces" } = {}): Promise<void> {
    this.#assertOpen();
    const shard = this.#putInMemory(record, options.appendable);
    return this.#commit(shard, () => ({ c: this.#logName, r: record }), record);
  }

  /** Deletes a record; resolves once durable. Returns false if there was none. */
  async delete(id: string): Promise<boolean> {
    this.#assertOpen();
    const previous = this.#byId.get(id);
    const shard = this.#deleteInMemory(id);
    if (!shard) return false;
    await this.#commit(shard, () => ({ c: this.#logName, d: id }), previous!);
    return true;
  }

  /**
   * From now on a mutation is durable once `log` holds it (one fsync shared by every mutation
   * of a flush); shard files catch up at `writeDirtyShards`. Without a log, each mutation waits
   * for its shard's next durable rewrite. A record's mutations go under `withdrawableOf` its
   * shard key (CommitLog.withdraw); once that is withdrawn, its deletion writes nothing unless
   * one of its lines left for the disk.
   */
  attachLog(name: string, log: CommitLog, withdrawableOf?: (shardKey: string) => Withdrawable | undefined): void {
    this.#logName = name;
    this.#log = log;
    if (withdrawableOf) this.#withdrawableOf = withdrawableOf;
  }

  /** Replays a logged mutation (at open, before any request): memory now, shard at the next checkpoint. */
  applyLogged(entry: LogEntry): void {
    const shard = "r" in entry ? this.#putInMemory(entry.r as T) : this.#deleteInMemory(entry.d);
    if (!shard) return;
    this.#dirty.add(shard);
    if (!this.#lazy) this.#whole.add(shard);
  }

  /** Rewrites, durably, every shard changed since the last call (a checkpoint of the log). */
  async writeDirtyShards(): Promise<void> {
    const shards = [...this.#dirty];
    this.#dirty.clear();
    const results = this.#lazy
      ? await settleAtMost(REWRITES_AT_ONCE, shards, (shard) => this.#rewrite(shard))
      : await Promise.allSettled(shards.map((shard) => this.#writeChanged(shard)));
    const failed = results.findIndex((r) => r.status === "rejected");
    if (failed >= 0) {
      results.forEach((r, i) => r.status === "rejected" && this.#dirty.add(shards[i]));
      throw (results[failed] as PromiseRejectedResult).reason;
    }
  }

  /**
   * Resolves once the shard holding `id` has no write pending, so that a read
   * never reports state that a crash could still take back. Rejects (StorageUnavailableError)
   * when that state cannot be made durable: its flush failed, and so does a new one.
   */
  settled(id: string): Promise<void> {
    const record = this.#byId.get(id);
    if (record === undefined) return Promise.resolve();
    const shard = this.#shardFor(record);
    const pending = this.#unlogged.get(shard);
    if (pending) return pending;
    if (this.#undurable.has(shard)) return this.#log!.durable().then(() => void this.#undurable.delete(shard));
    return shard.settled();
  }

  /** Resolves once every shard has no write pending. */
  async flush(): Promise<void> {
    while (!this.#shards.every((s) => s.idle)) {
      await Promise.all(this.#shards.map((s) => s.settled()));
    }
  }

  /** Flushes, then rejects further mutations. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #putInMemory(record: T, appendable?: "new" | "replaces"): Shard<T> {
    const id = this.#opts.idOf(record);
    const previous = this.#byId.get(id);
    const shard = this.#shardFor(record);
    if (previous !== undefined) {
      if (this.#shardFor(previous) !== shard) throw new Error(`shard key of '${id}' changed`);
      this.#forget(id, previous);
    }
    if (shard.resident) shard.records.set(id, record);
    this.#remember(record);
    if (!this.#lazy && this.#log) this.#trackPut(shard, id, previous === undefined, record);
    const lazy = this.#lazy?.get(shard);
    if (lazy) {
      // out of the file (see Lazy.fresh): a new id while memory holds the whole shard (or the file
      // none of its key), unless its deletion is still to be written; or a fresh one put again
      const undeleted = !(lazy.changes.get(id) instanceof Deleted);
      const fresh =
        !shard.snapshotPending &&
        (previous === undefined
          ? undeleted && (appendable === "new" || shard.resident || !lazy.fileKeys.has(this.#shardKey(record)))
          : lazy.fresh.has(id));
      lazy.changes.set(id, record);
      if (fresh) lazy.fresh.add(id);
      else lazy.fresh.delete(id);
      if (!fresh && appendable === "replaces" && undeleted && !shard.snapshotPending) lazy.replacing.add(id);
      else lazy.replacing.delete(id);
    }
    return shard;
  }

  #deleteInMemory(id: string): Shard<T> | undefined {
    const previous = this.#byId.get(id);
    if (previous === undefined) return undefined;
    const shard = this.#shardFor(previous);
    if (shard.resident) shard.records.delete(id);
    this.#forget(id, previous);
    if (!this.#lazy && this.#log) this.#trackDeletion(shard, id, previous);
    const lazy = this.#lazy?.get(shard);
    if (lazy) {
      // a record the file cannot hold (a temporary thread's, say) leaves nothing behind
      const key = this.#shardKey(previous);
      if ((lazy.writing === 0 && !lazy.fileKeys.has(key)) || lazy.fresh.has(id)) lazy.changes.delete(id);
      else lazy.changes.set(id, new Deleted(key));
      lazy.fresh.delete(id);
      lazy.replacing.delete(id);
    }
    return shard;
  }

  #commit(shard: Shard<T>, entry: () => LogEntry, record: T): Promise<void> {
    if (!this.#log) return this.#rewrite(shard);
    const unit = this.#withdrawableOf(this.#shardKey(record));
    const owner = unit && { unit, records: [`${this.#logName}/${this.#opts.idOf(record)}`] };
    const line = entry();
    // a deletion of what the disk never held (its lines were withdrawn): nothing to write
    if (owner?.unit.state === "withdrawn" && "d" in line && !owner.unit.written.has(owner.records[0])) {
      this.#changed.get(shard)?.delete(this.#opts.idOf(record));
      this.#unwritten.delete(this.#opts.idOf(record));
      return Promise.resolve();
    }
    this.#dirty.add(shard);
    const durable = this.#log.append(line, owner);
    this.#unlogged.set(shard, durable);
    const forget = () => {
      if (this.#unlogged.get(shard) === durable) this.#unlogged.delete(shard);
    };
    // flushes complete in order, and a flush carries the lines a failed one kept
    durable.then(
      () => {
        forget();
        this.#undurable.delete(shard);
      },
      () => {
        forget();
        this.#undurable.add(shard);
      },
    );
    return durable;
  }

  /** Total shard writes so far (group commit makes this <= mutations). */
  get writes(): number {
    return this.#shards.reduce((n, s) => n + s.writes, 0);
  }

  /** Longest synchronous part of any shard write so far, in ms. */
  get maxWriteBlockMs(): number {
    return this.#shards.reduce((m, s) => Math.max(m, s.maxBlockMs), 0);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageUnavailableError(`collection ${this.#opts.dir} is closed`);
  }

  #shardKey(record: T): string {
    return (this.#opts.shardKeyOf ?? this.#opts.idOf)(record);
  }

  #shardFor(record: T): Shard<T> {
    return this.#shardOfKey(this.#shardKey(record));
  }

  #shardOfKey(key: string): Shard<T> {
    return this.#shards[shardOf(key, this.#shards.length)];
  }

  #keysOf(shard: Shard<T>): Set<string> {
    const keys = new Set<string>();
    for (const record of shard.records.values()) keys.add(this.#shardKey(record));
    return keys;
  }

  /**
   * Runs `work` once the records of shard key `key` are all in memory, and keeps its shard there
   * until the promise `work` returns settles. At once (synchronously) when they already are, so
   * mutations it starts can join a commit-log record (`CommitLog.atomically`) around the call.
   * Operations on one shard run in the order of their calls.
   */
  withShard<R>(key: string, work: () => R | Promise<R>): Promise<R> {
    const shard = this.#shardOfKey(key);
    const lazy = this.#lazy?.get(shard);
    if (!lazy) return run(work);
    // pinned even when the file holds nothing of `key`: a rewrite while `work` waits could
    // otherwise move its records into the file and drop them from memory
    lazy.pins++;
    const usesFile = lazy.fileKeys.has(key);
    const waits = lazy.loading !== null || (!shard.resident && usesFile);
    return (waits ? this.#whenLoaded(shard, lazy, work) : run(work)).finally(() => this.#unpin(lazy, usesFile));
  }

  /**
   * As `withShard`, for work that needs only the heads of `key` (CollectionOptions.newest.head)
   * and records it put itself: when the shard is out of memory and its heads of `key` are in,
   * `work` runs at once without reading the file back. Whatever else it reads may be missing.
   */
  withHeads<R>(key: string, work: () => R | Promise<R>): Promise<R> {
    const shard = this.#shardOfKey(key);
    const lazy = this.#lazy?.get(shard);
    if (!lazy || shard.resident || lazy.loading !== null || !lazy.headed.has(key)) return this.withShard(key, work);
    this.#touchHeaded(key, lazy);
    lazy.pins++;
    return run(work).finally(() => this.#unpin(lazy, false));
  }

  /** Runs `work` (synchronous) with every record in memory: whole-collection reads of a lazy collection. */
  async holdAll<R>(work: () => R): Promise<R> {
    if (!this.#lazy) return work();
    const all = [...this.#lazy];
    for (const [, lazy] of all) lazy.pins++;
    try {
      for (const [shard, lazy] of all) if (!shard.resident || lazy.loading) await this.#whenLoaded(shard, lazy, () => undefined);
      return work();
    } finally {
      for (const [, lazy] of all) this.#unpin(lazy);
    }
  }

  /**
   * Drops from memory the records of shards no operation has used for `idleMs`, that no write
   * is on its way to, and that their files hold (those in `changes` stay). Needs the commit log:
   * without it a mutation rewrites its shard at once. Returns how many shards it dropped.
   */
  evictIdle(idleMs: number): number {
    if (!this.#lazy || !this.#log) return 0;
    const now = performance.now();
    let evicted = 0;
    for (const [shard, lazy] of this.#lazy) {
      if (now - lazy.lastUsed >= idleMs && this.#evict(shard, lazy)) evicted++;
    }
    return evicted;
  }

  #evict(shard: Shard<T>, lazy: Lazy<T>): boolean {
    if (!shard.resident || lazy.pins > 0 || lazy.loading || !shard.idle) return false;
    const head = this.#opts.newest?.head;
    if (head) {
      // every key's newest known while the whole shard is in memory
      const { keyOf } = this.#indexes.get(this.#opts.newest!.index)!;
      for (const record of shard.records.values()) {
        const key = keyOf(record);
        if (key != null) this.newest(key);
      }
    }
    // decided before any leaves: what is a head may depend on others (a checkpoint's writes on it)
    const leaving: Array<[string, T]> = [];
    for (const [id, record] of shard.records) {
      if (lazy.changes.has(id)) continue;
      if (head?.(record, this.#held)) lazy.heads.add(id);
      else leaving.push([id, record]);
    }
    for (const [id, record] of leaving) this.#forget(id, record);
    const keys = head ? this.#keysOf(shard) : [];
    shard.release();
    for (const key of keys) this.#touchHeaded(key, lazy);
    return true;
  }

  /** `key`'s heads are in memory (Lazy.headed), most recently used; the least recently used key's leave when too many are. */
  #touchHeaded(key: string, lazy: Lazy<T>): void {
    this.#headedKeys.delete(key);
    this.#headedKeys.set(key, lazy);
    lazy.headed.add(key);
    if (this.#headedKeys.size <= HEADED_KEYS_MAX) return;
    const [oldest, of] = this.#headedKeys.entries().next().value!;
    this.#headedKeys.delete(oldest);
    of.headed.delete(oldest);
    for (const id of of.heads) {
      const record = this.#byId.get(id);
      if (record === undefined || this.#shardKey(record) !== oldest) continue;
      of.heads.delete(id);
      if (!of.changes.has(id)) this.#forget(id, record);
    }
  }

  /** The shard is in memory again: no heads apart. */
  #unhead(lazy: Lazy<T>): void {
    for (const key of lazy.headed) this.#headedKeys.delete(key);
    lazy.headed.clear();
    lazy.heads.clear();
  }

  /** `used`: the operation needed the file's records (what keeps a shard in memory). */
  #unpin(lazy: Lazy<T>, used = true): void {
    lazy.pins--;
    if (used) lazy.lastUsed = performance.now();
  }

  /** Runs `work` once the shard's file is read back (in order with the others waiting). */
  #whenLoaded<R>(shard: Shard<T>, lazy: Lazy<T>, work: () => R | Promise<R>): Promise<R> {
    const promise = new Promise<R>((resolve, reject) => {
      const waiting = lazy.loading ?? (lazy.loading = []);
      waiting.push((error) => {
        if (error !== undefined) reject(error);
        else run(work).then(resolve, reject);
      });
    });
    if (lazy.loading!.length === 1 && !shard.resident) this.#load(shard, lazy);
    else if (lazy.loading!.length === 1) this.#loaded(lazy); // resident already (cannot wait behind nothing)
    return promise;
  }

  /** Reads the shard's file back into memory: the file's records, then the changes since it was written. */
  #load(shard: Shard<T>, lazy: Lazy<T>): void {
    shard.readRecords().then(
      (records) => {
        for (const [id, change] of lazy.changes) {
          if (change instanceof Deleted) records.delete(id);
          else records.set(id, change);
        }
        for (const [id, record] of records) {
          if (lazy.changes.has(id)) continue;
          // a head memory held meanwhile: the same record, and the one the indexes know
          const held = this.#byId.get(id);
          if (held !== undefined) records.set(id, held);
          else this.#remember(record);
        }
        this.#unhead(lazy);
        shard.hold(records);
        this.#loaded(lazy);
      },
      (err: unknown) => this.#loaded(lazy, new StorageUnavailableError(`reading ${this.#opts.dir} failed`, { cause: err })),
    );
  }

  #loaded(lazy: Lazy<T>, error?: unknown): void {
    const waiting = lazy.loading ?? [];
    lazy.loading = null;
    for (const next of waiting) next(error);
  }

  /**
   * Writes the shard's file (a lazy one read back first, and dropped again after unless in use):
   * the changes it then holds leave `changes`. Each deletion is its own object, so a change made
   * again after the write started stays.
   */
  async #rewrite(shard: Shard<T>): Promise<void> {
    const lazy = this.#lazy?.get(shard);
    if (!lazy) return shard.commit();
    // only what the file never held, gone again (a stateless run's checkpoints): nothing to write
    if (lazy.changes.size === 0) return;
    const wasResident = shard.resident && !lazy.loading;
    if (!lazy.loading && shard.idle && this.#onlyNewRecords(lazy) && (await this.#append(shard, lazy))) return;
    const started = performance.now();
    lazy.pins++;
    try {
      if (!wasResident) await this.#whenLoaded(shard, lazy, () => undefined);
      lazy.writing++;
      // the shard's serialization will hold them all
      lazy.fresh.clear();
      lazy.replacing.clear();
      let written = false;
      try {
        const taken = new Map(lazy.changes);
        await shard.commit();
        written = true;
        for (const [id, change] of taken) if (lazy.changes.get(id) === change) lazy.changes.delete(id);
      } finally {
        lazy.writing--;
        // the file holds what memory held when the write began: what memory holds now, and what
        // changed since; after a failure the file may still be the old one, or the new one
        const keys = this.#keysOf(shard);
        for (const change of lazy.changes.values()) keys.add(change instanceof Deleted ? change.shardKey : this.#shardKey(change));
        if (!written) for (const key of lazy.fileKeys) keys.add(key);
        lazy.fileKeys = keys;
      }
    } finally {
      lazy.pins--;
    }
    // read back only for this write, and used by no operation since: out again, once the write
    // has let go of it (its waiters hear of it first)
    if (!wasResident && this.#log) {
      await shard.settled();
      if (lazy.lastUsed < started) this.#evict(shard, lazy);
    }
  }

  /** A collection held whole: `record` put as `id`, new to memory or not (see #unwritten). */
  #trackPut(shard: Shard<T>, id: string, isNew: boolean, record: T): void {
    const changes = this.#changesOf(shard);
    const unwritten = !shard.snapshotPending && !this.#whole.has(shard) && (isNew ? !(changes.get(id) instanceof Deleted) : this.#unwritten.has(id));
    changes.set(id, record);
    if (unwritten) this.#unwritten.add(id);
    else this.#unwritten.delete(id);
  }

  /** A collection held whole: `id` (`previous`) deleted; nothing for the file if it never held it. */
  #trackDeletion(shard: Shard<T>, id: string, previous: T): void {
    if (this.#unwritten.delete(id)) this.#changed.get(shard)?.delete(id);
    else this.#changesOf(shard).set(id, new Deleted(this.#shardKey(previous)));
  }

  #changesOf(shard: Shard<T>): Map<string, T | Deleted> {
    let changes = this.#changed.get(shard);
    if (!changes) this.#changed.set(shard, (changes = new Map()));
    return changes;
  }

  /** The file is about to hold these changes' records (or, whole, every record memory holds). */
  #written(ids: Iterable<string>): void {
    for (const id of ids) this.#unwritten.delete(id);
  }

  /**
   * A log checkpoint's write of a shard of a collection held whole in memory: the records changed
   * since its file was last written, as a segment at the file's end (`Shard.appendRecords`: a
   * thread's runs shard gets its new and updated runs, not its history again), or the whole shard
   * when a deletion is among them, the file may lack more (changed by the replay at open), or its
   * segments outgrew it (records updated again and again: `Shard.segmentsOutgrown`).
   */
  async #writeChanged(shard: Shard<T>): Promise<void> {
    const changes = this.#changed.get(shard) ?? new Map<string, T | Deleted>();
    if (changes.size === 0 && !this.#whole.has(shard)) return; // only what the disk never held, gone again
    const taken = new Map(changes);
    let puts: T[] | null = this.#whole.has(shard) || !shard.idle || shard.segmentsOutgrown ? null : [];
    for (const change of taken.values()) {
      if (change instanceof Deleted) puts = null;
      else puts?.push(change);
    }
    if (puts !== null) this.#written(taken.keys());
    if (puts === null || !(await shard.appendRecords(puts))) {
      this.#whole.delete(shard);
      this.#written(this.#changed.get(shard)?.keys() ?? []);
      try {
        await shard.commit();
      } catch (error) {
        this.#whole.add(shard);
        throw error;
      }
    }
    // what the file now holds leaves; a change made again meanwhile stays for the next write
    for (const [id, change] of taken) if (changes.get(id) === change) changes.delete(id);
    if (changes.size === 0 && this.#changed.get(shard) === changes) this.#changed.delete(shard);
  }

  /** Whether every change is a record the file cannot hold or may replace there (Lazy.fresh, .replacing): they can be appended to its text. */
  #onlyNewRecords(lazy: Lazy<T>): boolean {
    for (const [id, change] of lazy.changes) {
      if (change instanceof Deleted || (lazy.fileKeys.has(this.#shardKey(change)) && !lazy.fresh.has(id) && !lazy.replacing.has(id))) return false;
    }
    return true;
  }

  /**
   * The rewrite of a shard whose file holds none of the changed records (new threads' records, or
   * a used thread's new checkpoints: see Lazy.fresh): their entries are added to the file's text,
   * which is neither parsed nor serialized again, and then leave memory unless the shard is in
   * memory. False when the file is not in the form that allows it (nothing written).
   */
  async #append(shard: Shard<T>, lazy: Lazy<T>): Promise<boolean> {
    const taken = new Map(lazy.changes) as Map<string, T>;
    // keys whose heads memory will hold once the file has these records: new ones, and those it holds already
    const headable = new Set<string>();
    for (const record of taken.values()) {
      const key = this.#shardKey(record);
      if (!lazy.fileKeys.has(key) || lazy.headed.has(key)) headable.add(key);
    }
    lazy.pins++;
    lazy.writing++;
    // once in the file, a record put again replaces an entry there (a rewrite); those put meanwhile stay fresh
    for (const id of taken.keys()) {
      lazy.fresh.delete(id);
      lazy.replacing.delete(id);
    }
    let appended = false;
    try {
      appended = await shard.appendRecords(taken.values());
    } finally {
      lazy.writing--;
      lazy.pins--;
      // after a failure the file may be the old one or the new one: it may hold them
      for (const record of taken.values()) lazy.fileKeys.add(this.#shardKey(record));
    }
    if (!appended) return false;
    // what the file now holds leaves `changes`, and memory unless the shard was read back
    // meanwhile; it all stays while an operation holds the shard (a read-back under way among
    // them: it puts the changes over what it read, maybe the file before this write)
    const head = this.#opts.newest?.head;
    if (!shard.resident && lazy.pins > 0) {
      // the file holds them now: the next log checkpoint adds them again (the last entry of an id
      // is the one read back) rather than rewriting the shard whole, as it must for changes the
      // file may lack (a busy thread's shard would otherwise be rewritten at every other one)
      for (const [id, record] of taken) if (lazy.changes.get(id) === record) lazy.replacing.add(id);
      // memory holds these keys' heads still (as changes), unless a read-back is bringing it all
      if (head && lazy.loading === null) for (const key of headable) this.#touchHeaded(key, lazy);
      return true;
    }
    const written: Array<[string, T]> = [];
    for (const [id, record] of taken) {
      if (lazy.changes.get(id) !== record) continue;
      lazy.changes.delete(id);
      if (!shard.resident) written.push([id, record]);
    }
    if (shard.resident) return true;
    // what stays is decided before any leaves (see #evict): the new heads, not those they replaced
    const leaving: Array<[string, T]> = [];
    for (const [id, record] of written) {
      if (head && headable.has(this.#shardKey(record)) && head(record, this.#held)) lazy.heads.add(id);
      else leaving.push([id, record]);
    }
    for (const id of lazy.heads) {
      const record = this.#byId.get(id);
      if (record === undefined) lazy.heads.delete(id);
      else if (!lazy.changes.has(id) && !head!(record, this.#held)) leaving.push([id, record]);
    }
    for (const [id, record] of leaving) {
      lazy.heads.delete(id);
      this.#forget(id, record);
    }
    for (const key of headable) this.#touchHeaded(key, lazy);
    return true;
  }

  #remember(record: T): void {
    const id = this.#opts.idOf(record);
    this.#byId.set(id, record);
    for (const [name, { keyOf, ids }] of this.#indexes) {
      const key = keyOf(record);
      if (key == null) continue;
      const bucket = ids.get(key);
      if (bucket === undefined) ids.set(key, id);
      else if (typeof bucket !== "string") bucket.add(id);
      else if (bucket !== id) ids.set(key, new Set([bucket, id]));
      if (name === this.#opts.newest?.index) {
        const known = this.#newest.get(key);
        // a stale key stays so: a record of it not in memory might be newer than this one
        if (known === undefined ? bucket === undefined : known !== STALE && this.#opts.newest.newer(record, known)) this.#newest.set(key, record);
        else if (known === undefined) this.#newest.set(key, STALE);
      }
    }
  }

  #forget(id: string, record: T): void {
    this.#byId.delete(id);
    for (const [name, { keyOf, ids }] of this.#indexes) {
      const key = keyOf(record);
      if (key == null) continue;
      const bucket = ids.get(key);
      if (bucket === id) ids.delete(key);
      else if (typeof bucket === "object") {
        bucket.delete(id);
        if (bucket.size === 1) ids.set(key, bucket.values().next().value!);
      }
      if (name === this.#opts.newest?.index) {
        if (!ids.has(key)) this.#newest.delete(key);
        else if (this.#newest.get(key) === record) this.#newest.set(key, STALE);
      }
    }
  }
}

const EMPTY: readonly string[] = [];

/** See Collection.#newest. */
const STALE = Symbol("stale");

/** The ids under one index key: the id alone, or a Set of two or more. */
type Bucket = string | Set<string>;

function run<R>(work: () => R | Promise<R>): Promise<R> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Promise.allSettled over `items`, at most `limit` of them under way at a time. */
async function settleAtMost<I>(limit: number, items: I[], each: (item: I) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await each(items[i]).then(
        (value) => ({ status: "fulfilled", value }) as const,
        (reason: unknown) => ({ status: "rejected", reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
