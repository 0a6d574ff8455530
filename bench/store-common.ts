/** What both storage benchmarks (bench/store.ts, bench/store-postgres.ts) measure with and store. */
import { performance } from "node:perf_hooks";
import { quantiles, type Quantiles } from "./support.js";

export type OpStats = Quantiles;

/** Latencies of `n` sequential calls. */
export async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<OpStats> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    samples.push(performance.now() - t0);
  }
  return quantiles(samples);
}

/** A thread-sized payload: metadata as a UI would set it, a short conversation in values. */
export const metadataFor = (i: number) => ({
  user_id: `user-${i % 997}`,
  graph_id: i % 3 ? "agent" : "rag",
  title: `Conversation number ${i}`,
});
export const valuesFor = (i: number) => ({
  messages: [
    { type: "human", content: `Hello, this is message ${i}. Can you help me with my order?` },
    { type: "ai", content: "Of course! Could you share the order number and what went wrong with it?" },
  ],
});
