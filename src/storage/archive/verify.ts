/**
 * Checking a move between storages: the counts per kind, and a sample of threads (their record,
 * history, runs) and of store items, read through the repositories the API reads through.
 */
import { isDeepStrictEqual } from "node:util";
import type { Storage } from "../types.js";
import { BATCH_SIZE, storageCounts } from "./copy.js";
import { countsDiffer, type ArchiveCounts } from "./format.js";

export interface VerifyReport {
  source: ArchiveCounts;
  target: ArchiveCounts;
  /** Threads and store items compared. */
  sampled: { threads: number; storeItems: number };
  /** What differs, one line each (empty: the move is verified). */
  problems: string[];
}

/** A read of one thread compared on both sides (e.g. its state as the API computes it). */
export interface ThreadRead {
  what: string;
  read(storage: Storage, threadId: string): Promise<unknown>;
}

/** Up to `size` items of a stream, each equally likely (reservoir sampling: memory is the sample). */
async function sample<T>(batches: AsyncIterable<T[]>, size: number): Promise<T[]> {
  const chosen: T[] = [];
  let seen = 0;
  for await (const batch of batches) {
    for (const item of batch) {
      seen++;
      if (chosen.length < size) chosen.push(item);
      else {
        const slot = Math.floor(Math.random() * seen);
        if (slot < size) chosen[slot] = item;
      }
    }
  }
  return chosen;
}

/** JSON as a client receives it: undefined fields gone, key order irrelevant. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null)) as unknown;

/** Where two JSON values first differ (`[0].updated_at: "a" / "b"`), or null when they are equal. */
export function firstDifference(a: unknown, b: unknown, at = ""): string | null {
  if (isDeepStrictEqual(a, b)) return null;
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const found = firstDifference(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        Array.isArray(a) ? `${at}[${key}]` : `${at}.${key}`,
      );
      if (found) return found;
    }
  }
  const shown = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v).slice(0, 80));
  return `${at || "(whole)"}: ${shown(a)} / ${shown(b)}`;
}

async function settle<T>(read: Promise<T>): Promise<T | string> {
  return read.catch((error: unknown) => `error: ${(error as Error).message}`);
}

/**
 * Compares `target` with `source`. `exactCounts`: the target held nothing before, so every count
 * must match (otherwise it may hold more).
 */
export async function verifyCopy(
  source: Storage,
  target: Storage,
  options: { sampleSize: number; exactCounts: boolean; threadReads?: readonly ThreadRead[] },
): Promise<VerifyReport> {
  const [sourceCounts, targetCounts] = [await storageCounts(source), await storageCounts(target)];
  const problems = (options.exactCounts ? countsDiffer(sourceCounts, targetCounts) : []).map(
    (kind) => `${kind}: ${sourceCounts[kind]} in the source, ${targetCounts[kind]} in the target`,
  );
  const { threads, items } = await source.archive.snapshot(async (view) => ({
    threads: await sample(view.records("thread", BATCH_SIZE), options.sampleSize),
    items: await sample(view.records("store_item", BATCH_SIZE), options.sampleSize),
  }));
  for (const { thread_id } of threads) {
    const reads: Array<[string, (s: Storage) => Promise<unknown>]> = [
      ["thread", (s) => s.threads.get(thread_id)],
      ["history", (s) => s.checkpoints.list({ thread_id })],
      // runs stored before `handoffs` existed have none, which means 0 (PostgreSQL's column default)
      ["runs", async (s) => (await s.runs.list(thread_id, { limit: 10_000 })).items.map((run) => ({ ...run, handoffs: run.handoffs ?? 0 }))],
      ...(options.threadReads ?? []).map(({ what, read }): [string, (s: Storage) => Promise<unknown>] => [what, (s) => read(s, thread_id)]),
    ];
    for (const [what, read] of reads) {
      const differs = firstDifference(asJson(await settle(read(source))), asJson(await settle(read(target))));
      if (differs) problems.push(`thread ${thread_id}: its ${what} differs (source / target at ${differs})`);
    }
  }
  for (const { namespace, key } of items) {
    const read = (s: Storage) => settle(s.storeItems.get(namespace, key));
    const differs = firstDifference(asJson(await read(source)), asJson(await read(target)));
    if (differs) problems.push(`store item ${JSON.stringify([...namespace, key])} differs (source / target at ${differs})`);
  }
  return { source: sourceCounts, target: targetCounts, sampled: { threads: threads.length, storeItems: items.length }, problems };
}
