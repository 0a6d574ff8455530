/**
 * The event broker seam on PostgreSQL: a run's events are rows of `run_events`, so any process
 * can serve any client of any run, replay after a `Last-Event-ID` included.
 *
 * - The process executing a run (the only publisher, by its lease) numbers the events, after
 *   those of earlier attempts (`open` with `publisher`), and writes them in batches: one
 *   multi-row INSERT per run and event-loop turn, whose NOTIFY `lgts_run_events` (payload: the
 *   run id and the batch's last number) leaves when the rows are committed.
 * - A run's end is its last row (`mode = '__end__'`, the outcome as data), so subscribers see it
 *   after every event. The executor stores it with the run's end in one transaction
 *   (`closingEvents` -> `runs.end`), with the events no write has taken yet (the graph's last
 *   ones, held for it by the executor), and deleting a thread writes it for the thread's active
 *   runs (storage/postgres/run-events.ts): a process dying at any point leaves no waiter
 *   without an end. Its `expires_at` is when the run's rows are deleted: at once-ish for
 *   ordinary runs (a short grace for late readers), after the retention for resumable ones.
 * - A subscriber reads the rows after its cursor whenever a notice for its run arrives, unless
 *   it has the rows the notice announces (handed over by this process, which wrote them). On
 *   subscribing it reads the stream's state, and rows only when the state shows some it needs
 *   or an announcement came during that read; one that needs only the end of a run this
 *   process publishes reads nothing (a run leased at its creation is published from there).
 *   Should this process stop publishing the run before its end, its subscribers read the end.
 * - Events before a run's end may commit without waiting for the WAL flush when the run defers
 *   durability (as its checkpoints do); its end always waits, and makes them durable with it.
 * - A run's creation NOTIFYs `lgts_run_opened` (`<thread_id> <run_id>`) in its statement, for
 *   thread streams (storage/postgres/runs.ts): opening a run here writes nothing. A run leased
 *   at its creation has its first event (`metadata`) stored by that statement (run-events.ts
 *   `openingEvent`): its executor's `metadata` is that row, which subscribers here get from
 *   memory, so a client streaming the run it creates has it as soon as the run is accepted.
 * - A subscriber here to a run this process publishes from its first row, all of whose written
 *   rows this process knows (none yet, or the one its creation stored), reads nothing: the rows
 *   are handed over as they are committed.
 */
import type { Logger } from "pino";
import { ThreadWatchers } from "../runs/thread-watchers.js";
import {
  replayedEvents,
  replaysAfterId,
  type HeldRun,
  type OpenOptions,
  type RunEvent,
  type RunEventBroker,
  type RunOutcome,
  type RunSubscriber,
  type SubscribeOptions,
  type Unsubscribe,
} from "../runs/broker.js";
import type { RunEventRows } from "../../storage/types.js";
import {
  END_GRACE_SECONDS as GRACE_SECONDS,
  END_MODE as END,
  openingEvent,
  parseEventsNotice,
  RUN_EVENTS_CHANNEL,
  RUN_OPENED_CHANNEL,
  type PostgresRunEventLog,
  type StoredRunEvent,
} from "../../storage/postgres/run-events.js";
import type { Notifications } from "./notifications.js";

const PAGE = 500;
const SWEEP_MS = 30_000;
/** Backoff of reads and writes that failed (the database is away), ms. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;
/** How long a run's unwritten events are retried before they are given up (logged). */
const WRITE_GIVE_UP_MS = 60_000;

export interface PostgresRunEventBrokerOptions {
  /** The stored streams (storage/postgres/run-events.ts). */
  events: PostgresRunEventLog;
  notifications: Notifications;
  logger: Logger;
  /** How long a finished resumable run's events stay available. */
  retentionMs: number;
}

interface Publishing {
  threadId: string;
  resumable: boolean;
  /** The execution's attempt: its writes are refused once another process took the run over. */
  attempt: number | undefined;
  deferDurability: boolean;
  seq: number;
  /** Number of the last row handed to a write (committed or on its way). */
  sent: number;
  rows: StoredRunEvent[];
  writing: Promise<void> | null;
  /** A batch is on its way to the database (its write started and has not answered). */
  inserting: boolean;
  ended: boolean;
  /** Its writes were refused (the run was taken over): nothing more is written for this execution. */
  lost: boolean;
  /** The run's first row, stored by its creation (OpenOptions.openedByCreation); `published` once its executor published it. */
  opening: { row: StoredRunEvent; published: boolean } | null;
}

interface Tail {
  runId: string;
  subscriber: RunSubscriber;
  /** It gets only the end (SubscribeOptions.endOnly): events handed over here are not read back for it. */
  endOnly: boolean;
  cursor: number;
  ready: boolean;
  /** Rows were announced (a notice, a local hand-over, a resync) before it was ready: read once it is. */
  missed: boolean;
  pulling: boolean;
  again: boolean;
  done: boolean;
  /** Wait before reading again after a failed read. */
  retryMs: number;
}

function toEvent(row: StoredRunEvent): RunEvent {
  const event: RunEvent = { id: String(row.seq), mode: row.mode, ns: JSON.parse(row.ns) as string[], data: JSON.parse(row.data) };
  if (row.checkpoint_id !== null) event.checkpointId = row.checkpoint_id;
  return event;
}

export class PostgresRunEventBroker implements RunEventBroker {
  readonly #publishing = new Map<string, Publishing>();
  /** Batches handed over by `closingEvents`, until `finish` says whether they were committed. */
  readonly #closing = new Map<string, RunEventRows>();
  readonly #tails = new Map<string, Set<Tail>>();
  readonly #watchers = new ThreadWatchers();
  readonly #unlisten: Array<() => void> = [];
  #sweep: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(private readonly options: PostgresRunEventBrokerOptions) {}

  async start(): Promise<void> {
    const { notifications } = this.options;
    this.#unlisten.push(
      await notifications.on(RUN_EVENTS_CHANNEL, (payload) => {
        const { runId, last } = parseEventsNotice(payload);
        // rows this process writes are handed over to its subscribers once committed (the notice
        // may come first): nothing to read back
        const writtenHere = last !== undefined && last <= this.#sentUpTo(runId);
        for (const tail of this.#tails.get(runId) ?? []) {
          if (last === undefined || (tail.cursor < last && !writtenHere)) void this.#pull(tail);
        }
      }),
    );
    this.#unlisten.push(
      await notifications.on(RUN_OPENED_CHANNEL, (payload) => {
        const [threadId, runId] = payload.split(" ");
        this.#watchers.opened(threadId, runId);
      }),
    );
    this.#unlisten.push(
      notifications.onResync(() => {
        for (const tails of this.#tails.values()) for (const tail of tails) void this.#pull(tail);
      }),
    );
    this.#sweep = setInterval(() => void this.#deleteExpired(), SWEEP_MS);
    this.#sweep.unref();
  }

  async open(runId: string, options: OpenOptions): Promise<void> {
    // the run's creation announced it (RUN_OPENED_CHANNEL); only its publisher keeps anything here
    if (!options.publisher) return;
    // opened by the process that leased the run at its creation, then by its execution
    if (this.#publishing.get(runId)?.attempt === options.attempt && options.attempt !== undefined) return;
    // its creation stored its first row, which is all there is yet
    const opening = options.attempt === 1 && options.openedByCreation === true ? { row: openingEvent(runId), published: false } : null;
    // a first attempt has published nothing else yet: no need to ask where the numbering stands
    const last = options.attempt === 1 ? (opening ? 1 : 0) : await this.options.events.lastSeq(runId);
    this.#publishing.set(runId, {
      threadId: options.threadId,
      resumable: options.resumable ?? false,
      attempt: options.attempt,
      deferDurability: options.deferDurability ?? false,
      seq: last,
      sent: last,
      rows: [],
      writing: null,
      inserting: false,
      ended: false,
      lost: false,
      opening,
    });
  }

  isOpen(runId: string): Promise<boolean> {
    return this.options.events.isHeld(runId);
  }

  publish(runId: string, event: Omit<RunEvent, "id">): RunEvent {
    const publishing = this.#publishing.get(runId);
    if (!publishing || publishing.ended || publishing.lost) return { id: "0", ...event };
    if (publishing.opening && !publishing.opening.published && event.mode === "metadata") {
      // stored with the run's creation
      publishing.opening.published = true;
      return { id: String(publishing.opening.row.seq), ...event };
    }
    const full: RunEvent = { id: String(++publishing.seq), ...event };
    publishing.rows.push({
      seq: publishing.seq,
      mode: event.mode,
      ns: JSON.stringify(event.ns),
      data: JSON.stringify(event.data ?? null),
      checkpoint_id: event.checkpointId ?? null,
    });
    // the run's first event goes at once: its client waits for it
    this.#write(runId, publishing, event.mode === "metadata");
    return full;
  }

  async closingEvents(runId: string, outcome: RunOutcome): Promise<RunEventRows | null> {
    const publishing = this.#publishing.get(runId);
    if (!publishing || publishing.ended) return null;
    publishing.ended = true; // nothing more is published: the rest goes with the run's end
    // Rows no write has taken yet (the graph's last events, held until its end: event-relay.ts)
    // go in the end's commit: they reach no client before the end is durable, and the stream
    // closes right after them.
    const last = publishing.rows.splice(0);
    // the batch on its way has lower numbers: it is committed first (fenced by the attempt, it
    // would be refused once the end is stored), with any retries it needs
    while (publishing.inserting) await publishing.writing;
    const rows = [...publishing.rows.splice(0), ...last];
    rows.push({ seq: ++publishing.seq, mode: END, ns: "[]", data: JSON.stringify(outcome), checkpoint_id: null });
    if (this.#publishing.get(runId) === publishing) this.#publishing.delete(runId);
    const batch = { ...this.#batchOf(publishing), rows };
    this.#closing.set(runId, batch);
    return batch;
  }

  stoppedEvents(_runId: string, threadId: string, outcome: RunOutcome): RunEventRows {
    const end = { seq: 1, mode: END, ns: "[]", data: JSON.stringify(outcome), checkpoint_id: null };
    return { threadId, resumable: false, expiresSeconds: GRACE_SECONDS, afterStored: true, rows: [end] };
  }

  finish(runId: string, outcome: RunOutcome, endStored = false): void {
    const closing = this.#closing.get(runId);
    this.#closing.delete(runId);
    if (endStored) {
      // committed with the run's end: subscribers here get it now, the others by its NOTIFY
      if (closing) this.#deliverCommitted(runId, closing.rows);
      return;
    }
    if (closing) {
      // the executor's end was not stored: its end event is, only while the run is still its own
      this.#writeClosing(runId, closing);
      return;
    }
    const publishing = this.#publishing.get(runId);
    if (publishing?.lost) {
      this.#publishing.delete(runId);
      this.#readEnd(runId);
      return;
    }
    if (publishing && !publishing.ended) {
      publishing.ended = true;
      publishing.rows.push({ seq: ++publishing.seq, mode: END, ns: "[]", data: JSON.stringify(outcome), checkpoint_id: null });
      this.#write(runId, publishing);
      return;
    }
    this.options.events.finish(runId, JSON.stringify(outcome)).catch((error: unknown) => {
      this.options.logger.error({ err: error, run_id: runId }, "cannot record the end of a run");
    });
  }

  abandon(runId: string, attempt: number): void {
    if (this.#closing.get(runId)?.attempt === attempt) this.#closing.delete(runId);
    const publishing = this.#publishing.get(runId);
    if (publishing?.attempt !== attempt) return; // this process executes the run again, under a later attempt
    publishing.ended = true;
    publishing.rows.length = 0; // a write on its way stops after its batch
    this.#publishing.delete(runId);
    this.#readEnd(runId);
  }

  async subscribe(runId: string, subscriber: RunSubscriber, options: SubscribeOptions = {}): Promise<Unsubscribe | null> {
    const tail: Tail = {
      runId,
      subscriber,
      endOnly: options.endOnly === true,
      cursor: 0,
      ready: false,
      missed: false,
      pulling: false,
      again: false,
      done: false,
      retryMs: FIRST_RETRY_MS,
    };
    let tails = this.#tails.get(runId);
    if (!tails) this.#tails.set(runId, (tails = new Set()));
    // registered first: a notice arriving while the state is read is pulled once it is ready
    tails.add(tail);
    const unsubscribe = () => this.#drop(tail);
    if (tail.endOnly && this.#endComesHere(runId)) {
      // its end is handed over here once stored (or read, should this process stop publishing it)
      tail.ready = true;
      return unsubscribe;
    }
    const known = options.afterCheckpoint === undefined ? this.#allWritten(runId) : null;
    if (known) {
      // every later row is handed over here once committed (or read, should this process stop
      // publishing the run): nothing to read
      tail.cursor = replaysAfterId(options) ?? (options.lastEventId === undefined ? (known.at(-1)?.seq ?? 0) : 0);
      tail.ready = true;
      this.#deliver(tail, known);
      return unsubscribe;
    }
    try {
      const state = await this.options.events.state(runId);
      const ended = state.ended_held !== null;
      // An ended run's events are held for a resumable run's retention; a subscriber `fromStart`
      // (it streams the run it just created, say) also gets an ordinary run's rows until they
      // expire: the run may have ended before this read. Without its end row, a run is live
      // while active, or for a moment after its end was stored without one (a pending run
      // cancelled; attempts exhausted).
      const held = ended ? state.ended_held || (options.fromStart === true && state.ended_readable === true) : state.live;
      if (!held) {
        unsubscribe();
        return null;
      }
      const last = Number(state.last ?? 0);
      tail.cursor = tail.endOnly ? last : await this.#replayFrom(tail, options, last);
      tail.ready = true;
      // Rows committed after the state's snapshot are announced after the tail was registered:
      // by then, or later (read then). Nothing to read now unless the state says there is (rows
      // after the cursor, its end) or an announcement came while the state was read.
      if (ended || tail.cursor < last || tail.missed) await this.#pull(tail);
      return unsubscribe;
    } catch (error) {
      unsubscribe();
      throw error;
    }
  }

  /** Where the subscriber's live events start; delivers a replay after a checkpoint first. */
  async #replayFrom(tail: Tail, options: SubscribeOptions, last: number): Promise<number> {
    const after = replaysAfterId(options);
    if (after !== null) return after;
    if (options.afterCheckpoint === undefined) return options.lastEventId === undefined ? last : 0;
    const rows = await this.options.events.upTo(tail.runId, last);
    for (const event of replayedEvents(rows.map(toEvent), options)) tail.subscriber.event(event);
    return last;
  }

  async threadRuns(threadId: string): Promise<HeldRun[]> {
    const rows = await this.options.events.threadRuns(threadId);
    return rows.map((r) => ({ runId: r.run_id, active: r.active }));
  }

  watchThread(threadId: string, listener: (runId: string) => void): Unsubscribe {
    return this.#watchers.watch(threadId, listener);
  }

  /** Subscriptions held in this process (diagnostics, tests). */
  get subscribers(): number {
    let count = 0;
    for (const tails of this.#tails.values()) count += tails.size;
    return count;
  }

  /** Runs whose events this process writes or is about to (diagnostics, tests: 0 once its executions ended). */
  get publishers(): number {
    return this.#publishing.size + this.#closing.size;
  }

  /** Runs whose events this process follows (diagnostics, tests: 0 once every subscriber left). */
  get size(): number {
    return this.#tails.size;
  }

  /** Thread watchers registered in this process (diagnostics, tests). */
  get threadWatchers(): number {
    return this.#watchers.count;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    // each run's writes in flight, and the ones queued behind them
    await Promise.allSettled(
      [...this.#publishing.values()].map(async (publishing) => {
        while (publishing.writing) await publishing.writing;
      }),
    );
    for (const unlisten of this.#unlisten) unlisten();
    for (const tails of this.#tails.values()) for (const tail of tails) tail.done = true;
    this.#tails.clear();
  }

  #expiresSeconds(publishing: Publishing): number {
    return publishing.resumable ? this.options.retentionMs / 1000 : GRACE_SECONDS;
  }

  /** A batch's fields besides its rows. */
  #batchOf(publishing: Publishing): Omit<RunEventRows, "rows"> {
    return {
      threadId: publishing.threadId,
      resumable: publishing.resumable,
      expiresSeconds: this.#expiresSeconds(publishing),
      ...(publishing.attempt !== undefined ? { attempt: publishing.attempt } : {}),
      deferDurability: publishing.deferDurability,
    };
  }

  /** Writes the run's buffered rows: one INSERT at a time per run, batching what piles up meanwhile. */
  #write(runId: string, publishing: Publishing, atOnce = false): void {
    if (publishing.writing) return;
    publishing.writing = (async () => {
      // let the rest of this turn's events join the batch
      if (!atOnce) await new Promise<void>((resolve) => setImmediate(resolve));
      let retryMs = FIRST_RETRY_MS;
      let failingSince: number | null = null;
      while (publishing.rows.length > 0) {
        const batch = publishing.rows.splice(0);
        publishing.sent = batch[batch.length - 1].seq;
        try {
          publishing.inserting = true;
          const held = await this.options.events
            .insert(runId, { ...this.#batchOf(publishing), rows: batch })
            .finally(() => (publishing.inserting = false));
          if (!held) {
            // taken over (its lease) or ended meanwhile: the lease renewal stops this execution, whose
            // end is refused the same way; nothing more is written for it meanwhile
            this.options.logger.info(
              { run_id: runId, attempt: publishing.attempt },
              "run events not stored: the run is no longer held by this execution",
            );
            publishing.lost = true;
            publishing.rows.length = 0;
            this.#readEnd(runId);
            break;
          }
          this.#deliverCommitted(runId, batch);
          failingSince = null;
          retryMs = FIRST_RETRY_MS;
        } catch (error) {
          // the database is away: keep the events, in order, and write them once it is back
          failingSince ??= Date.now();
          if (this.#closed || Date.now() - failingSince > WRITE_GIVE_UP_MS) {
            this.options.logger.error({ err: error, run_id: runId, events: batch.length }, "cannot store a run's events; giving them up");
            continue;
          }
          this.options.logger.warn({ err: error, run_id: runId, events: batch.length }, "cannot store a run's events; retrying");
          publishing.rows.unshift(...batch);
          await new Promise<void>((resolve) => setTimeout(resolve, retryMs).unref());
          retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
        }
      }
    })().finally(() => {
      publishing.writing = null;
      if (publishing.rows.length > 0) this.#write(runId, publishing);
      else if (publishing.ended && this.#publishing.get(runId) === publishing) this.#publishing.delete(runId);
    });
  }

  /** The end event (and last events) of an execution whose end was not stored, fenced by its attempt. */
  #writeClosing(runId: string, batch: RunEventRows): void {
    this.options.events.insert(runId, batch).then(
      (held) => {
        if (held) this.#deliverCommitted(runId, batch.rows);
        else this.#readEnd(runId);
      },
      (error: unknown) => this.options.logger.error({ err: error, run_id: runId }, "cannot record the end of a run"),
    );
  }

  async #pull(tail: Tail): Promise<void> {
    if (tail.done) return;
    if (!tail.ready) {
      tail.missed = true;
      return;
    }
    if (tail.pulling) {
      tail.again = true;
      return;
    }
    tail.pulling = true;
    try {
      do {
        tail.again = false;
        const rows = await this.options.events.after(tail.runId, tail.cursor, PAGE);
        this.#deliver(tail, rows);
        if (rows.length === PAGE) tail.again = true;
      } while (tail.again && !tail.done);
      tail.retryMs = FIRST_RETRY_MS;
    } catch (error) {
      // the database is away: the notice of what comes next may already have passed, so read again by itself
      this.options.logger.warn({ err: error, run_id: tail.runId, retry_ms: tail.retryMs }, "cannot read a run's events; retrying");
      const retry = setTimeout(() => void this.#pull(tail), tail.retryMs);
      retry.unref();
      tail.retryMs = Math.min(tail.retryMs * 2, MAX_RETRY_MS);
    } finally {
      tail.pulling = false;
    }
  }

  /** Hands `rows` (in order) to the subscriber, skipping those it already had; stops at the end row. */
  #deliver(tail: Tail, rows: readonly StoredRunEvent[]): void {
    for (const row of rows) {
      if (tail.done) return;
      if (row.seq <= tail.cursor) continue; // delivered already (read back, or handed over locally)
      tail.cursor = row.seq;
      if (tail.endOnly && row.mode !== END) continue;
      if (row.mode === END) {
        this.#drop(tail);
        tail.subscriber.end(JSON.parse(row.data) as RunOutcome);
        return;
      }
      tail.subscriber.event(toEvent(row));
    }
  }

  /**
   * Subscribers in this process get rows this process just committed without reading them back
   * (the NOTIFY round trip and a SELECT): only when they follow on from the subscriber's cursor,
   * so nothing is skipped; the others catch up by reading. Rows are handed over once committed:
   * nobody hears of the end before it is durable, nor of an event of a run that does not defer
   * durability.
   */
  #deliverCommitted(runId: string, rows: readonly StoredRunEvent[]): void {
    const first = rows[0];
    if (!first) return;
    for (const tail of [...(this.#tails.get(runId) ?? [])]) {
      if (tail.done) continue;
      if (!tail.ready) {
        // one after the end only needs to read it
        if (!tail.endOnly || rows.some((row) => row.mode === END)) tail.missed = true;
        continue;
      }
      // one behind (it missed rows in between) reads: the notice of these rows did not make it;
      // one after the end only needs no rows before it
      if (tail.endOnly || tail.cursor + 1 >= first.seq) this.#deliver(tail, rows);
      else void this.#pull(tail);
    }
  }

  /**
   * Whether this process publishes the run and has not handed its end over yet: it will (with
   * its end's commit), or stops publishing it first (`#readEnd`).
   */
  #endComesHere(runId: string): boolean {
    const publishing = this.#publishing.get(runId);
    return (publishing !== undefined && !publishing.ended && !publishing.lost) || this.#closing.has(runId);
  }

  /**
   * The rows of a run this process publishes from its first row, when it knows every row written
   * so far (none, or the one its creation stored; committed): null otherwise.
   */
  #allWritten(runId: string): StoredRunEvent[] | null {
    const publishing = this.#publishing.get(runId);
    if (!publishing || publishing.ended || publishing.lost) return null;
    const opening = publishing.opening ? [publishing.opening.row] : [];
    return publishing.sent === opening.length ? opening : null;
  }

  /** This process will not hand the run's end over (another process stores it, or did): its subscribers here read it. */
  #readEnd(runId: string): void {
    for (const tail of this.#tails.get(runId) ?? []) void this.#pull(tail);
  }

  /** Number of the last row of the run this process handed to a write (0: none). */
  #sentUpTo(runId: string): number {
    const publishing = this.#publishing.get(runId);
    if (publishing) return publishing.sent;
    return this.#closing.get(runId)?.rows.at(-1)?.seq ?? 0;
  }

  #drop(tail: Tail): void {
    tail.done = true;
    const tails = this.#tails.get(tail.runId);
    if (tails?.delete(tail) && tails.size === 0) this.#tails.delete(tail.runId);
  }

  async #deleteExpired(): Promise<void> {
    try {
      await this.options.events.deleteExpired();
    } catch (error) {
      this.options.logger.warn({ err: error }, "cannot delete expired run events");
    }
  }
}
