/** Latency summaries the benchmarks print. */
export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function quantiles(samples: number[]): Quantiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** `p50 … ms  p90 … ms  p99 … ms  max … ms` with `digits` decimals. */
export function formatQuantiles(q: Quantiles, digits = 1): string {
  const ms = (value: number) => `${value.toFixed(digits)} ms`;
  return `p50 ${ms(q.p50)}  p90 ${ms(q.p90)}  p99 ${ms(q.p99)}  max ${ms(q.max)}`;
}
