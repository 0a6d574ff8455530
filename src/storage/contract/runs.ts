/** Storage contract: the runs repository: creation under the multitask strategies, updates fenced by attempt, ends, event rows. */
import type { Metadata, MultitaskStrategy, Run, RunKwargs, RunStatus, ThreadStatus } from "../records.js";
import type { Page, Scope } from "./common.js";
import type { ThreadUpdate } from "./threads.js";

/** A running run and the process executing it (null: the only process there is). */
export interface ExecutingRun {
  run: Run;
  owner: string | null;
}

export interface RunCreate {
  /** default: a new uuid v7 (time ordered) */
  run_id?: string;
  thread_id: string;
  assistant_id: string;
  metadata?: Metadata;
  /** The run's parameters (input, command, config, stream modes...). */
  kwargs: RunKwargs;
  multitask_strategy: MultitaskStrategy;
  /** ISO time before which the run must not start (`after_seconds`). */
  not_before?: string | null;
  /** Merged into the thread's metadata when the run is accepted (e.g. graph_id, assistant_id). */
  thread_metadata?: Metadata;
  /**
   * The creating process executes the run at once if it can start now (no other active run of
   * its thread, no `not_before`): it is stored `running` under attempt 1, leased to `owner` for
   * `leaseMs`, in the creation's commit, so no claim has to follow (PostgreSQL; the embedded
   * backend refuses it). Otherwise it is stored `pending` as without it. A run so leased is
   * opened by its creation: its first event, `metadata` (run_id, attempt 1), is stored in that
   * commit too, unless it is a protocol run (whose metadata its execution makes): see
   * storage/postgres/run-events.ts `openingEvent`.
   */
  lease?: { owner: string; leaseMs: number };
}

export interface RunInsert {
  run: Run;
  /**
   * The thread's active (pending/running) runs at the moment of insertion, oldest
   * first: the `interrupt` and `rollback` strategies cancel these.
   */
  inflight: Run[];
}

/** What the run engine changes on a run; `updated_at` is bumped. */
export type RunUpdate = Partial<Pick<Run, "status" | "attempt" | "handoffs" | "cancel_reason" | "error">>;

export interface RunListQuery {
  status?: RunStatus;
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
}

export interface RunsRepository {
  /**
   * The multitask primitive: in ONE atomic step, reads the thread's active
   * (pending/running) runs, inserts the new `pending` run and marks the thread
   * `busy` (merging `thread_metadata` into its metadata). With strategy `reject`
   * and an active run present it throws ThreadBusyError (409) and changes nothing,
   * so of two racing creates at most one passes. (PostgreSQL: one transaction that
   * locks the thread row `FOR UPDATE`, selects the active runs, inserts the run and
   * updates the thread.) NotFoundError if the thread does not exist.
   *
   * Resolves once the run is durable. `applied`, when the backend calls it, comes as soon as
   * the run is stored and visible to reads, which on lowdb is before it is durable (the commit
   * log flushes shortly after); nothing started from there may be acknowledged to a client
   * before `create` resolves. A backend that does not call it: the caller goes on once
   * `create` resolves.
   */
  create(input: RunCreate, scope?: Scope, applied?: (insert: RunInsert) => void): Promise<RunInsert>;
  get(runId: string, scope?: Scope): Promise<Run>;
  /** Like `get`, and NotFoundError when the run belongs to another thread. */
  getInThread(threadId: string, runId: string, scope?: Scope): Promise<Run>;
  /** A thread's runs, newest first. */
  list(threadId: string, query?: RunListQuery, scope?: Scope): Promise<Page<Run>>;
  /** A thread's pending/running runs, oldest first. */
  active(threadId: string): Promise<Run[]>;
  /** Every run in `status`, oldest first (startup recovery, cancel by status). */
  withStatus(status: RunStatus, scope?: Scope): Promise<Run[]>;
  /**
   * The ids of the other server processes alive now, sorted (PostgreSQL: those recorded with their
   * worker lock held). Embedded: none (this process is the only one).
   */
  processes(): Promise<string[]>;
  /**
   * The running runs with the process executing each, oldest first. PostgreSQL: `owner` is the
   * run's lease owner, and only runs of live processes (their worker lock held) are listed: a
   * dead process's runs wait for a reaper and nobody executes them. Embedded: `owner` is null
   * (this one process executes every run).
   */
  executing(scope?: Scope): Promise<ExecutingRun[]>;
  update(runId: string, update: RunUpdate): Promise<Run>;
  /**
   * Compare-and-set: applies `update` only while the run is in `status` (one atomic step; in SQL
   * `UPDATE ... WHERE status = $status`). Returns the updated run, or null when it is in another
   * status. A cancel and a claim racing for a pending run cannot both win. NotFoundError if missing.
   * `attempt`: also only while the run is under that attempt (a fencing token: an execution putting
   * its run back to pending at shutdown changes nothing once another process took the run over).
   *
   * Resolves once the update is durable. `applied`, when the backend calls it, comes with the
   * updated run as soon as the update is visible to reads, before it is durable (lowdb); with
   * writes durable in order (`Storage.durableInOrder`) a later durable write carries it.
   */
  updateIf(runId: string, status: RunStatus, update: RunUpdate, attempt?: number, applied?: (run: Run) => void): Promise<Run | null>;
  delete(runId: string, scope?: Scope): Promise<void>;
  /** Deletes every run of a thread (the thread was deleted); returns how many. */
  deleteThread(threadId: string): Promise<number>;
  /**
   * Stores a run's end in one commit together with what must exist exactly when it does: the
   * webhook delivery it owes (`WebhookOutbox`). A crash leaves both or neither. Returns the run as
   * stored (as it was before deletion, for a rollback). NotFoundError if the run is gone.
   */
  end(runId: string, end: RunEnd): Promise<Run>;
  /**
   * `end`, only while the run is in `status` (compare-and-set, like `updateIf`): a cancel of a
   * pending run and a claim cannot both win. Null when it is in another status; NotFoundError if missing.
   */
  endIf(runId: string, status: RunStatus, end: RunEnd): Promise<Run | null>;
}

/** A run's end (see `RunsRepository.end`). */
export interface RunEnd {
  /** The run's terminal fields; null deletes the run (a cancel with rollback). */
  update: RunUpdate | null;
  /** The webhook POST the end owes; `payload` gets the run as stored. */
  webhook?: { url: string; payload: (stored: Run) => Record<string, unknown> };
  /**
   * The run as the caller last read it (its executor holds it): a backend storing the end in one
   * statement builds the webhook payload from it and the update instead of reading the row first.
   */
  run?: Run;
  /**
   * The run's last events and its end event, for a backend whose run events live in the
   * database (PostgreSQL's `run_events`): stored in the same commit, so no process can see the
   * run ended without its end event or the other way round. Brokers that keep events in memory
   * never pass it; the embedded backend refuses it.
   */
  events?: RunEventRows;
  /**
   * The thread's state after the run, stored in the same commit by a backend that stores a run's
   * end in one statement (PostgreSQL, with `events`): its `status` is the thread's unless another
   * run of the thread is active then (the thread stays `busy`). Only while the end is stored (not
   * for a run taken over). The embedded backend refuses it (its executor updates the thread, in
   * the same flush).
   */
  thread?: ThreadUpdate & { status: ThreadStatus };
}

/** Rows of a run's event log (see `RunEnd.events`). */
export interface RunEventRows {
  threadId: string;
  resumable: boolean;
  /** How long the rows stay once the run ended, s. */
  expiresSeconds: number;
  /**
   * The rows' `seq` count on from the run's stored rows (1 = the next one): written by a process
   * that does not execute the run (the end of a pending run cancelled), which cannot know them.
   */
  afterStored?: boolean;
  rows: Array<{ seq: number; mode: string; ns: string; data: string; checkpoint_id: string | null }>;
  /**
   * The execution writing them (the run's `attempt` when it was claimed): they are stored only
   * while the run is still running under that attempt, so an execution whose run another process
   * took over writes nothing more (a fencing token). Absent: no such check.
   */
  attempt?: number;
  /**
   * Events of a run that defers durability (LangGraph's `durability` other than "sync"): a batch
   * without the end may be stored without waiting to be durable, as its checkpoints are (see
   * SaveOptions); the run's end, stored after it, makes it durable. The end never is deferred.
   */
  deferDurability?: boolean;
}
